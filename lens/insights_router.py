"""/insights and GET /api/v1/insights: the partition keys that take the traffic, live.

The page redraws its block every few seconds with htmx; the API answers one table (as its
model class names it, without the prefix) or one of its indexes.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from lens.insights import WINDOWS, TargetTraffic, recorder
from shared.dynamo import models_by_table
from shared.errors import InvalidInput, NotFound
from shared.i18n import gettext as _
from shared.web import render

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["insights"])
POLL = "every 3s"
PAGE_KEYS = 12
Window = Annotated[int, Query(description="Minutes to look back: 1, 5 or 60.")]


class KeyOut(BaseModel):
    partition_key: str
    reads: int
    writes: int
    throttled: int
    error: int = Field(description="How much of the counts may belong to keys the sketch dropped.")
    share: float = Field(description="Share of the table's (or index's) requests in the window.")


class InsightsOut(BaseModel):
    table: str
    index: str | None
    window_minutes: Literal[1, 5, 60]
    requests: int
    keys: list[KeyOut]


def _window(window: int) -> int:
    if window not in WINDOWS:
        raise InvalidInput(_("The window is 1, 5 or 60 minutes."), field="window")
    return window


@router.get("/insights")
def insights_page(request: Request, window: Window = 5) -> Response:
    """Every table and index with its busiest partition keys in the window."""
    ctx = {
        "window": _window(window),
        "windows": WINDOWS,
        "targets": recorder.traffic(window, limit=PAGE_KEYS),
        "poll": POLL,
    }
    return render(request, "lens/insights.html", ctx, block="live")


@api.get("/insights", summary="The busiest partition keys")
def api_insights(
    table: Annotated[str, Query(description="A table as its model class names it: likes.")],
    window: Window = 5,
    index: Annotated[str | None, Query(description="One of the table's GSIs.")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> InsightsOut:
    """The busiest partition keys of one table (or index): reads, writes and throttled
    requests in the last 1, 5 or 60 minutes, counted where the app makes its calls."""
    if table not in models_by_table():
        raise NotFound(_("No table of the app is called {table}.").format(table=table))
    found = _of(recorder.traffic(_window(window), limit=limit), table, index)
    return InsightsOut(
        table=table,
        index=index,
        window_minutes=window,  # type: ignore[arg-type]
        requests=found.requests if found else 0,
        keys=[KeyOut(**key.as_dict()) for key in found.keys] if found else [],
    )


def _of(targets: list[TargetTraffic], table: str, index: str | None) -> TargetTraffic | None:
    return next((t for t in targets if t.table == table and t.index == index), None)
