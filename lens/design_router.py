"""The /design page: the table design, generated from the model classes, in the browser.

Every access pattern with a page becomes a "run it" link filled with a real value
(`lens.links`), and links to the source of the service function that serves it.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from lens.design import Design, code_of_access_pattern, describe_design, layout
from lens.links import builder_url, current_examples, runnable_url
from lens.single_table.design import single_table_design
from shared.access_patterns import access_patterns
from shared.errors import NotFound
from shared.i18n import gettext as _
from shared.settings import active_settings
from shared.web import render

router = APIRouter(include_in_schema=False)
code_router = APIRouter(include_in_schema=False)
"""The source views: off in production unless CODE_VIEWS_ENABLED says otherwise."""
api = APIRouter(prefix="/api/v1", tags=["design"])


@router.get("/design")
def design_page(request: Request) -> Response:
    """Every table, its keys and indexes, and the access patterns each serves."""
    examples = current_examples()
    ctx = {
        "design": describe_design(),
        "runnable": lambda page: runnable_url(page, examples),
        "code_views": active_settings().code_views_enabled,
        "builder": lambda table, pattern: builder_url(table, pattern, examples),
        "layout": layout(),
        **single_table_design(),
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


@api.get("/design", summary="The design: tables, indexes and access patterns")
def design_json() -> Design:
    """The same design as `manage.py describe --format json`."""
    return describe_design()
