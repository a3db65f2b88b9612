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
    negative_data_rejection,
    not_a_server_error,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
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
    positive_data_acceptance,
    negative_data_rejection,
    unsupported_method,
]
MODES = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
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


def _beyond_a_schema(case: schemathesis.Case) -> bool:
    """Valid by the schema, and still refused by a rule no JSON schema can state: a made-up
    cursor (only one the API signed is valid, and a signature cannot be written in a schema),
    or an Idempotency-Key header that differs from the body's idempotency_key (a schema cannot
    relate a header to a body field)."""
    if isinstance(case.query, dict) and case.query.get("cursor"):
        return True
    header = {name.lower(): v for name, v in (case.headers or {}).items()}.get("idempotency-key")
    body_key = case.body.get("idempotency_key") if isinstance(case.body, dict) else None
    return header is not None and body_key is not None and header != body_key


def _checks_for(case: schemathesis.Case) -> list[Any]:
    """Every check, but "valid data is accepted" only where the schema can say what is valid.
    The other answers are still checked against the documented ones."""
    if _beyond_a_schema(case):
        return [check for check in CHECKS if check is not positive_data_acceptance]
    return CHECKS


def _send(case: schemathesis.Case, fuzzer: Fuzzer) -> None:
    request = _for_httpx(case.as_transport_kwargs(base_url=BASE_URL, headers=fuzzer.headers()))
    response = fuzzer.client.request(**request)
    fuzzer.saw(response)
    case.validate_response(response, checks=_checks_for(case))


def _cover(
    schema: schemathesis.BaseSchema, operation: schemathesis.APIOperation, fuzzer: Fuzzer
) -> tuple[int, dict[str, str]]:
    """The coverage phase: each rule's boundaries and each way to break it, valid and invalid,
    and the methods the path does not take; the number sent and the failures by case."""
    generation = schema.config.generation_for(operation=operation, phase="coverage")
    sent, failures = 0, {}
    for case in schema.iter_coverage_cases(
        operation, generation_modes=MODES, generation_config=generation
    ):
        sent += 1
        try:
            _send(case, fuzzer)
        except (Exception, FailureGroup) as failure:  # noqa: BLE001 - reported together
            phase = case.meta.phase.data if case.meta else None
            described = getattr(phase, "description", "")
            failures[f"{case.method} {case.formatted_path}: {described}"] = str(failure)
    return sent, failures


def _fuzz(operation: schemathesis.APIOperation, mode: GenerationMode, fuzzer: Fuzzer) -> int:
    """The fuzzing phase: FUZZ_EXAMPLES random requests against one operation; the number
    sent."""
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
        sent += 1
        _send(case, fuzzer)

    send()
    return sent


def test_the_api_answers_only_what_it_documents_and_never_5xx(fuzzer: Fuzzer) -> None:
    """Valid requests are accepted and invalid ones refused with a 4xx, for every operation,
    first each boundary (coverage), then random ones (fuzzing); every answer is a documented
    status with the documented body. Even when one operation fails, every other is tried and
    the failures are reported together."""
    schema = schemathesis.openapi.from_dict(fuzzer.client.get("/openapi.json").json())
    operations = [result.ok() for result in schema.get_all_operations()]
    failures, sent = {}, 0
    for operation in operations:
        covered, found = _cover(schema, operation, fuzzer)
        sent += covered
        failures.update({f"{operation.label} (coverage) {k}": v for k, v in found.items()})
    for mode in MODES:
        for operation in operations:
            try:
                sent += _fuzz(operation, mode, fuzzer)
            except Unsatisfiable as nothing:
                if mode is GenerationMode.POSITIVE:  # without parameters, nothing can be wrong
                    failures[f"{operation.label} ({mode})"] = str(nothing)
            except (Exception, FailureGroup) as failure:  # noqa: BLE001 - reported below
                failures[f"{operation.label} ({mode})"] = str(failure)
    print(f"fuzzed {len(operations)} operations with {sent} requests")
    assert not failures, f"{len(failures)} failures:\n\n" + "\n\n".join(
        f"{label}:\n{text}" for label, text in failures.items()
    )
