"""/tour: the overview with this browser's progress, one page per step, and "done" buttons.

Links into the app are filled with real values (the newest post, its author) the same way the
design page fills its "run it" links, so every "do this" is one click.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from lens import tour
from lens.links import current_examples, runnable_url
from shared.access_patterns import access_patterns
from shared.errors import NotFound
from shared.i18n import current_language
from shared.i18n import gettext as _
from shared.web import render

router = APIRouter(include_in_schema=False)
StepNumber = Annotated[int, Path(description="A step of the tour, from 1")]


def _done(request: Request) -> frozenset[int]:
    return tour.progress_from_cookie(request.cookies.get(tour.PROGRESS_COOKIE))


def _remember(response: Response, done: frozenset[int]) -> Response:
    response.set_cookie(
        tour.PROGRESS_COOKIE,
        tour.progress_cookie_value(done),
        max_age=tour.PROGRESS_MAX_AGE,
        httponly=True,
        samesite="lax",
    )
    return response


@router.get("/tour")
def tour_page(request: Request) -> Response:
    """Every step with its state, and how many this browser has done."""
    done = _done(request)
    steps = [(number, step, number in done) for number, step in enumerate(tour.STEPS, 1)]
    first_open = next((number for number, _step, is_done in steps if not is_done), None)
    ctx = {"steps": steps, "done_count": len(done), "total": len(tour.STEPS), "next": first_open}
    return render(request, "lens/tour.html", ctx)


def _step(number: int) -> tour.Step:
    step = tour.step_at(number)
    if step is None:
        raise NotFound(_("The tour has no step {number}.").format(number=number))
    return step


def _do_url(page: str) -> str | None:
    """The step's page with real values for its placeholders (None while there are none)."""
    path, _hash, fragment = page.partition("#")
    url = runnable_url(path, current_examples())
    return f"{url}#{fragment}" if url and fragment else url


@router.get("/tour/{number}")
def tour_step(request: Request, number: StepNumber) -> Response:
    step = _step(number)
    served = {pattern.function for pattern in access_patterns()}
    done = _done(request)
    ctx = {
        **tour.step_view(step, number, current_language()),
        "do_url": _do_url(step.do_page),
        "has_code_page": step.function in served,
        "done": number in done,
        "done_count": len(done),
        "total": len(tour.STEPS),
    }
    return render(request, "lens/tour_step.html", ctx)


@router.post("/tour/{number}/done")
def mark_done(request: Request, number: StepNumber) -> Response:
    """Remember the step in this browser and go on to the next (or back to the overview)."""
    _step(number)
    done = _done(request) | {number}
    following = number + 1 if number < len(tour.STEPS) else None
    url = f"/tour/{following}" if following else "/tour"
    return _remember(Response(status_code=303, headers={"Location": url}), done)


@router.post("/tour/reset")
def reset(request: Request) -> Response:
    return _remember(Response(status_code=303, headers={"Location": "/tour"}), frozenset())
