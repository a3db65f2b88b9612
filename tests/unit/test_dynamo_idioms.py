"""The kernel's DynamoDB idioms: conditions, errors worth a retry, batches with backoff."""

from __future__ import annotations

import contextvars
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from pynamodb.exceptions import DoesNotExist, PutError, UpdateError

from shared import dynamo
from shared.dynamo import (
    UnprocessedReads,
    UnprocessedWrites,
    batch_get,
    batch_write,
    chunks,
    conditional_write,
    is_condition_failure,
    is_unavailable,
)
from shared.errors import ServiceUnavailable

ROOT = Path(__file__).resolve().parents[2]


def answered(code: str, status: int = 400) -> ClientError:
    metadata = {"HTTPStatusCode": status}
    return ClientError(
        {"Error": {"Code": code, "Message": code}, "ResponseMetadata": metadata}, "PutItem"
    )


def test_only_a_failed_condition_is_swallowed_and_noted() -> None:
    with conditional_write() as write:
        raise PutError("refused", answered("ConditionalCheckFailedException"))
    assert write.refused
    with conditional_write() as write:
        pass
    assert not write.refused
    for error in (
        PutError("throttled", answered("ProvisionedThroughputExceededException")),
        UpdateError("no answer"),
        answered("ValidationException"),
    ):
        with pytest.raises(type(error)), conditional_write():
            raise error
    assert is_condition_failure(answered("ConditionalCheckFailedException"))


@pytest.mark.parametrize(
    ("error", "unavailable"),
    [
        (PutError("throttled", answered("ThrottlingException")), True),
        (answered("ProvisionedThroughputExceededException"), True),
        (answered("InternalServerError"), True),
        (PutError("engine crashed", answered("500", status=500)), True),
        (UpdateError("read timeout"), True),
        (PutError("refused", EndpointConnectionError(endpoint_url="http://127.0.0.1:9")), True),
        (EndpointConnectionError(endpoint_url="http://127.0.0.1:9"), True),
        (PutError("refused", answered("ConditionalCheckFailedException")), False),
        (answered("ValidationException"), False),
        (DoesNotExist(), False),
    ],
)
def test_no_answer_or_a_throttle_is_worth_a_retry_and_a_refusal_is_not(
    error: Exception, unavailable: bool
) -> None:
    assert is_unavailable(error) is unavailable


class HalfAnsweringClient:
    """Answers the first BatchGetItem for only its first key; later ones in full."""

    def __init__(self, always_unprocessed: bool = False) -> None:
        self.requests: list[list[dict[str, Any]]] = []
        self.always_unprocessed = always_unprocessed

    def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:  # noqa: N803
        ((table, request),) = RequestItems.items()
        keys = request["Keys"]
        self.requests.append(keys)
        done = keys[:1] if self.always_unprocessed or len(self.requests) == 1 else keys
        left = keys[len(done) :]
        response: dict[str, Any] = {"Responses": {table: [dict(k, n={"N": "1"}) for k in done]}}
        if left:
            response["UnprocessedKeys"] = {table: {"Keys": left}}
        return response


def key(i: int) -> dict[str, Any]:
    return {"id": {"S": f"k{i}"}}


def test_batch_get_asks_again_for_unprocessed_keys_after_a_backoff(monkeypatch) -> None:
    waits: list[float] = []
    monkeypatch.setattr(dynamo.time, "sleep", waits.append)
    client = HalfAnsweringClient()
    found = batch_get(client, "things", [key(1), key(2), key(1), key(3)])
    assert sorted(item["id"]["S"] for item in found) == ["k1", "k2", "k3"]
    assert client.requests == [[key(1), key(2), key(3)], [key(2), key(3)]]
    assert len(waits) == 1 and waits[0] > 0


def test_batch_get_gives_up_as_a_503_after_its_attempts(monkeypatch) -> None:
    monkeypatch.setattr(dynamo.time, "sleep", lambda seconds: None)
    client = HalfAnsweringClient(always_unprocessed=True)
    with pytest.raises(UnprocessedReads) as raised:
        batch_get(client, "things", [key(i) for i in range(5)], max_attempts=3)
    assert isinstance(raised.value, ServiceUnavailable) and len(client.requests) == 3


