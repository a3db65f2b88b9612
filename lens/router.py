"""The /design page: the table design, generated from the model classes, in the browser.

Every access pattern with a page becomes a "run it" link filled with a real value that a context
registered (`register_example`), and links to the source of the service function that serves it.
"""

from __future__ import annotations

import inspect
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import ModuleType
from urllib.parse import quote

from fastapi import APIRouter, Request, Response

from lens.design import Design, code_of_access_pattern, describe_design, japanese_doc
from lens.explorer_router import builder_url
from shared.access_patterns import access_patterns
from shared.errors import NotFound
from shared.i18n import gettext as _
from shared.settings import active_settings
from shared.web import render

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)
code_router = APIRouter(include_in_schema=False)
"""The source views: off in production unless CODE_VIEWS_ENABLED says otherwise."""
api = APIRouter(prefix="/api/v1", tags=["design"])


_examples: dict[str, Callable[[], str | None]] = {}
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def register_example(placeholder: str, provider: Callable[[], str | None]) -> None:
    """A context names a real value for a placeholder of its pages (`{post_id}` -> the newest
    post), so an access pattern's page becomes a link the learner can click."""
    _examples[placeholder] = provider


def runnable_url(page: str | None, examples: Mapping[str, str | None]) -> str | None:
    """The page with its placeholders filled in, or None when one has no example."""
    if not page or not page.startswith("/") or page.startswith("//"):
        return None
    missing = [name for name in _PLACEHOLDER.findall(page) if not examples.get(name)]
    if missing:
        return None
    return _PLACEHOLDER.sub(lambda m: quote(str(examples[m.group(1)]), safe=""), page)


@dataclass(frozen=True)
class Package:
    """One top-level package of the house, as the /design page lists it."""

    name: str
    kind: str
    summary: str
    summary_ja: str


_layout: list[Package] = []


def show_layout(kind: str, packages: Iterable[ModuleType]) -> None:
    """The composition root names the packages of each kind (context, kernel, lens, engine);
    the page shows each with the first line of its docstring. Idempotent."""
    for package in packages:
        summary = (inspect.getdoc(package) or "").split("\n\n")[0].replace("\n", " ")
        summary_ja = japanese_doc(package).split("\n\n")[0].replace("\n", "")
        entry = Package(package.__name__, kind, summary, summary_ja)
        if entry not in _layout:
            _layout.append(entry)


def current_examples() -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for name, provider in _examples.items():
        try:
            found[name] = provider()
        except Exception:  # noqa: BLE001 - a missing example only leaves a link unclickable
            log.warning("no example value for {%s}", name, exc_info=True)
            found[name] = None
    return found


@router.get("/design")
def design_page(request: Request) -> Response:
    """Every table, its keys and indexes, and the access patterns each serves."""
    examples = current_examples()
    ctx = {
        "design": describe_design(),
        "runnable": lambda page: runnable_url(page, examples),
        "code_views": active_settings().code_views_enabled,
        "builder": lambda table, pattern: builder_url(table, pattern, examples),
        "layout": list(_layout),
    }
    return render(request, "lens/design.html", ctx)


@code_router.get("/design/code/{function}")
def access_pattern_code(request: Request, function: str) -> Response:
    """The source of the service function behind an access pattern, to read beside its keys."""
    found = code_of_access_pattern(function)
    if found is None:
        raise NotFound(
            _("No declared access pattern is served by {function!r}.").format(function=function)
        )
    location, source = found
    patterns = [p for p in access_patterns() if p.function == function]
    ctx = {"function": function, "location": location, "source": source, "patterns": patterns}
    return render(request, "lens/design_code.html", ctx)


@api.get("/design")
def design_json() -> Design:
    """The same design as `manage.py describe --format json`."""
    return describe_design()
