"""Composition root: the whole app's wiring, in the order it happens.

`uvicorn app:app` serves it. Reading this file tells the story: the kernel (`shared/`) binds
settings to every DynamoDB and RDB model; each context (`sessions`, `blog`, `engagement`,
`activity`) installs its routers, event subscriptions, page panels and seeder through its own
`install`; the lens (`lens/`: the operation inspector and /design) is plugged in last, around
everything. Who handles `PostDeleted`? `engagement.install`. Who logs a like? `activity.install`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

import activity
import blog
import engagement
import engine
import lens
import sessions
import shared
from blog import service as blog_service
from lens.design import show_layout
from lens.links import register_example
from shared import events
from shared.csrf import csrf_protect
from shared.database import close_connection, connect_database
from shared.dynamo import bind_models, open_connections
from shared.openapi import API_ERRORS, install_api_docs
from shared.process import settle_start_up_heap
from shared.settings import PROJECT_ROOT, Settings, configure, get_settings
from shared.web import install_error_handlers, install_middleware

log = logging.getLogger(__name__)
OUTBOX_RELAY_SECONDS = 5.0
CONTEXTS = (sessions, blog, engagement, activity)
"""In the order their pages are matched and their seeders' data depends on each other."""


def wire(settings: Settings, app: FastAPI | None = None) -> None:
    """Bind settings to every model and install each context. Idempotent.

    Without an app (the CLI) only what needs no HTTP is installed: event handlers, seeders.
    """
    configure(settings)
    connect_database(settings)
    for context in CONTEXTS:
        context.install(app)
    # After the installs: a context's models are imported, and so registered, by its install;
    # bound before, a fresh process (`uvicorn app:app`) would leave them pointing nowhere.
    bind_models(settings)
    register_example("post_id", blog_service.newest_post_id)
    register_example("username", blog_service.newest_username)
    show_layout("context", CONTEXTS)
    show_layout("kernel", [shared])
    show_layout("lens", [lens])
    show_layout("engine", [engine])


def _relay_round() -> None:
    """One relay round; its connection goes back to the pool, as a request's does."""
    try:
        events.deliver_pending()
    finally:
        close_connection()


async def _relay_outbox_forever() -> None:
    """Retries events whose DynamoDB side failed (the outbox's second half)."""
    while True:
        await asyncio.sleep(OUTBOX_RELAY_SECONDS)
        try:
            await run_in_threadpool(_relay_round)
        except Exception as exc:  # noqa: BLE001 - the relay must outlive a failing store
            log.warning("outbox relay round failed: %s", exc)


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    await run_in_threadpool(open_connections)
    settle_start_up_heap()
    relay = asyncio.create_task(_relay_outbox_forever())
    try:
        yield
    finally:
        relay.cancel()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    docs = settings.api_docs_enabled
    app = FastAPI(
        title="DynamoDB Lab",
        summary="A blog + activity app that teaches DynamoDB design.",
        dependencies=[Depends(csrf_protect)],
        responses=API_ERRORS,
        lifespan=lifespan,
        openapi_url="/openapi.json" if docs else None,
        docs_url=None,
        redoc_url=None,
    )
    app.mount("/static", StaticFiles(directory=PROJECT_ROOT / "shared" / "static"), name="static")
    if docs:
        install_api_docs(app)
    wire(settings, app)
    install_middleware(app, settings)
    lens.install(app, settings)
    install_error_handlers(app)
    return app


app = create_app()
