"""Running a lab: on a private engine it starts itself, or on an endpoint it is given.

`run_lab` is what the CLI calls and what a web run does in a background thread. The private
engine is a fresh in-memory instance of the project's embedded engine with exactly the options
the lab needs (a per-partition write limit, a fast TTL sweep), so a lab never touches the app's
data, needs no set-up and shows the same thing on every machine.

Web runs are kept in memory (`start_run`, `get_run`). One lab runs at a time per server: each
one starts an engine and loads it hard, and two at once would skew each other's figures.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import logging
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from lens.labs.context import LabCancelled, LabContext, ProgressSink, no_progress
from lens.labs.lab import Lab, LabOptions, Result
from shared.errors import Conflict
from shared.i18n import gettext as _
from shared.settings import active_settings

log = logging.getLogger(__name__)
KEPT_RUNS = 20
ELSEWHERE_CAPACITY = (
    "Reported capacity is what this engine returned: on real DynamoDB it is what you are "
    "billed; an emulator may return placeholders (stock moto: 1 per Query or Scan page, "
    "whatever it read). The computed figures follow AWS's rules on any engine."
)


@contextlib.contextmanager
def lab_engine(lab: Lab, options: Any, endpoint: str | None) -> Iterator[tuple[str, bool]]:
    """(endpoint, private): the given endpoint, or a private in-memory engine for the run."""
    if endpoint:
        yield endpoint, False
        return
    from engine.launcher import LocalEngine

    with LocalEngine(**lab.engine_options(options)) as engine:
        yield engine.endpoint, True


def run_lab(
    lab: Lab,
    options: LabOptions,
    *,
    endpoint: str | None = None,
    progress: ProgressSink = no_progress,
) -> Result:
    """Run one lab to the end and return its result document (`lab` first, then its figures,
    the options, the engine it ran on and the notes about what that engine cannot show)."""
    started = time.monotonic()
    if endpoint is None:
        stage = _("starting the engine")
    else:
        stage = _("connecting to {endpoint}").format(endpoint=endpoint)
    progress(stage, 0, 1)
    with lab_engine(lab, options, endpoint) as (url, private):
        progress(stage, 1, 1)
        context = LabContext(
            lab=lab.name,
            endpoint=url,
            region=active_settings().aws_region,
            private=private,
            progress=progress,
        )
        if not private:
            for text in (*lab.elsewhere(options), ELSEWHERE_CAPACITY):
                context.note(text)
        try:
            figures = lab.run(context, options)
        finally:
            if not private:
                context.drop_tables()
    return {
        "lab": lab.name,
        **figures,
        "options": options.model_dump(),
        "engine": {
            "endpoint": "private" if private else url,
            "options": lab.engine_options(options) if private else {},
        },
        "seconds": round(time.monotonic() - started, 2),
        "notes": context.notes,
    }


# -- runs started from the browser --------------------------------------------------------------


@dataclass
class Stage:
    label: str
    done: int = 0
    total: int | None = None


@dataclass
class LabRun:
    """One run started from the browser, read by the page that polls it."""

    id: str
    lab: Lab
    options: Any
    stages: list[Stage] = field(default_factory=list)
    status: str = "running"  # running, done, failed, cancelled
    result: Result | None = None
    error: str | None = None
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None
    cancel_requested: threading.Event = field(default_factory=threading.Event)

    @property
    def seconds(self) -> float:
        return round((self.finished or time.monotonic()) - self.started, 1)

    @property
    def cancelling(self) -> bool:
        return self.status == "running" and self.cancel_requested.is_set()

    def report(self, label: str, done: int, total: int | None) -> None:
        """The progress sink: one stage per label, in the order they first appear. Raises
        LabCancelled once the run is to stop."""
        if self.cancel_requested.is_set():
            raise LabCancelled
        for stage in self.stages:
            if stage.label == label:
                stage.done, stage.total = done, total
                return
        self.stages.append(Stage(label, done, total))

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "lab": self.lab.name,
            "status": self.status,
            "cancelling": self.cancelling,
            "seconds": self.seconds,
            "stages": [dataclasses.asdict(stage) for stage in self.stages],
            "result": self.result,
            "error": self.error,
        }


_runs: OrderedDict[str, LabRun] = OrderedDict()
_runs_lock = threading.Lock()


def active_run() -> LabRun | None:
    with _runs_lock:
        return next((run for run in _runs.values() if run.status == "running"), None)


def start_run(lab: Lab, options: Any) -> LabRun:
    """Start `lab` in a background thread; a `Conflict` while another lab is running."""
    with _runs_lock:
        busy = next((run for run in _runs.values() if run.status == "running"), None)
        if busy is not None:
            raise Conflict(
                _(
                    "The {name} lab is running (started {seconds:.0f}s ago): one lab runs at "
                    "a time, so that two runs do not skew each other's figures."
                ).format(name=busy.lab.name, seconds=busy.seconds)
            )
        run = LabRun(id=secrets.token_hex(8), lab=lab, options=options)
        _runs[run.id] = run
        while len(_runs) > KEPT_RUNS:
            _runs.popitem(last=False)
    # The run's notes and progress are in the language of the request that started it.
    in_context = contextvars.copy_context().run
    threading.Thread(
        target=in_context, args=(_execute, run), name=f"lab-{lab.name}", daemon=True
    ).start()
    return run


def get_run(run_id: str) -> LabRun | None:
    with _runs_lock:
        return _runs.get(run_id)


def cancel_run(run: LabRun) -> LabRun:
    """Ask a running lab to stop at its next progress report; its engine is stopped (or, on
    another endpoint, its tables deleted) as at the end of any run. A finished run is left as
    it is, so asking twice, or too late, is harmless."""
    if run.status == "running":
        run.cancel_requested.set()
    return run


def _execute(run: LabRun) -> None:
    try:
        run.result = run_lab(run.lab, run.options, progress=run.report)
        run.status = "done"
    except LabCancelled:
        log.info("the %s lab was cancelled after %.1fs", run.lab.name, run.seconds)
        run.status = "cancelled"
    except Exception as error:  # noqa: BLE001 - a failed run is shown on its page, not lost
        log.exception("the %s lab failed", run.lab.name)
        run.error = f"{type(error).__name__}: {error}"
        run.status = "failed"
    finally:
        run.finished = time.monotonic()
