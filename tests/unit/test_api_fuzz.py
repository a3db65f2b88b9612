"""The JSON API fuzzed from its own /openapi.json (schemathesis), signed in, CSRF header sent.

Every operation gets generated requests, valid and invalid, and every answer must be no 5xx, a
documented status, the documented content type and a body that matches the documented schema.
In-process, on moto and SQLite like the rest of this tier: no engine to start, no sockets, so a
few examples per operation fit well under a minute; `make fuzz` runs the same test with many
more (FUZZ_EXAMPLES).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.errors import FailureGroup

from shared.auth import SESSION_COOKIE
from tests.conftest import ApiUser, in_process_app

FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "5"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
BASE_URL = "http://testserver"


class Fuzzer(ApiUser):
    """A signed-in API client that signs in again when a fuzzed call signed it out.

    The CSRF token is bound to the session, so it is read again only after a response that
    changed the session cookie (a fuzzed sign-up, sign-in or sign-out).
    """

    token: str | None = None

    def headers(self) -> dict[str, str]:
        if self.token is None:
            session = self.client.get("/api/v1/auth/session").json()
            if session["user"] is None:
                login = self.call("POST", "/api/v1/auth/login", json=self.credentials())
                assert login.status_code == 200, login.text
                session = self.client.get("/api/v1/auth/session").json()
            self.token = session["csrf_token"]
        return {"X-CSRF-Token": self.token}

    def saw(self, response: httpx.Response) -> None:
        if SESSION_COOKIE in response.headers.get("set-cookie", ""):
            self.token = None


@pytest.fixture
def fuzzer(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Fuzzer]:
    """The app with one user who wrote a post, commented and liked it: ids worth guessing."""
    with in_process_app(monkeypatch, tmp_path) as client:
        user = Fuzzer(client, "fuzzer")
        user.signup()
        post_id = user.call("POST", "/api/v1/posts", json={"title": "t", "body": "b"}).json()["id"]
        user.call("POST", f"/api/v1/posts/{post_id}/comments", json={"body": "c"})
        user.call("PUT", f"/api/v1/posts/{post_id}/like")
        yield user


def _for_httpx(request: dict[str, Any]) -> dict[str, Any]:
    """schemathesis speaks `requests`; the test client is httpx, which wants raw bodies as
    `content` and no empty per-request cookie jar."""
    if isinstance(request.get("data"), bytes | str):
        request["content"] = request.pop("data")
    if not request.get("cookies"):
        request.pop("cookies", None)
    return request


def _fuzz(operation: schemathesis.APIOperation, mode: GenerationMode, fuzzer: Fuzzer) -> int:
    """Run FUZZ_EXAMPLES generated requests against one operation; the number sent."""
    sent = 0

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=FUZZ_EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),  # large bodies are slow to build, on purpose
    )
    def send(case: schemathesis.Case) -> None:
        nonlocal sent
        request = _for_httpx(case.as_transport_kwargs(base_url=BASE_URL, headers=fuzzer.headers()))
        response = fuzzer.client.request(**request)
        fuzzer.saw(response)
        sent += 1
        case.validate_response(response, checks=CHECKS)

    send()
    return sent


def test_the_api_answers_only_what_it_documents_and_never_5xx(fuzzer: Fuzzer) -> None:
    """Valid requests, then invalid ones, for every operation; even when one fails, every
    other operation is fuzzed and the failures are reported together."""
    schema = schemathesis.openapi.from_dict(fuzzer.client.get("/openapi.json").json())
    operations = [result.ok() for result in schema.get_all_operations()]
    failures, sent = {}, 0
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        for operation in operations:
            try:
                sent += _fuzz(operation, mode, fuzzer)
            except Unsatisfiable as nothing:
                if mode is GenerationMode.POSITIVE:  # without parameters, nothing can be wrong
                    failures[f"{operation.label} ({mode})"] = str(nothing)
            except (Exception, FailureGroup) as failure:  # noqa: BLE001 - reported below
                failures[f"{operation.label} ({mode})"] = str(failure)
    print(f"fuzzed {len(operations)} operations with {sent} requests")
    assert not failures, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())
