"""The kernel's DynamoDB idioms: conditions, errors worth a retry, batches with backoff."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from pynamodb.exceptions import DoesNotExist, PutError, UpdateError

from shared import dynamo
from shared.dynamo import (
    UnprocessedReads,
    batch_get,
    chunks,
    conditional_write,
    is_condition_failure,
    is_unavailable,
)
from shared.errors import ServiceUnavailable


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
