"""The API's published contract: the one error model, and /docs that renders it.

Every error the JSON API answers has the same body, `{"detail": ...}`: a sentence when a rule of
the domain refused the request (a taken name, someone else's post), or a list of located issues
when the request itself did not parse (a missing field, a value out of range). `API_ERRORS` says
so once for every status the API can answer with an error, and the app attaches it to every
operation it publishes (HTML pages are not published: they set `include_in_schema=False`).

/docs is Swagger UI served from this machine: its files come from the `fastapi-offline` package
and it is started by a static script, so the page needs no CDN and keeps the app's
Content-Security-Policy (no inline script). "Try it out" sends the CSRF header the API expects.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import fastapi_offline
from fastapi import FastAPI, Request, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field, PlainSerializer, WithJsonSchema

from shared.web import templates

DOCS_URL = "/docs"
DOCS_ASSETS_URL = "/docs/assets"
SWAGGER_UI_FILES = Path(fastapi_offline.__file__).parent / "static"

# A moment in the API: an ISO 8601 string with its offset, published as a date-time.
IsoTime = Annotated[
    datetime,
    PlainSerializer(lambda when: when.isoformat(), return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


class ValidationIssue(BaseModel):
    loc: list[str | int] = Field(description='Where: `["body", "title"]`, `["query", "limit"]`.')
    msg: str
    type: str


class ErrorOut(BaseModel):
    """The body of every error response of the API."""

    detail: str | list[ValidationIssue] = Field(
        description="A sentence from the domain's rules, or each problem the request has."
    )


_WHEN = {
    400: "A malformed request, such as a cursor that is not one this API issued.",
    401: "Not signed in.",
    403: "The CSRF token is missing or wrong, or the resource belongs to someone else.",
    404: "No such post, comment or user.",
    409: "A conflict: the name is taken, or someone else changed the item first.",
    413: "The request body is over the size limit.",
    422: "A value is missing or refused: `detail` names each field, or says why in a sentence.",
    429: "Too many attempts: wait the `Retry-After` seconds, then try again.",
    503: "DynamoDB or the database did not answer: try again shortly.",
}
API_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut, "description": description} for status, description in _WHEN.items()
}


def install_api_docs(app: FastAPI) -> None:
    """/docs and its files; the app must be created with `docs_url=None, redoc_url=None`."""
    app.mount(DOCS_ASSETS_URL, StaticFiles(directory=SWAGGER_UI_FILES), name="docs-assets")

    @app.get(DOCS_URL, include_in_schema=False)
    async def api_docs(request: Request) -> Response:
        context = {"openapi_url": app.openapi_url, "assets": DOCS_ASSETS_URL, "title": app.title}
        return templates.TemplateResponse(request, "shared/api_docs.html", context)
