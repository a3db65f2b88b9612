"""CSRF protection for every state-changing request: forms, htmx and JSON alike.

The token is an HMAC of the request's binding: the hash of the session cookie when there is
one, else a random anonymous cookie. It needs no storage, changes at sign-in (new session) and
cannot be forged without SECRET_KEY. Pages put it in a hidden form field and in `hx-headers`;
API clients get it from `GET /api/v1/auth/session` and send it as `X-CSRF-Token`.
"""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request

from shared.auth import ANON_COOKIE, SESSION_COOKIE, token_hash
from shared.errors import Forbidden
from shared.i18n import gettext as _
from shared.settings import active_settings

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
HEADER = "x-csrf-token"
FORM_FIELD = "csrf_token"


def _binding(request: Request) -> str:
    session_token = request.cookies.get(SESSION_COOKIE)
    if session_token:
        return "s:" + token_hash(session_token)
    return "a:" + anon_id(request)


def anon_id(request: Request) -> str:
    """The anonymous browser id: from the cookie, or a new one the middleware will set."""
    existing = request.cookies.get(ANON_COOKIE) or getattr(request.state, "new_anon_id", None)
    if existing:
        return existing
    request.state.new_anon_id = secrets.token_urlsafe(24)
    return request.state.new_anon_id  # type: ignore[no-any-return]


def csrf_token(request: Request) -> str:
    key = active_settings().resolved_secret_key().encode()
    return hmac.new(key, _binding(request).encode(), "sha256").hexdigest()


async def csrf_protect(request: Request) -> None:
    """App-wide dependency: refuses an unsafe request without the right token."""
    if request.method in SAFE_METHODS:
        return
    sent = request.headers.get(HEADER)
    if not sent and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        sent = str((await request.form()).get(FORM_FIELD) or "")
    if not sent:
        raise Forbidden(_("The CSRF token is missing. Reload the page and try again."))
    # Bytes, not str: compare_digest raises TypeError on non-ASCII text, which would turn any
    # stranger's "csrf_token=é" into a 500.
    if not hmac.compare_digest(sent.encode(), csrf_token(request).encode()):
        raise Forbidden(_("The CSRF token is wrong or out of date. Reload the page and try again."))
