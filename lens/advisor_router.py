"""/design/advice: the design advisor's findings, from the measurement of the app's pages."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from lens.advisor import advise
from lens.measure import measurement_for_page
from shared.web import render

router = APIRouter(include_in_schema=False)
POLL = "every 2s"


@router.get("/design/advice")
def advice_page(request: Request) -> Response:
    """Every finding, errors first, each with where, why and the lab that proves the cure."""
    measurement, state = measurement_for_page()
    findings = advise(measurement) if measurement is not None else None
    ctx = {"findings": findings, "measurement": measurement, "poll": POLL, **state}
    return render(request, "lens/advice.html", ctx, block="findings")