def test_batch_get_sends_at_most_100_keys_a_request(monkeypatch) -> None:
    client = HalfAnsweringClient()
    client.requests.append([])  # every request is answered in full
    batch_get(client, "things", [key(i) for i in range(250)])
    assert [len(keys) for keys in client.requests[1:]] == [100, 100, 50]


def test_chunks_cuts_any_iterable_lazily() -> None:
    assert list(chunks(iter(range(7)), 3)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(chunks([], 3)) == []


class SlowWritingClient:
    """Answers each BatchWriteItem after a short wait, noting how many were open at once;
    `refuse_after` calls in, it keeps every item unprocessed."""

    def __init__(self, refuse_after: int | None = None) -> None:
        self.written: list[dict[str, Any]] = []
        self.calls = 0
        self.open = 0
        self.most_open = 0
        self.refuse_after = refuse_after
        self.lock = threading.Lock()

    def batch_write_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:  # noqa: N803
        ((table, requests),) = RequestItems.items()
        with self.lock:
            self.calls += 1
            refuse = self.refuse_after is not None and self.calls > self.refuse_after
            self.open += 1
            self.most_open = max(self.most_open, self.open)
        time.sleep(0.01)
        with self.lock:
            self.open -= 1
            if not refuse:
                self.written += [r["PutRequest"]["Item"] for r in requests]
        return {"UnprocessedItems": {table: requests}} if refuse else {}


def items(count: int) -> Iterator[dict[str, Any]]:
    """A generator, as the seeders pass: batch_write must not need a list."""
    return (key(i) for i in range(count))


@pytest.mark.parametrize("in_flight", [1, 2, 4])
def test_batch_write_writes_every_item_once_with_at_most_in_flight_calls_open(
    in_flight: int,
) -> None:
    client = SlowWritingClient()
    reported: list[int] = []
    written = batch_write(
        client, "things", puts=items(260), in_flight=in_flight, progress=reported.append
    )
    assert written == 260 and sum(reported) == 260
    assert sorted(item["id"]["S"] for item in client.written) == sorted(f"k{i}" for i in range(260))
    assert client.calls == 11 and sorted(reported) == [10] + [25] * 10
    assert client.most_open == min(in_flight, 11)


def test_batch_write_in_flight_stops_sending_after_a_batch_that_stays_unprocessed(
    monkeypatch,
) -> None:
    monkeypatch.setattr(dynamo.time, "sleep", lambda seconds: None)
    client = SlowWritingClient(refuse_after=3)
    with pytest.raises(UnprocessedWrites):
        batch_write(client, "things", puts=items(1_000), in_flight=2, max_attempts=2)
    # 40 batches were to go; after the first refusal only the few already queued are tried.
    assert len(client.written) == 75 and client.calls < 12


def test_batch_write_in_flight_runs_each_batch_in_the_callers_context() -> None:
    """The inspector keeps a request's recording in a ContextVar: batches sent from the pool
    must still be seen as that request's calls."""
    seen: list[str | None] = []
    marker: contextvars.ContextVar[str | None] = contextvars.ContextVar("marker", default=None)

    class Client(SlowWritingClient):
        def batch_write_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:  # noqa: N803
            seen.append(marker.get())
            return super().batch_write_item(RequestItems)

    marker.set("request 7")
    batch_write(Client(), "things", puts=items(100), in_flight=2)
    assert seen == ["request 7"] * 4


def test_start_up_heap_is_frozen_once_per_process() -> None:
    """In a fresh interpreter: the first call collects and freezes, a second does nothing."""
    script = (
        "import gc; from shared.process import settle_start_up_heap as s; "
        "before = gc.get_freeze_count(); first = s(); frozen = gc.get_freeze_count(); "
        "second = s(); print(before, first, frozen > 1000, second, gc.get_freeze_count() == frozen)"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["0", "True", "True", "False", "True"]
