"""Web plumbing shared by every context: templates, rendering, middleware, error mapping.

One template environment over every context's `templates/` folder (templates are namespaced by
context: `blog/post.html`). A route renders the whole page, or only one block of the same
template when htmx asks for a fragment, so a page and its partial never duplicate markup.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from typing import Annotated, Any

import jinja2
from botocore.exceptions import BotoCoreError, ClientError
from fastapi import FastAPI, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from peewee import OperationalError as RdbOperationalError
from playhouse.pool import MaxConnectionsExceeded
from pydantic import BeforeValidator, WithJsonSchema
from pydantic_core import PydanticCustomError
from pynamodb.exceptions import PynamoDBException
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.auth import ANON_COOKIE, known_viewer, optional_viewer, viewer_unknown
from shared.csrf import anon_id, csrf_token
from shared.database import RdbConnectionPerRequest
from shared.errors import RETRY_AFTER_SECONDS, DomainError
from shared.i18n import (
    DEFAULT_LANGUAGE,
    N_,
    LanguageMiddleware,
    current_language,
    install_template_i18n,
)
from shared.i18n import gettext as _
from shared.outage import dynamodb_unavailable, mark_unavailable, notice, page_notice_needed
from shared.panels import lesson_links
from shared.settings import PROJECT_ROOT, Settings, active_settings

log = logging.getLogger(__name__)

_template_dirs = sorted(str(p) for p in PROJECT_ROOT.glob("*/templates") if p.is_dir())
templates = Jinja2Templates(
    env=jinja2.Environment(
        loader=jinja2.FileSystemLoader(_template_dirs),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        undefined=jinja2.StrictUndefined,
    )
)
install_template_i18n(templates.env)


def _no_panel(oob: bool) -> Markup:
    return Markup("")


_instrument_panel: Callable[[bool], Markup] = _no_panel


def set_instrument_panel(panel: Callable[[bool], Markup]) -> None:
    """Plug in the panel drawn at the foot of every page (the composition root plugs the lens's
    operation inspector in). `panel(oob)` with `oob` set marks it for htmx's out-of-band swap, so
    a fragment response updates the page's panel too. The kernel itself draws nothing there."""
    global _instrument_panel
    _instrument_panel = panel


def instrument_panel(*, oob: bool = False) -> Markup:
    return _instrument_panel(oob)


templates.env.globals["instrument_panel"] = instrument_panel
templates.env.globals["lesson_links"] = lesson_links


def static_url(path: str) -> str:
    """A static asset's URL as a path: never built from the request's Host header, which a
    client controls."""
    return "/static/" + path.lstrip("/")


templates.env.globals["static_url"] = static_url
templates.env.globals["dynamodb_notice"] = notice
templates.env.globals["page_notice_needed"] = page_notice_needed
templates.env.globals["viewer_unknown"] = viewer_unknown

MAX_ROW_ID = 2**31 - 1  # a PostgreSQL `serial`; a larger id is a 422, never a database error


def _digits_only(value: object) -> object:
    """pydantic reads " 7" or "7\u00a0" as 7; an id in a URL is digits and nothing else."""
    if isinstance(value, str) and not (value.isascii() and value.isdigit()):
        raise PydanticCustomError(
            "int_parsing", "Input should be a valid integer, unable to parse string as an integer"
        )
    return value


PostId = Annotated[
    int,
    BeforeValidator(_digits_only),
    Path(ge=1, le=MAX_ROW_ID, description="A post's id"),
    # The validator hides the bounds from pydantic's schema: stated again, as they are enforced.
    WithJsonSchema({"type": "integer", "minimum": 1, "maximum": MAX_ROW_ID}),
]

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
HSTS = "max-age=31536000; includeSubDomains"


def security_headers(settings: Settings) -> dict[str, str]:
    """Sent with every response, error pages included. HSTS only in production: sent over
    plain http://localhost it would make a browser refuse the dev server for a year."""
    headers = {
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "X-Frame-Options": "DENY",
    }
    if settings.is_production:
        headers["Strict-Transport-Security"] = HSTS
    return headers


def client_address(request: Request) -> str:
    """Who the per-address limits count: the peer address (behind a proxy, the server puts the
    client's address here from X-Forwarded-For when FORWARDED_ALLOW_IPS trusts the proxy)."""
    return request.client.host if request.client else "unknown"


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true" and not request.headers.get("hx-boosted")


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def page_context(
    request: Request, context: dict[str, Any], *, resolve_viewer: bool = True
) -> dict[str, Any]:
    """What every template sees. `resolve_viewer=False` (error pages) uses only what the request
    already knows, so drawing an error never calls the store that may have caused it."""
    return {
        "request": request,
        "viewer": optional_viewer(request) if resolve_viewer else known_viewer(request),
        "csrf_token": csrf_token(request),
        "app_env": active_settings().app_env,
        "explorer_enabled": active_settings().explorer_enabled,
        **context,
    }


