"""Text at the edge: a lone surrogate or a control character in any text field is a 422 that
names the field, before a store sees it (and never a 500, whichever store it would reach)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from shared.errors import InvalidInput
from shared.text import check_text, text_problem

LONE_SURROGATE = "\ud800"
REFUSED_EVERYWHERE = ["\x00", "\x1b", "\x7f", "\x85", "\x9b", LONE_SURROGATE, "\udfff"]
LINE_BREAKS = ["\t", "\n", "\r"]


@pytest.mark.parametrize("char", REFUSED_EVERYWHERE)
def test_control_characters_and_lone_surrogates_are_refused_in_lines_and_texts(char: str) -> None:
    assert text_problem(f"a{char}b", multiline=False) is not None
    assert text_problem(f"a{char}b", multiline=True) is not None


@pytest.mark.parametrize("char", LINE_BREAKS)
def test_line_breaks_are_kept_in_texts_and_refused_in_lines(char: str) -> None:
    assert text_problem(f"a{char}b", multiline=True) is None
    assert text_problem(f"a{char}b", multiline=False) is not None


def test_ordinary_unicode_is_kept() -> None:
    text = "DynamoDB \u306e\u8a2d\u8a08 \U0001f600 \u00e9\u00e8 \u200b"
    assert text_problem(text, multiline=False) is None


def test_the_service_check_names_the_field_and_the_code_point() -> None:
    with pytest.raises(InvalidInput) as refused:
        check_text("hi\x1b[2J", field="display_name")
    assert refused.value.field == "display_name"
    assert refused.value.detail == "The display name contains a control character (U+001B)."


def _post_json(user, path: str, body: dict[str, Any], method: str = "POST"):  # type: ignore[no-untyped-def]
    """Raw JSON, as a hostile client sends it: `\\ud800` escaped, which `json=` cannot send."""
    headers = {"content-type": "application/json"}
    return user.call(method, path, content=json.dumps(body), headers=headers)


def _refused_fields(response) -> list[str]:  # type: ignore[no-untyped-def]
    assert response.status_code == 422, response.text
    return [e["loc"][-1] for e in response.json()["detail"] if e["type"] == "text_refused"]


@pytest.mark.parametrize("char", ["\x00", "\x1b", "\x85", LONE_SURROGATE])
def test_a_post_with_unstorable_text_is_422_naming_the_field_and_writes_nothing(
    unit_client, make_user, char: str
) -> None:
    user = make_user(unit_client)
    title = _post_json(user, "/api/v1/posts", {"title": f"t{char}", "body": "b"})
    body = _post_json(user, "/api/v1/posts", {"title": "t", "body": f"b{char}"})
    assert _refused_fields(title) == ["title"] and _refused_fields(body) == ["body"]
    assert "U+" in title.json()["detail"][0]["msg"]
    assert unit_client.get("/api/v1/posts").json()["total"] == 0


def test_an_edit_with_a_lone_surrogate_is_422_and_leaves_the_post(unit_client, make_user) -> None:
    user = make_user(unit_client)
    post_id = user.call("POST", "/api/v1/posts", json={"title": "t", "body": "b"}).json()["id"]
    patched = _post_json(user, f"/api/v1/posts/{post_id}", {"body": "x\ud800"}, method="PATCH")
    assert _refused_fields(patched) == ["body"]
    assert unit_client.get(f"/api/v1/posts/{post_id}").json()["body"] == "b"


def test_a_multiline_body_keeps_its_tabs_and_line_breaks(unit_client, make_user) -> None:
    user = make_user(unit_client)
    created = user.call("POST", "/api/v1/posts", json={"title": "t", "body": "a\n\tb\r\nc"})
    assert created.status_code == 201 and created.json()["body"] == "a\n\tb\r\nc"


@pytest.mark.parametrize("field", ["username", "password", "display_name"])
def test_sign_up_with_a_lone_surrogate_is_422_and_creates_no_user(
    unit_client, make_user, field: str
) -> None:
    user = make_user(unit_client)
    credentials = {"username": "newcomer", "password": "password-123", "display_name": "N"}
    response = _post_json(user, "/api/v1/auth/signup", {**credentials, field: "x\ud800yz"})
    assert _refused_fields(response) == [field]
    login = user.call("POST", "/api/v1/auth/login", json=credentials)
    assert login.status_code == 401


def test_sign_in_with_a_lone_surrogate_is_422_not_a_database_error(unit_client, make_user) -> None:
    user = make_user(unit_client)
    response = _post_json(
        user, "/api/v1/auth/login", {"username": user.username, "password": "pass\ud800word"}
    )
    assert _refused_fields(response) == ["password"]


def test_a_form_with_a_control_character_is_shown_again_with_the_field_marked(
    unit_client, make_user
) -> None:
    """Forms go through the service's check: the form comes back with the typed values."""
    user = make_user(unit_client)
    data = {"title": "clear\x1b[2J", "body": "kept body", "csrf_token": user.csrf()}
    response = user.client.post("/posts", data=data, headers={"HX-Request": "true"})
    assert response.status_code == 422
    assert "The title contains a control character (U+001B)." in response.text
    assert 'id="title"' in response.text and 'aria-invalid="true"' in response.text
    assert "kept body" in response.text


def _json_bodies(openapi: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path, body schema) of every operation that takes a JSON body."""
    found = []
    for path, operations in openapi["paths"].items():
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            schema = content.get("application/json", {}).get("schema")
            if schema is not None:
                found.append((method.upper(), path, _resolve(openapi, schema)))
    return found


def _resolve(openapi: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = openapi["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _is_text(schema: dict[str, Any]) -> bool:
    return schema.get("type") == "string" or any(
        option.get("type") == "string" for option in schema.get("anyOf", [])
    )


def _refused_at(response, name: str) -> bool:  # type: ignore[no-untyped-def]
    """Refused at that field: by the text rule, or by a stricter one already (a pattern, or a
    choice of words, which no such text can match)."""
    detail = response.json()["detail"]
    return isinstance(detail, list) and any(e["loc"] == ["body", name] for e in detail)


def test_every_text_field_of_every_json_request_refuses_unstorable_text(
    unit_client, make_user
) -> None:
    """Read from /openapi.json, so a new request model cannot forget the rule."""
    user = make_user(unit_client)
    offenders = []
    for method, path, schema in _json_bodies(unit_client.get("/openapi.json").json()):
        url = re.sub(r"\{[^}]+\}", "1", path)
        for name, prop in schema.get("properties", {}).items():
            if not _is_text(prop):
                continue
            for bad in ("x\x00", "x\ud800"):
                response = _post_json(user, url, {name: bad}, method=method)
                if response.status_code != 422 or not _refused_at(response, name):
                    offenders.append(f"{method} {path} {name}={bad!r}: {response.status_code}")
    assert not offenders, "text fields without the rule:\n" + "\n".join(offenders)
