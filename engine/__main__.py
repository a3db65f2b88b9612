"""`python -m engine`: see `engine.server`."""

from engine.server import main

raise SystemExit(main())
