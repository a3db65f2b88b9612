"""/labs: the index of labs, a page per lab that runs it and polls its progress, and its JSON.

A run starts in a background thread on the server (`runner.start_run`); the page swaps in the
run's block and htmx polls it until the run is done, when the block carries the chart and the
tables instead of the progress bars. Without JavaScript the form posts and redirects to the run's
page, which shows the same block.

`api_router` publishes the same runs as JSON: one `POST /api/v1/labs/NAME/runs` per lab, its body
the lab's options model, so /openapi.json shows each lab's options with their bounds and
FastAPI refuses a bad value with a 422 before the lab is touched.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Body, Request, Response

from lens.labs import LABS
from lens.labs.lab import Lab, LabOptions, LabView, build_options, option_specs
from lens.labs.runner import LabRun, active_run, cancel_run, get_run, start_run
from lens.labs.schemas import LabOut, LabRunOut, LabsOut, OptionOut
from shared.access_patterns import access_patterns
from shared.dynamo import base_table_name, registered_models
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from shared.i18n import N_
from shared.i18n import gettext as _
from shared.settings import active_settings
from shared.web import htmx_redirect, is_htmx, render

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1/labs", tags=["labs"])
POLL = "every 700ms"
NOT_IN_PRODUCTION = N_(
    "Labs are not run by a production server: each run starts an engine and loads it hard. "
    "Run it in a terminal with manage.py lab instead."
)


@dataclass(frozen=True)
class MirrorLink:
    kind: str
    name: str
    why: str
    href: str | None


def _mirror_links(lab: Lab) -> list[MirrorLink]:
    """Each mirrored class links to its table on /design, each service function to its source
    when it serves a declared access pattern."""
    served = {pattern.function for pattern in access_patterns()}
    tables = {f"{m.__module__}.{m.__name__}": base_table_name(m) for m in registered_models()}
    links = []
    for mirror in lab.mirrors:
        href = None
        if mirror.kind == "model" and mirror.name in tables:
            href = f"/design#table-{tables[mirror.name]}"
        elif mirror.kind == "service" and mirror.name in served:
            href = f"/design/code/{mirror.name}"
        links.append(MirrorLink(mirror.kind, mirror.name, mirror.why, href))
    return links


def _lab(name: str) -> Lab:
    lab = LABS.get(name)
    if lab is None:
        raise NotFound(
            _("There is no lab named {name!r}. The labs: {value}.").format(
                name=name, value=", ".join(LABS)
            )
        )
    return lab


def _view(run: LabRun | None) -> LabView | None:
    if run is None or run.result is None:
        return None
    return run.lab.view(run.result)


def _context(
    lab: Lab, run: LabRun | None, values: dict[str, Any] | None = None, problem: str = ""
) -> dict[str, Any]:
    """The page's context; the form's fields are the lab's options, each with the value the
    learner typed (after a refusal) or its default."""
    fields = [
        {"spec": spec, "value": (values or {}).get(spec.name, spec.text_default)}
        for spec in option_specs(lab.options)
    ]
    return {
        "lab": lab,
        "fields": fields,
        "mirrors": _mirror_links(lab),
        "run": run,
        "view": _view(run),
        "poll": POLL,
        "problem": problem,
        "busy": active_run(),
        "runs_here": active_settings().is_dev,
    }


@router.get("/labs")
def labs_index(request: Request) -> Response:
    """Every lab, with what it proves and the command that runs it in a terminal."""
    return render(request, "lens/labs.html", {"labs": list(LABS.values()), "busy": active_run()})


@router.get("/labs/{name}")
def lab_page(request: Request, name: str) -> Response:
    return render(request, "lens/lab.html", _context(_lab(name), None))


@router.post("/labs/{name}/runs")
async def start_lab_run(request: Request, name: str) -> Response:
    """Start a run with the form's options; a bad value or a busy server is said in the run's
    place on the page, with the form kept as it was."""
    lab = _lab(name)
    form = await request.form()
    raw = {key: str(value) for key, value in form.items() if key != "csrf_token"}
    try:
        _refuse_in_production()
        run = start_run(lab, build_options(lab.options, raw))
    except (InvalidInput, Conflict, Forbidden) as error:
        ctx = _context(lab, None, raw, problem=error.detail)
        return render(request, "lens/lab.html", ctx, block="run", status_code=error.status_code)
    if is_htmx(request):
        return render(request, "lens/lab.html", _context(lab, run), block="run")
    return htmx_redirect(request, f"/labs/{lab.name}/runs/{run.id}")


def _refuse_in_production() -> None:
    if not active_settings().is_dev:
        raise Forbidden(_(NOT_IN_PRODUCTION))


def _run_of(lab: Lab, run_id: str) -> LabRun:
    run = get_run(run_id)
    if run is None or run.lab is not lab:
        raise NotFound(
            _("No such run: runs are kept in memory, and the server may have restarted.")
        )
    return run


@router.get("/labs/{name}/runs/{run_id}")
def lab_run_page(request: Request, name: str, run_id: str) -> Response:
    """The lab's page with one run; htmx polls its block while it runs."""
    lab = _lab(name)
    return render(request, "lens/lab.html", _context(lab, _run_of(lab, run_id)), block="run")


