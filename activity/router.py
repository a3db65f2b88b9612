"""Activity pages and API: parse, call activity.service, render."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
api = APIRouter(prefix="/api/v1", tags=["activity"])


def install() -> None:
    """Register this context's panels, event subscriptions and seeder with the kernel."""
