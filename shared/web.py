"""Web plumbing shared by every context: templates, rendering, middleware, error mapping.

One template environment over every context's `templates/` folder (templates are namespaced by
context: `blog/post.html`). A route renders the whole page, or only one block of the same
template when htmx asks for a fragment, so a page and its partial never duplicate markup.
"""

from __future__ import annotations

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
from pynamodb.exceptions import PynamoDBException
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.auth import ANON_COOKIE, optional_viewer
from shared.csrf import anon_id, csrf_token
from shared.dynamo import is_unavailable
from shared.errors import DomainError
from shared.i18n import (
    DEFAULT_LANGUAGE,
    N_,
    LanguageMiddleware,
    current_language,
    install_template_i18n,
)
from shared.i18n import gettext as _
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

MAX_ROW_ID = 2**31 - 1  # a PostgreSQL `serial`; a larger id is a 422, never a database error
PostId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="A post's id")]

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true" and not request.headers.get("hx-boosted")


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def page_context(request: Request, context: dict[str, Any]) -> dict[str, Any]:
    return {
        "request": request,
        "viewer": optional_viewer(request),
        "csrf_token": csrf_token(request),
        "app_env": active_settings().app_env,
        **context,
    }


def render_block(
    request: Request, template: str, block: str, context: dict[str, Any] | None = None
) -> Markup:
    """One block of a template, as markup (already escaped by the autoescaping environment).

    A block rendered alone does not run the template's top-level code: macros a block uses are
    imported inside the block.
    """
    tmpl = templates.env.get_template(template)
    ctx = tmpl.new_context(page_context(request, context or {}))
    return Markup("".join(tmpl.blocks[block](ctx)))


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    block: str | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """Render a whole page, or just `block` of it (and the instrument panel, out of band)
    for htmx."""
    if block is not None and is_htmx(request):
        html = render_block(request, template, block, context) + instrument_panel(oob=True)
        return HTMLResponse(html, status_code=status_code, headers=headers)
    ctx = page_context(request, context or {})
    return templates.TemplateResponse(
        request, template, ctx, status_code=status_code, headers=headers
    )


def htmx_redirect(request: Request, url: str) -> Response:
    """After a successful form: a real redirect for plain forms, HX-Redirect for htmx."""
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": url})
    return Response(status_code=303, headers={"Location": url})


def error_response(request: Request, status_code: int, title: str, detail: Any) -> Response:
    """`title` is a msgid (a domain exception's class attribute): translated here, for the
    request's language. `detail` was translated where it was raised."""
    if is_api(request):
        return JSONResponse({"detail": detail}, status_code=status_code)
    message = detail if isinstance(detail, str) else _validation_message(detail)
    ctx = {"status_code": status_code, "title": _(title), "message": message}
    return render(request, "shared/error.html", ctx, block="content", status_code=status_code)


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


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> Response:
        return error_response(request, exc.status_code, exc.title, exc.detail)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        errors = [{k: v for k, v in e.items() if k in ("loc", "msg", "type")} for e in exc.errors()]
        return error_response(request, 422, N_("Please check your input"), errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        title = N_("Not found") if exc.status_code == 404 else N_("Request refused")
        detail = exc.detail
        if exc.status_code == 404 and detail == "Not Found":
            detail = _("There is no page at this address.")
        return error_response(request, exc.status_code, title, detail)

    @app.exception_handler(PynamoDBException)
    @app.exception_handler(BotoCoreError)
    @app.exception_handler(ClientError)
    async def _dynamo(request: Request, exc: Exception) -> Response:
        """PynamoDB's errors, and botocore's from the batch calls made with a plain client."""
        log.exception("DynamoDB call failed")
        if is_unavailable(exc):
            title = N_("DynamoDB is unavailable")
            detail = _("DynamoDB did not answer, or asked to slow down. Try again shortly.")
            return error_response(request, 503, title, detail)
        title, detail = N_("DynamoDB error"), _("DynamoDB refused the request.")
        return error_response(request, 500, title, detail)

    @app.exception_handler(RdbOperationalError)
    async def _rdb(request: Request, exc: RdbOperationalError) -> Response:
        log.exception("database call failed")
        return error_response(
            request, 503, N_("The database is unavailable"), _("Try again shortly.")
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error")
        return error_response(request, 500, N_("Something went wrong"), _("An unexpected error."))


class BodySizeLimit:
    """Refuses request bodies over the limit with 413 (Starlette sets none by default)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                raise _TooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await self._refuse(scope, send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        body = b'{"detail":"The request body is too large."}'
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass


def install_middleware(app: FastAPI, settings: Settings) -> None:

    @app.middleware("http")
    async def _cookies_and_headers(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        new_anon = getattr(request.state, "new_anon_id", None)
        if new_anon is None and ANON_COOKIE not in request.cookies:
            new_anon = anon_id(request)
        if new_anon:
            response.set_cookie(
                ANON_COOKIE, new_anon, httponly=True, samesite="lax", secure=not settings.is_dev
            )
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(LanguageMiddleware)  # last added runs first: the language is set for all
