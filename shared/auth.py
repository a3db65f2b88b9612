"""Who is making the request, as every context sees it.

The sessions context owns how a viewer is found (cookie, DynamoDB session item); it installs
its resolver here at start-up, so other contexts depend on this small interface and never on
the sessions table.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from shared.errors import DynamoDBUnavailable, NotAuthenticated
from shared.i18n import gettext as _
from shared.outage import dynamodb_unavailable, mark_unavailable

log = logging.getLogger(__name__)

SESSION_COOKIE = "lab_session"
ANON_COOKIE = "lab_anon"


@dataclass(frozen=True)
class Viewer:
    user_id: str
    username: str
    display_name: str


_resolver: Callable[[Request], Viewer | None] | None = None


def install_viewer_resolver(resolver: Callable[[Request], Viewer | None]) -> None:
    global _resolver
    _resolver = resolver


def optional_viewer(request: Request) -> Viewer | None:
    """The signed-in viewer or None; resolved once per request.

    When the session store does not answer, a page is shown as to a visitor (with the outage
    notice), while the API, whose callers cannot see a notice, answers 503.
    """
    if not hasattr(request.state, "viewer"):
        request.state.viewer = _resolve(request)
    if viewer_unknown(request) and request.url.path.startswith("/api/"):
        raise _cannot_check_sign_in()
    return request.state.viewer  # type: ignore[no-any-return]


def _resolve(request: Request) -> Viewer | None:
    if _resolver is None:
        return None
    try:
        return _resolver(request)
    except Exception as exc:
        if not dynamodb_unavailable(exc):
            raise
        log.warning("sign-in state unavailable, serving as a visitor: %s", exc)
        request.state.viewer_unknown = True
        mark_unavailable(request)
        return None


def viewer_unknown(request: Request) -> bool:
    """The request carries a session that could not be checked (its store did not answer)."""
    return bool(getattr(request.state, "viewer_unknown", False))


def known_viewer(request: Request) -> Viewer | None:
    """The viewer if this request already resolved it; never calls a store (error pages)."""
    return getattr(request.state, "viewer", None)


def _cannot_check_sign_in() -> DynamoDBUnavailable:
    return DynamoDBUnavailable(
        "DynamoDB is unavailable, so your sign-in cannot be checked. Try again shortly."
    )


def require_viewer(request: Request) -> Viewer:
    viewer = optional_viewer(request)
    if viewer is None and viewer_unknown(request):
        raise _cannot_check_sign_in()
    if viewer is None:
        raise NotAuthenticated(_("You need to sign in first."))
    return viewer


def token_hash(token: str) -> str:
    """What the server stores and compares instead of a bearer token itself."""
    return hashlib.sha256(token.encode()).hexdigest()


CurrentViewer = Annotated[Viewer, Depends(require_viewer)]
"""A route parameter: the signed-in viewer, or a 401 before the route runs."""
OptionalViewer = Annotated[Viewer | None, Depends(optional_viewer)]
"""A route parameter: the signed-in viewer or None."""
