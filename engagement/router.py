"""Engagement pages and API: parse, call engagement.service, render."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
api = APIRouter(prefix="/api/v1", tags=["engagement"])


def install() -> None:
    """Register this context's panels, event subscriptions and seeder with the kernel."""