@router.post("/labs/{name}/runs/{run_id}/cancel")
def cancel_lab_run(request: Request, name: str, run_id: str) -> Response:
    """Stop a run at its next progress report; the block keeps polling until it has stopped."""
    lab = _lab(name)
    run = cancel_run(_run_of(lab, run_id))
    if is_htmx(request):
        return render(request, "lens/lab.html", _context(lab, run), block="run")
    return htmx_redirect(request, f"/labs/{lab.name}/runs/{run.id}")


def api_router(labs: Mapping[str, Lab]) -> APIRouter:
    """The labs' JSON: the routes every lab shares, plus a start route per lab whose body is
    that lab's options model."""
    router = APIRouter()
    for lab in labs.values():
        router.add_api_route(
            f"{api.prefix}/{lab.name}/runs",
            _starter(lab),
            methods=["POST"],
            response_model=LabRunOut,
            status_code=202,
            tags=["labs"],
            name=f"start_{lab.name.replace('-', '_')}_run",
            summary=f"Start a {lab.name} run",
            description=(
                f"{lab.proves} Poll `GET {api.prefix}/{lab.name}/runs/{{run_id}}` until its "
                "`status` is `done`; one lab runs at a time (409 while another runs)."
            ),
        )
    router.include_router(api)
    return router


def _starter(lab: Lab) -> Callable[..., LabRunOut]:
    """The start route of one lab: its signature names the lab's options model, which is how
    FastAPI validates the body and publishes its schema."""

    def start(options: LabOptions) -> LabRunOut:
        _refuse_in_production()
        return LabRunOut.model_validate(start_run(lab, options).as_dict())

    body = inspect.Parameter(
        "options",
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
        annotation=Annotated[lab.options, Body()],
    )
    start.__signature__ = inspect.Signature([body], return_annotation=LabRunOut)  # type: ignore[attr-defined]
    return start


@api.get("", response_model=LabsOut, summary="List the labs")
def labs_json() -> LabsOut:
    """Every lab: name, title, what it proves, its options with defaults and bounds."""
    return LabsOut(
        labs=[
            LabOut(
                name=lab.name,
                title=lab.title,
                proves=lab.proves,
                options={
                    spec.name: OptionOut(
                        flag=spec.flag, default=spec.default, low=spec.low, high=spec.high
                    )
                    for spec in option_specs(lab.options)
                },
                options_schema=lab.options.model_json_schema(),
            )
            for lab in LABS.values()
        ]
    )


@api.get(
    "/{name}/runs/{run_id}", response_model=LabRunOut, summary="A lab run's status and results"
)
def lab_run_json(name: str, run_id: str) -> LabRunOut:
    """A run's status, progress and, once done, the same document as `manage.py lab NAME
    --format json`. Runs are started from the lab's page and kept in memory."""
    lab = _lab(name)
    return LabRunOut.model_validate(_run_of(lab, run_id).as_dict())


@api.post(
    "/{name}/runs/{run_id}/cancel",
    response_model=LabRunOut,
    status_code=202,
    summary="Stop a lab run",
)
def cancel_lab_run_json(name: str, run_id: str) -> LabRunOut:
    """Ask a running lab to stop: it does at its next progress report (`cancelling` until
    then, `cancelled` after). A finished run is returned as it is."""
    lab = _lab(name)
    return LabRunOut.model_validate(cancel_run(_run_of(lab, run_id)).as_dict())
