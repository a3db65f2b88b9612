"""What each page and action of the app costs, measured: the cost model's input.

A private, in-memory instance of the project's engine (as the labs start one) gets the app's
tables and the demo data; then the app itself, built by the composition root's factory, is
driven through one signed-in user: each page is viewed once and each action done once, over
HTTP in-process. The inspector records every DynamoDB call each request made; the figures kept
per call are the engine's reported ConsumedCapacity ("measured") and, where the engine reported
none, the inspector's figure by AWS's rules ("computed"). A census of the seeded tables gives
the bytes each table and index stores.

This binds every model to the private engine, so it runs in a process of its own
(`manage.py measure`, which the cost page and `manage.py cost` start and whose answer they
keep): a running app's models are never moved.
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import json
import logging
import subprocess
import sys
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI

from lens import inspector
from lens.capacity import Units
from lens.census import take_census
from lens.insights import touches
from lens.inspector import DynamoCall
from shared.access_patterns import access_patterns
from shared.database import create_rdb_tables
from shared.dynamo import bound_client, create_tables, models_by_table
from shared.seeding import SeedPlan, seeders
from shared.settings import PROJECT_ROOT, Settings, active_settings

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

log = logging.getLogger(__name__)

SEED_SIZES = ("users", "posts", "likes_per_post", "comments_per_post", "activities")


def seed_plan() -> SeedPlan:
    """The demo data measured on: enough users that a per-user key shows many values."""
    return SeedPlan(users=30, posts=40, likes_per_post=5, comments_per_post=4, activities=2_000)


def seed_sizes() -> dict[str, int]:
    plan = seed_plan()
    return {name: getattr(plan, name) for name in SEED_SIZES}


MEASURED_PREFIX = "cost-"
PASSWORD = "measure-password-1"

PAGES = {
    "home": "/",
    "post_page": "/posts/{post_id}",
    "user": "/users/{username}",
    "activity": "/activity?type=like",
    "feed": "/feed",
}
"""The pages a traffic profile counts views of, as the app serves them."""


class Driver:
    """One signed-in user's browser-less session, and where the calls of each step go."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.step: str | None = None
        self.calls: dict[str, list[dict[str, Any]]] = {}
        self.username = f"m{uuid.uuid4().hex[:8]}"

    def observe(self, call: DynamoCall, params: Mapping[str, Any]) -> None:
        if self.step is not None:
            self.calls.setdefault(self.step, []).append(_call_record(call, params))

    @contextlib.contextmanager
    def measuring(self, step: str) -> Iterator[None]:
        self.calls[step] = []
        self.step = step
        try:
            yield
        finally:
            self.step = None

    def csrf(self) -> dict[str, str]:
        token = self.client.get("/api/v1/auth/session").json()["csrf_token"]
        return {"X-CSRF-Token": str(token)}

    def send(self, step: str, method: str, url: str, **kwargs: Any) -> Any:
        headers = self.csrf() if method != "GET" else {}
        with self.measuring(step):
            response = self.client.request(method, url, headers=headers, **kwargs)
        if response.status_code >= 400:
            raise RuntimeError(f"{step}: {method} {url} answered {response.status_code}")
        return response


def _call_record(call: DynamoCall, params: Mapping[str, Any]) -> dict[str, Any]:
    figure: Units = call.reported if call.reported is not None else call.computed
    return {
        "pattern": call.pattern,
        "function": call.served_by,
        "operation": call.operation,
        "table": _unprefixed(call.table),
        "index": call.index,
        "source": "measured" if call.reported is not None else "computed",
        "rcu": figure.read,
        "wcu": figure.write,
        "by_target": {_unprefixed(k): v for k, v in figure.by_target.items()},
        "computed_rcu": call.computed.read,
        "computed_wcu": call.computed.write,
        "consistent": _consistent(params),
        "limit": params.get("Limit"),
        "keys": [[table, index, key] for table, index, key in touches(call.operation, params)[0]],
        "scanned": call.items_scanned,
        "returned": call.items_returned,
        "error": call.error,
    }


def _consistent(params: Mapping[str, Any]) -> bool:
    """A strongly consistent read: asked on the call, or on every table of a BatchGetItem."""
    batch = [r for r in (params.get("RequestItems") or {}).values() if isinstance(r, Mapping)]
    if batch:
        return all(request.get("ConsistentRead") for request in batch)
    return bool(params.get("ConsistentRead"))


def _unprefixed(name: str) -> str:
    return ", ".join(part.strip().removeprefix(MEASURED_PREFIX) for part in name.split(","))


def drive(driver: Driver) -> None:
    """Sign up, then every action and every page once, in an order where each has something
    to act on (a post to like, a comment to read)."""
    credentials = {"username": driver.username, "password": PASSWORD}
    driver.send("sign_up", "POST", "/api/v1/auth/signup", json=credentials)
    driver.send("sign_out", "POST", "/api/v1/auth/logout")
    driver.send("sign_in", "POST", "/api/v1/auth/login", json=credentials)
    body = {"title": "Measured post", "body": "What does one post cost?"}
    post_id = driver.send("create_post", "POST", "/api/v1/posts", json=body).json()["id"]
    driver.send("like", "PUT", f"/api/v1/posts/{post_id}/like")
    comment = {"body": "What does one comment cost?"}
    driver.send("comment", "POST", f"/api/v1/posts/{post_id}/comments", json=comment)
    for page, url in PAGES.items():
        driver.send(page, "GET", url.format(post_id=post_id, username=driver.username))