def render_block(
    request: Request,
    template: str,
    block: str,
    context: dict[str, Any] | None = None,
    *,
    resolve_viewer: bool = True,
) -> Markup:
    """One block of a template, as markup (already escaped by the autoescaping environment).

    A block rendered alone does not run the template's top-level code: macros a block uses are
    imported inside the block.
    """
    tmpl = templates.env.get_template(template)
    ctx = tmpl.new_context(page_context(request, context or {}, resolve_viewer=resolve_viewer))
    return Markup("".join(tmpl.blocks[block](ctx)))


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    block: str | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    resolve_viewer: bool = True,
) -> HTMLResponse:
    """Render a whole page, or just `block` of it (and the instrument panel, out of band)
    for htmx."""
    if block is not None and is_htmx(request):
        html = render_block(request, template, block, context, resolve_viewer=resolve_viewer)
        html += instrument_panel(oob=True)
        return HTMLResponse(html, status_code=status_code, headers=headers)
    ctx = page_context(request, context or {}, resolve_viewer=resolve_viewer)
    return templates.TemplateResponse(
        request, template, ctx, status_code=status_code, headers=headers
    )


def htmx_redirect(request: Request, url: str) -> Response:
    """After a successful form: a real redirect for plain forms, HX-Redirect for htmx."""
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": url})
    return Response(status_code=303, headers={"Location": url})


def error_response(
    request: Request,
    status_code: int,
    title: str,
    detail: Any,
    headers: dict[str, str] | None = None,
) -> Response:
    """The error as JSON under /api/, else as a page (a fragment for htmx). It carries the
    security headers itself: a 500 is sent from outside every middleware. `title` is a msgid
    (a domain exception's class attribute), translated here; `detail` was translated where it
    was raised. Every 503 says when to try again (`Retry-After`)."""
    headers = {**security_headers(active_settings()), **(headers or {})}
    if status_code == 503:
        headers.setdefault("Retry-After", str(RETRY_AFTER_SECONDS))
    if is_api(request):
        return JSONResponse({"detail": detail}, status_code=status_code, headers=headers)
    message = detail if isinstance(detail, str) else _validation_message(detail)
    title = _(title)
    ctx = {"status_code": status_code, "title": title, "message": message}
    try:
        return render(
            request,
            "shared/error.html",
            ctx,
            block="content",
            status_code=status_code,
            headers=headers,
            resolve_viewer=False,
        )
    except Exception:  # noqa: BLE001 - an error page that fails must still answer
        log.exception("the error page could not be rendered")
        body = f"<!doctype html><title>{status_code}</title><h1>{html.escape(title)}</h1>"
        return HTMLResponse(body, status_code=status_code, headers=headers)


VALIDATION_MESSAGES = {
    "missing": N_("this field is required"),
    "int_parsing": N_("a whole number is expected"),
    "int_type": N_("a whole number is expected"),
    "greater_than_equal": N_("the value is too small"),
    "less_than_equal": N_("the value is too large"),
    "string_too_short": N_("the text is too short"),
    "string_too_long": N_("the text is too long"),
    "literal_error": N_("the value is not one of the allowed choices"),
    "enum": N_("the value is not one of the allowed choices"),
}
"""pydantic's messages are English only: in another language the common kinds get one from the
catalog (in English pydantic's own, more precise, message stays)."""


def _validation_message(errors: Any) -> str:
    parts = []
    for err in errors if isinstance(errors, list) else []:
        loc = ".".join(str(x) for x in err.get("loc", ())[1:]) or _("request")
        kind = VALIDATION_MESSAGES.get(err.get("type", ""))
        if kind is not None and current_language() != DEFAULT_LANGUAGE:
            parts.append(f"{loc}: {_(kind)}")
        else:
            parts.append(f"{loc}: {err.get('msg', _('invalid'))}")
    return "; ".join(parts) or _("The request was not valid.")


def dynamodb_unavailable_response(request: Request) -> Response:
    """The 503 of a request that met a DynamoDB outage. It names the store, never its address
    (the endpoint is the operator's business, not the reader's)."""
    mark_unavailable(request)
    return error_response(
        request,
        503,
        N_("DynamoDB is unavailable"),
        _(
            "DynamoDB did not answer, or asked to slow down, so this cannot be shown or done "
            "right now. Posts are safe in the database; try again shortly."
        ),
    )


