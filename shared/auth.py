"""Who is making the request, as every context sees it.

The sessions context owns how a viewer is found (cookie, DynamoDB session item); it installs
its resolver here at start-up, so other contexts depend on this small interface and never on
the sessions table.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from shared.errors import NotAuthenticated
from shared.i18n import gettext as _

SESSION_COOKIE = "lab_session"
ANON_COOKIE = "lab_anon"


@dataclass(frozen=True)
class Viewer:
    user_id: str
    username: str
    display_name: str


_resolver: Callable[[Request], Viewer | None] | None = None


def install_viewer_resolver(resolver: Callable[[Request], Viewer | None]) -> None:
    global _resolver
    _resolver = resolver


def optional_viewer(request: Request) -> Viewer | None:
    """The signed-in viewer or None; resolved once per request."""
    if not hasattr(request.state, "viewer"):
        request.state.viewer = _resolver(request) if _resolver else None
    return request.state.viewer  # type: ignore[no-any-return]


def require_viewer(request: Request) -> Viewer:
    viewer = optional_viewer(request)
    if viewer is None:
        raise NotAuthenticated(_("You need to sign in first."))
    return viewer


def token_hash(token: str) -> str:
    """What the server stores and compares instead of a bearer token itself."""
    return hashlib.sha256(token.encode()).hexdigest()


CurrentViewer = Annotated[Viewer, Depends(require_viewer)]
"""A route parameter: the signed-in viewer, or a 401 before the route runs."""
OptionalViewer = Annotated[Viewer | None, Depends(optional_viewer)]
"""A route parameter: the signed-in viewer or None."""
