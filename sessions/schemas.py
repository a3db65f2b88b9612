"""What the auth API accepts and returns: the contract `/openapi.json` publishes."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated

from pydantic import AfterValidator, BaseModel, Field, StringConstraints
from pydantic_core import PydanticCustomError

from blog.service import DISPLAY_NAME_MAX
from sessions.service import PASSWORD_MAX, PASSWORD_MIN
from shared.i18n import gettext as _
from shared.text import LINE_PATTERN, ONE_LINE, CleanLine, Pattern

if TYPE_CHECKING:
    from shared.auth import Viewer


USERNAME = r"^[^\S\u0000-\u001f\u007f-\u009f]*[A-Za-z0-9_]{3,30}[^\S\u0000-\u001f\u007f-\u009f]*$"
"""What sign-up accepts: 3 to 30 letters, digits and _, stored lowercased and trimmed of the
spaces around them (spaces, not control characters)."""


def _username(value: str) -> str:
    if not re.fullmatch(USERNAME, value):
        raise PydanticCustomError(
            "username", _("A username is 3 to 30 characters: lowercase letters, digits and _.")
        )
    return value


Username = Annotated[str, AfterValidator(_username), ONE_LINE, Pattern(USERNAME)]
Password = Annotated[
    str, StringConstraints(min_length=PASSWORD_MIN, max_length=PASSWORD_MAX), ONE_LINE, LINE_PATTERN
]
DisplayName = Annotated[str, StringConstraints(max_length=DISPLAY_NAME_MAX), ONE_LINE, LINE_PATTERN]


class Credentials(BaseModel):
    """Sign-in: any text may be tried; a wrong one is a 401."""

    username: CleanLine
    password: CleanLine


class NewAccount(BaseModel):
    """Sign-up: the rules of a username and a password, as the schema states them."""

    username: Username = Field(description="3 to 30 letters, digits and _ (stored lowercased).")
    password: Password = Field(description="8 to 128 characters, one line.")
    display_name: DisplayName = Field(
        "", description="Up to 50 characters; the username when empty."
    )


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
