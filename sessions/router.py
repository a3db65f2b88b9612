"""Sign-up, sign-in and sign-out: HTML pages and the JSON API, over the same service."""

from __future__ import annotations

import logging
from typing import Annotated

from botocore.exceptions import BotoCoreError
from fastapi import APIRouter, Form, Request, Response
from pynamodb.exceptions import PynamoDBException

from sessions import service
from sessions.schemas import Credentials, NewAccount, SessionOut, ViewerOut
from shared.auth import SESSION_COOKIE, OptionalViewer
from shared.csrf import csrf_token
from shared.errors import DomainError
from shared.outage import dynamodb_unavailable
from shared.settings import active_settings
from shared.web import client_address, dynamodb_unavailable_response, htmx_redirect, render

log = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1/auth", tags=["auth"])


def _set_session_cookie(response: Response, token: str) -> None:
    settings = active_settings()
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.session_absolute_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=not settings.is_dev,
    )


def _form_page(
    request: Request, template: str, error: DomainError, values: dict[str, str]
) -> Response:
    ctx = {"error": error.detail, "error_field": error.field, "values": values}
    return render(
        request, template, ctx, block="form", status_code=error.status_code, headers=error.headers
    )


@router.get("/signup")
def signup_page(request: Request) -> Response:
    return render(
        request, "sessions/signup.html", {"error": None, "error_field": None, "values": {}}
    )


@router.post("/signup")
def signup(
    request: Request,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    display_name: Annotated[str, Form()] = "",
) -> Response:
    values = {"username": username, "display_name": display_name}
    try:
        _, token = service.sign_up(
            username=username,
            password=password,
            display_name=display_name,
            replacing=request.cookies.get(SESSION_COOKIE),
            client_address=client_address(request),
        )
    except DomainError as error:
        return _form_page(request, "sessions/signup.html", error, values)
    response = htmx_redirect(request, "/")
    _set_session_cookie(response, token)
    return response


@router.get("/login")
def login_page(request: Request) -> Response:
    return render(
        request, "sessions/login.html", {"error": None, "error_field": None, "values": {}}
    )


@router.post("/login")
def login(
    request: Request,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
) -> Response:
    try:
        _, token = service.sign_in(
            username=username,
            password=password,
            replacing=request.cookies.get(SESSION_COOKIE),
            client_address=client_address(request),
        )
    except DomainError as error:
        return _form_page(request, "sessions/login.html", error, {"username": username})
    response = htmx_redirect(request, "/")
    _set_session_cookie(response, token)
    return response


def _signed_out(request: Request, response: Response) -> Response:
    """Ends the session, and clears the cookie whatever happens: during an outage the session
    item stays until it expires, the answer is the outage's 503, and this browser is signed
    out all the same."""
    try:
        service.end_session(token=request.cookies.get(SESSION_COOKIE, ""))
    except (PynamoDBException, BotoCoreError) as error:
        if not dynamodb_unavailable(error):
            raise
        log.warning("sign-out during an outage: the session item stays until it expires")
        response = dynamodb_unavailable_response(request)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.post("/logout")
def logout(request: Request) -> Response:
    return _signed_out(request, htmx_redirect(request, "/"))


@api.post("/signup", status_code=201, summary="Create an account and sign in")
def api_signup(request: Request, response: Response, body: NewAccount) -> ViewerOut:
    """Create an account and sign in (sets the session cookie)."""
    viewer, token = service.sign_up(
        username=body.username,
        password=body.password,
        display_name=body.display_name,
        replacing=request.cookies.get(SESSION_COOKIE),
        client_address=client_address(request),
    )
    _set_session_cookie(response, token)
    return ViewerOut.of(viewer)


@api.post("/login", summary="Sign in")
def api_login(request: Request, response: Response, body: Credentials) -> ViewerOut:
    """Sign in; sets the session cookie. Fetch /auth/session again for the new CSRF token."""
    viewer, token = service.sign_in(
        username=body.username,
        password=body.password,
        replacing=request.cookies.get(SESSION_COOKIE),
        client_address=client_address(request),
    )
    _set_session_cookie(response, token)
    return ViewerOut.of(viewer)


@api.post("/logout", status_code=204, summary="Sign out")
def api_logout(request: Request) -> Response:
    return _signed_out(request, Response(status_code=204))


@api.get("/session", summary="Who is signed in, and the CSRF token")
def api_session(request: Request, viewer: OptionalViewer) -> SessionOut:
    """Who is signed in, and the CSRF token to send as X-CSRF-Token on state-changing calls."""
    return SessionOut(user=ViewerOut.of(viewer) if viewer else None, csrf_token=csrf_token(request))
