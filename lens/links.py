"""Links from the lens's pages into the app: "run it" and "open it in the explorer".

An access pattern's page (`/posts/{post_id}`) becomes a link the learner can click once a real
value fills each placeholder; the composition root registers where those values come from (the
newest post, its author). The design page and the tour link with them, and the design page and
the explorer open a table's page with its operation builder filled in.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from urllib.parse import quote, urlencode

from lens import operations
from lens.design import PatternDesign, TableDesign

log = logging.getLogger(__name__)

_examples: dict[str, Callable[[], str | None]] = {}
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def register_example(placeholder: str, provider: Callable[[], str | None]) -> None:
    """A context names a real value for a placeholder of its pages (`{post_id}` -> the newest
    post), so an access pattern's page becomes a link the learner can click."""
    _examples[placeholder] = provider


def current_examples() -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for name, provider in _examples.items():
        try:
            found[name] = provider()
        except Exception:  # noqa: BLE001 - a missing example only leaves a link unclickable
            log.warning("no example value for {%s}", name, exc_info=True)
            found[name] = None
    return found


def runnable_url(page: str | None, examples: Mapping[str, str | None]) -> str | None:
    """The page with its placeholders filled in, or None when one has no example."""
    if not page or not page.startswith("/") or page.startswith("//"):
        return None
    missing = [name for name in _PLACEHOLDER.findall(page) if not examples.get(name)]
    if missing:
        return None
    return _PLACEHOLDER.sub(lambda m: quote(str(examples[m.group(1)]), safe=""), page)


def builder_url(
    table: TableDesign, pattern: PatternDesign, examples: dict[str, str | None]
) -> str | None:
    """The table page with the builder filled with an access pattern's key condition; None for
    a pattern the builder cannot run (a write, a batch)."""
    if not operations.builder_runs(pattern):
        return None
    fields = {"index": pattern.index or "", **operations.prefill(table, pattern, examples)}
    query = urlencode({name: value for name, value in fields.items() if value})
    return f"/tables/{quote(table.table_name, safe='')}?{query}#builder"


def partition_url(table: str, partition_key: str, index: str | None = None) -> str:
    """The page of one item collection (a key may hold `#`, `/` or spaces: quoted whole)."""
    url = f"/tables/{quote(table, safe='')}/partitions/{quote(partition_key, safe='')}"
    return f"{url}?{urlencode({'index': index})}" if index else url
