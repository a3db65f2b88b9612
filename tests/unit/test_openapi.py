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


def _schema_of(openapi: dict[str, Any], ref_or_schema: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in ref_or_schema:
        return openapi["components"]["schemas"][ref_or_schema["$ref"].rsplit("/", 1)[1]]  # type: ignore[no-any-return]
    return ref_or_schema


def _body(openapi: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    content = openapi["paths"][path][method]["requestBody"]["content"]["application/json"]
    return _schema_of(openapi, content["schema"])["properties"]  # type: ignore[no-any-return]


def _parameter(openapi: dict[str, Any], path: str, method: str, name: str) -> dict[str, Any]:
    (found,) = [p for p in openapi["paths"][path][method]["parameters"] if p["name"] == name]
    return _schema_of(openapi, found["schema"])


def test_the_schema_states_the_rules_the_api_enforces(openapi) -> None:
    activity_type = _parameter(openapi, "/api/v1/activities", "get", "type")
    assert activity_type["enum"] == ["post", "view", "like", "unlike", "comment"]
    shards = _body(openapi, "/api/v1/posts/{post_id}/likes/shards", "post")["shards"]
    assert (shards["minimum"], shards["maximum"]) == (2, 32)
    signup = _body(openapi, "/api/v1/auth/signup", "post")
    assert re.fullmatch(signup["username"]["pattern"], " Alice_1 ")
    assert not re.search(signup["username"]["pattern"], "al")
    assert (signup["password"]["minLength"], signup["password"]["maxLength"]) == (8, 128)
    comment = _body(openapi, "/api/v1/posts/{post_id}/comments", "post")["body"]
    assert not re.search(comment["pattern"], " \n\t ") and re.search(comment["pattern"], "hi\n")
    title = _body(openapi, "/api/v1/posts", "post")["title"]
    assert not re.search(title["pattern"], "a\x1bb") and not re.search(title["pattern"], "a\nb")
    cursor = _parameter(openapi, "/api/v1/posts/{post_id}/comments", "get", "cursor")
    assert "pattern" in str(cursor)


def test_a_post_id_with_a_trailing_non_breaking_space_is_refused(unit_client) -> None:  # type: ignore[no-untyped-def]
    assert unit_client.get("/api/v1/posts/1%C2%A0").status_code == 422
    assert unit_client.get("/api/v1/posts/%201").status_code == 422


def test_a_method_a_path_does_not_take_is_a_405_that_lists_allow(unit_client) -> None:  # type: ignore[no-untyped-def]
    for method in ("TRACE", "PUT", "DELETE"):
        response = unit_client.request(method, "/api/v1/posts")
        assert response.status_code == 405, method
        assert set(response.headers["allow"].split(", ")) == {"GET", "POST"}, method


def test_every_operation_has_a_readable_summary_not_the_function_name(openapi) -> None:  # type: ignore[no-untyped-def]
    """/docs lists operations by summary; FastAPI's default is the function's name in title case
    ("Api Create Post"), which tells a reader nothing. The function's name is read back from the
    operationId FastAPI builds from it (name, then path and method with non-word characters as
    underscores)."""
    offenders = []
    for label, operation in _operations(openapi):
        method, path = label.split(" ", 1)
        suffix = re.sub(r"\W", "_", path) + "_" + method.lower()
        assert operation["operationId"].endswith(suffix), operation["operationId"]
        function = operation["operationId"].removesuffix(suffix)
        generated = function.replace("_", " ").title()
        summary = operation.get("summary", "")
        if not summary or summary == generated or "_" in summary:
            offenders.append(f"{label}: {summary!r}")
    assert not offenders, offenders
