"""Composition root: wires the contexts together and exposes the FastAPI `app`.

`uvicorn app:app` serves it. Each context contributes a router (pages) and an API router; the
kernel in `shared/` binds settings to every DynamoDB and RDB model before the first request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from activity import router as activity_router
from blog import router as blog_router
from blog import service as blog_service
from engagement import router as engagement_router
from sessions import router as sessions_router
from sessions import service as sessions_service
from shared import design, events
from shared.auth import install_viewer_resolver
from shared.csrf import csrf_protect
from shared.database import connect_database
from shared.dynamo import bind_models
from shared.inspector import install_inspector
from shared.seeding import Seeder, register_seeder
from shared.settings import PROJECT_ROOT, Settings, get_settings
from shared.web import install_error_handlers, install_middleware

log = logging.getLogger(__name__)
OUTBOX_RELAY_SECONDS = 5.0


def wire(settings: Settings) -> None:
    """Bind settings to every model and connect the contexts to each other. Idempotent."""
    connect_database(settings)
    bind_models(settings)
    install_viewer_resolver(sessions_service.resolve_viewer)
    register_seeder(Seeder(10, "users and posts", blog_service.seed_size, blog_service.seed_demo))
    design.register_example("post_id", blog_service.newest_post_id)
    design.register_example("username", blog_service.newest_username)
    engagement_router.install()
    activity_router.install()


async def _relay_outbox_forever() -> None:
    """Retries events whose DynamoDB side failed (the outbox's second half)."""
    while True:
        await asyncio.sleep(OUTBOX_RELAY_SECONDS)
        try:
            await run_in_threadpool(events.deliver_pending)
        except Exception as exc:  # noqa: BLE001 - the relay must outlive a failing store
            log.warning("outbox relay round failed: %s", exc)


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    relay = asyncio.create_task(_relay_outbox_forever())
    try:
        yield
    finally:
        relay.cancel()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    wire(settings)
    app = FastAPI(
        title="DynamoDB Lab",
        summary="A blog + activity app that teaches DynamoDB design.",
        dependencies=[Depends(csrf_protect)],
        lifespan=lifespan,
    )
    app.mount("/static", StaticFiles(directory=PROJECT_ROOT / "shared" / "static"), name="static")
    for module in (sessions_router, blog_router, engagement_router, activity_router, design):
        app.include_router(module.router)
        app.include_router(module.api)
    install_middleware(app)
    install_inspector(app, settings)
    install_error_handlers(app)
    return app


app = create_app()