def measure(app_factory: Callable[[Settings], FastAPI], base: Settings) -> dict[str, Any]:
    """Start a private engine, seed it, drive the app built by `app_factory`, and return the
    calls of each step, the census of the seeded tables and how it was measured."""
    # Imported here: the pages and `manage.py cost` only read a kept measurement.
    from fastapi.testclient import TestClient

    from engine.launcher import LocalEngine

    with tempfile.TemporaryDirectory() as tmp, LocalEngine(Path(tmp) / "engine.log") as engine:
        settings = base.model_copy(
            update={
                "dynamodb_endpoint": engine.endpoint,
                "database_url": f"sqlite:///{Path(tmp) / 'blog.sqlite3'}",
                "table_prefix": MEASURED_PREFIX,
                "data_dir": Path(tmp),
                "inspector_enabled": True,
                "app_env": "dev",
            }
        )
        app = app_factory(settings)
        create_tables(settings)
        create_rdb_tables()
        plan = seed_plan()
        for seeder in seeders():
            seeder.run(plan, lambda _n: None)
        census = take_census(bound_client())
        driver = Driver(TestClient(app))
        with driver.client, inspector.observing(driver.observe):
            drive(driver)
    return {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "engine": "private in-memory engine (engine/, moto's server with AWS's capacity rules)",
        "seed": seed_sizes(),
        "seeded_users": len(plan.viewers),
        "tables": [table.as_dict() for table in census],
        "table_names": sorted(models_by_table()),
        "steps": driver.calls,
    }


# -- keeping a measurement -----------------------------------------------------------------------

MEASUREMENT_FILE = "cost-measurement.json"
MEASURE_TIMEOUT_SECONDS = 600


def fingerprint() -> str:
    """Changes when an access pattern, a model, a service module or this measurement changes:
    a kept measurement is used only while it describes the code that runs."""
    digest = hashlib.sha256(json.dumps(seed_sizes(), sort_keys=True).encode())
    modules = {sys.modules[__name__], sys.modules[touches.__module__]}
    for pattern in access_patterns():
        digest.update(repr((pattern.name, pattern.function, pattern.operation)).encode())
        modules.add(_module_of(pattern.function))
        modules.add(sys.modules[pattern.model.__module__])
    for module in sorted(modules, key=lambda m: m.__name__):
        digest.update(inspect.getsource(module).encode())
    return digest.hexdigest()[:16]


def _module_of(function: str) -> Any:
    """The module of a dotted `module.qualname` (a qualname may hold dots of its own)."""
    parts = function.split(".")
    for end in range(len(parts) - 1, 0, -1):
        module = sys.modules.get(".".join(parts[:end]))
        if module is not None:
            return module
    raise LookupError(f"no imported module serves {function}")


def kept_measurement(data_dir: Path) -> dict[str, Any] | None:
    """The measurement kept in `data_dir`, if it matches the running code."""
    path = data_dir / MEASUREMENT_FILE
    try:
        kept = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(kept, dict) or kept.get("fingerprint") != fingerprint():
        return None
    return kept


def new_measurement(data_dir: Path) -> dict[str, Any]:
    """Measure in a process of its own (`manage.py measure`), keep and return the result."""
    data_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        output = Path(tmp) / MEASUREMENT_FILE
        command = [
            sys.executable,
            str(PROJECT_ROOT / "manage.py"),
            "measure",
            "--output",
            str(output),
        ]
        done = subprocess.run(
            command,
            cwd=PROJECT_ROOT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=MEASURE_TIMEOUT_SECONDS,
            check=False,
        )
        if done.returncode != 0:
            tail = done.stderr.decode(errors="replace")[-2000:]
            raise RuntimeError(f"the measurement failed (exit {done.returncode}): {tail}")
        result = json.loads(output.read_text(encoding="utf-8"))
    result["fingerprint"] = fingerprint()
    (data_dir / MEASUREMENT_FILE).write_text(json.dumps(result, indent=1), encoding="utf-8")
    return dict(result)


class Measuring:
    """One measurement at a time in the background, for the page that polls for it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.error: str | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, data_dir: Path) -> None:
        with self._lock:
            if self.running:
                return
            self.error = None
            self._thread = threading.Thread(
                target=self._run, args=(data_dir,), name="cost-measurement", daemon=True
            )
            self._thread.start()

    def _run(self, data_dir: Path) -> None:
        try:
            new_measurement(data_dir)
        except Exception as error:  # noqa: BLE001 - reported on the page that asked
            log.exception("the cost measurement failed")
            self.error = str(error).splitlines()[0] if str(error) else type(error).__name__


measuring = Measuring()


def measurement_for_page() -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """(the kept measurement or None, what a page says while there is none): outside
    production a missing one is started in the background, as a lab run is."""
    settings = active_settings()
    state: dict[str, Any] = {"measuring": False, "failure": None, "not_here": False}
    kept = kept_measurement(settings.data_dir)
    if kept is not None:
        return kept, state
    if not settings.is_dev:
        return None, {**state, "not_here": True}
    if measuring.error is None:
        measuring.start(settings.data_dir)
    return None, {**state, "measuring": measuring.running, "failure": measuring.error}
