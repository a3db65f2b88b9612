"""What the auth API accepts and returns: the contract `/openapi.json` publishes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from shared.text import CleanLine

if TYPE_CHECKING:
    from shared.auth import Viewer


class Credentials(BaseModel):
    username: CleanLine
    password: CleanLine
    display_name: CleanLine = Field("", description="Sign-up only; the username when empty.")


class ViewerOut(BaseModel):
    user_id: str
    username: str
    display_name: str

    @classmethod
    def of(cls, viewer: Viewer) -> ViewerOut:
        return cls(
            user_id=viewer.user_id, username=viewer.username, display_name=viewer.display_name
        )


class SessionOut(BaseModel):
    user: ViewerOut | None = Field(description="Who is signed in; null for a visitor.")
    csrf_token: str = Field(description="Send it as X-CSRF-Token on every state-changing call.")