def _store_error(request: Request, exc: Exception) -> Response:
    """DynamoDB failed under a page that cannot do without it: 503 when it could not answer,
    500 when it refused (a refusal is a bug, not an outage)."""
    if dynamodb_unavailable(exc):
        log.warning("DynamoDB unavailable: %s", exc)
        return dynamodb_unavailable_response(request)
    log.exception("DynamoDB call failed")
    return error_response(request, 500, N_("DynamoDB error"), _("DynamoDB refused the request."))


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> Response:
        return error_response(request, exc.status_code, exc.title, exc.detail, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        errors = [{k: v for k, v in e.items() if k in ("loc", "msg", "type")} for e in exc.errors()]
        return error_response(request, 422, N_("Please check your input"), errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        titles = {404: N_("Not found"), 413: N_("Request too large")}
        detail = exc.detail
        if exc.status_code == 404 and detail == "Not Found":
            detail = _("There is no page at this address.")
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = _allowed_methods(request)
        return error_response(
            request,
            exc.status_code,
            titles.get(exc.status_code, N_("Request refused")),
            detail,
            headers,
        )

    for store_error in (PynamoDBException, BotoCoreError, ClientError):
        app.add_exception_handler(store_error, _store_error)

    @app.exception_handler(RdbOperationalError)
    async def _rdb(request: Request, exc: RdbOperationalError) -> Response:
        log.exception("database call failed")
        return error_response(
            request, 503, N_("The database is unavailable"), _("Try again shortly.")
        )

    @app.exception_handler(MaxConnectionsExceeded)
    async def _rdb_busy(request: Request, exc: MaxConnectionsExceeded) -> Response:
        log.warning("no free database connection: %s", exc)
        return error_response(request, 503, N_("The database is busy"), _("Try again shortly."))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error")
        return error_response(request, 500, N_("Something went wrong"), _("An unexpected error."))


METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _allowed_methods(request: Request) -> str:
    """The methods some route takes at this path (a 405 must list them in `Allow`), asked of
    every route: Starlette names only those of the first route whose path matched, and an API
    path is served by one route per method."""
    allowed = [
        method
        for method in METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL
            for route in request.app.router.routes
        )
    ]
    return ", ".join(allowed)


class _TooLarge(StarletteHTTPException):
    """Raised from the body stream: an HTTP error, so body parsing passes it on as it is
    instead of turning it into a 400 "error parsing the body"."""

    def __init__(self, max_bytes: int) -> None:
        limit = max_bytes // 1024
        super().__init__(
            413, _("The request body is too large (the limit is {limit} KiB).").format(limit=limit)
        )


class BodySizeLimit:
    """Refuses request bodies over the limit with 413 (Starlette sets none by default), whether
    the size is declared up front (Content-Length) or only found while reading (chunked)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                raise _TooLarge(self.max_bytes)
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:  # read outside the app's exception handlers (by a middleware)
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        exc = _TooLarge(self.max_bytes)
        response = error_response(Request(scope), 413, N_("Request too large"), exc.detail)
        await response(scope, receive, send)


class SecurityHeaders:
    """Adds the security headers to every response that passes through, whoever made it."""

    def __init__(self, app: ASGIApp, headers: dict[str, str]) -> None:
        self.app = app
        self.headers = headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)


class AnonymousCookie:
    """Gives a browser without one its anonymous id cookie (the CSRF binding of visitors)."""

    def __init__(self, app: ASGIApp, secure: bool) -> None:
        self.app = app
        self.secure = secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                new_anon = getattr(request.state, "new_anon_id", None)
                if new_anon is None and ANON_COOKIE not in request.cookies:
                    new_anon = anon_id(request)
                if new_anon:
                    cookie = Response()
                    cookie.set_cookie(
                        ANON_COOKIE, new_anon, httponly=True, samesite="lax", secure=self.secure
                    )
                    MutableHeaders(scope=message).append("set-cookie", cookie.headers["set-cookie"])
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def install_middleware(app: FastAPI, settings: Settings) -> None:
    """Outermost last: security headers on everything, trusted hosts, the body size limit, the
    anonymous cookie, a database connection per request. All are plain ASGI, so an error
    raised while reading the body reaches the app's handlers as it is, not wrapped in a task
    group, and a context variable set here is seen by the worker threads of the request."""
    if settings.is_production and "*" in settings.trusted_hosts:
        raise RuntimeError(
            "TRUSTED_HOSTS must list the site's host names when APP_ENV=production "
            "(e.g. TRUSTED_HOSTS=lab.example.com), so a forged Host header is refused"
        )
    app.add_middleware(RdbConnectionPerRequest)
    app.add_middleware(AnonymousCookie, secure=not settings.is_dev)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    if "*" not in settings.trusted_hosts:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=settings.trusted_hosts)
    app.add_middleware(SecurityHeaders, headers=security_headers(settings))
    app.add_middleware(LanguageMiddleware)  # last added runs first: the language is set for all
