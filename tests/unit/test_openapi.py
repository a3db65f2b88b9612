"""/openapi.json says what the API really answers: a schema for every JSON success, one error
model for every error, no HTML page among the operations; /docs renders it from local files."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from shared.openapi import API_ERRORS, ErrorOut

ERROR_STATUSES = {"400", "401", "403", "404", "409", "413", "422", "429", "503"}
ERROR_REF = "#/components/schemas/ErrorOut"


@pytest.fixture
def openapi(unit_client) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return unit_client.get("/openapi.json").json()  # type: ignore[no-any-return]


def _operations(openapi: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, operations in openapi["paths"].items():
        for method, operation in operations.items():
            yield f"{method.upper()} {path}", operation


def _describes_a_body(schema: dict[str, Any]) -> bool:
    """A model (`$ref`) or named properties; `{}` or "any object" tells a client nothing."""
    return "$ref" in schema or bool(schema.get("properties"))


def test_every_json_success_under_api_v1_has_a_response_schema(openapi) -> None:
    offenders = []
    for name, operation in _operations(openapi):
        if " /api/v1/" not in name:
            continue
        for status, response in operation["responses"].items():
            json_body = response.get("content", {}).get("application/json")
            schema = None if json_body is None else json_body.get("schema", {})
            if status.startswith("2") and schema is not None and not _describes_a_body(schema):
                offenders.append(f"{name} {status}: {schema}")
    assert not offenders, "2xx JSON responses with no schema:\n" + "\n".join(offenders)


def test_only_the_json_api_is_published(openapi) -> None:
    offenders = [path for path in openapi["paths"] if not path.startswith("/api/v1/")]
    assert not offenders, "HTML pages among the operations:\n" + "\n".join(offenders)


def test_every_operation_documents_each_error_status_with_the_one_error_model(openapi) -> None:
    assert {str(status) for status in API_ERRORS} == ERROR_STATUSES
    offenders = []
    for name, operation in _operations(openapi):
        for status in ERROR_STATUSES:
            documented = operation["responses"].get(status, {})
            schema = documented.get("content", {}).get("application/json", {}).get("schema")
            if schema != {"$ref": ERROR_REF}:
                offenders.append(f"{name} {status}: {schema}")
    assert not offenders, "\n".join(offenders)
    assert "HTTPValidationError" not in openapi["components"]["schemas"]


def _documented(openapi: dict[str, Any], method: str, path: str, status: int) -> bool:
    return str(status) in openapi["paths"][path][method]["responses"]


def test_the_errors_the_api_answers_are_the_documented_model(
    unit_client, make_user, openapi
) -> None:
    """A sentence (domain rules) and a list of located issues (parsing) both fit `ErrorOut`."""
    author, other = make_user(unit_client, "errauthor"), make_user(unit_client)
    post_id = author.call("POST", "/api/v1/posts", json={"title": "t", "body": "b"}).json()["id"]
    visitor = {"X-CSRF-Token": unit_client.get("/api/v1/auth/session").json()["csrf_token"]}
    taken = {"username": "errauthor", "password": "password-123"}
    posts, one_post = "/api/v1/posts", "/api/v1/posts/{post_id}"
    answers = {
        ("post", posts, 401): unit_client.post(posts, headers=visitor),
        ("post", posts, 403): author.client.post(posts, json={}),
        ("post", posts, 413): author.call("POST", posts, content=b"x" * 2**20),
        ("post", posts, 422): author.call("POST", posts, json={"title": "t"}),
        ("patch", one_post, 422): author.call("PATCH", f"{posts}/{post_id}", json={"title": " "}),
        ("patch", one_post, 403): other.call("PATCH", f"{posts}/{post_id}", json={"title": "x"}),
        ("get", one_post, 404): unit_client.get(f"{posts}/999"),
        ("get", "/api/v1/activities", 400): unit_client.get(
            "/api/v1/activities", params={"type": "like", "cursor": "x"}
        ),
        ("post", "/api/v1/auth/signup", 409): other.call("POST", "/api/v1/auth/signup", json=taken),
    }
    shapes = set()
    for (method, path, status), response in answers.items():
        assert response.status_code == status, (path, response.text)
        assert str(status) in openapi["paths"][path][method]["responses"], (method, path)
        shapes.add(type(ErrorOut.model_validate(response.json()).detail).__name__)
    assert shapes == {"str", "list"}


def test_docs_page_loads_only_local_files_and_no_inline_script(unit_client) -> None:
    page = unit_client.get("/docs")
    assert page.status_code == 200
    urls = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert urls and all(u.startswith("/") or u.startswith("data:") for u in urls)
    for url in (u for u in urls if u.startswith("/")):
        assert unit_client.get(url).status_code == 200, url
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", page.text) == []
    assert "script-src 'self'" in page.headers["content-security-policy"]


def test_redoc_from_a_cdn_is_gone(unit_client) -> None:
    assert unit_client.get("/redoc").status_code == 404
