"""The operation inspector: every DynamoDB call and SQL statement of a request, and its cost."""

from __future__ import annotations

import asyncio
import contextlib
import re
import threading
from typing import Any

import boto3
import httpx
import pytest
from fastapi.testclient import TestClient

from lens import inspector
from lens.capacity import Precision
from lens.inspector import recording
from sessions.models import Session
from shared.dynamo import bind_models, bound_settings
from tests.conftest import capacity_header, in_process_app

HTMX = {"HX-Request": "true"}


def raw_client() -> Any:
    settings = bound_settings()
    return boto3.session.Session().client("dynamodb", region_name=settings.aws_region)


def test_page_panel_lists_each_call_with_what_the_engine_returned(
    unit_client: TestClient, make_user: Any, engine_responses: list[tuple[str, dict[str, Any]]]
) -> None:
    user = make_user(unit_client)
    engine_responses.clear()
    page = user.client.get("/")
    rows = re.findall(r'<tr data-operation="(\w+)"[^>]*data-reported="([\d.]*)"', page.text)
    assert [operation for operation, _ in rows] == [op for op, _ in engine_responses]
    assert [float(reported) for _, reported in rows] == [
        response["ConsumedCapacity"]["CapacityUnits"] for _, response in engine_responses
    ]
    assert 'data-operation="GetItem" data-table="unit-sessions"' in page.text
    assert "session_id = &#39;" in page.text  # the key, readable, placeholders replaced


def test_the_engine_is_asked_for_capacity_per_index_only_while_recording(
    unit_client: TestClient,
) -> None:
    asked: list[str | None] = []
    client = raw_client()
    client.meta.events.register(
        "before-call.dynamodb.GetItem",
        lambda params, **_: asked.append(
            params["body"].decode().split('"ReturnConsumedCapacity": ')[-1][:9]
            if b"ReturnConsumedCapacity" in params["body"]
            else None
        ),
    )
    key = {"session_id": {"S": "nobody"}}
    client.get_item(TableName="unit-sessions", Key=key)
    with recording():
        client.get_item(TableName="unit-sessions", Key=key)
    assert asked == [None, '"INDEXES"']


def test_htmx_fragment_updates_the_panel_out_of_band(
    unit_client: TestClient, make_user: Any
) -> None:
    make_user(unit_client, "oobuser")
    csrf = unit_client.get("/api/v1/auth/session").json()["csrf_token"]
    data = {"username": "oobuser", "password": "wrong-password", "csrf_token": csrf}
    fragment = unit_client.post("/login", data=data, headers=HTMX)
    assert fragment.status_code == 401 and not fragment.text.startswith("<!doctype")
    assert '<details id="inspector-panel" class="inspector" data-testid="inspector" ' in (
        fragment.text
    )
    assert 'hx-swap-oob="innerHTML"' in fragment.text
    assert "SELECT" in fragment.text  # the failed sign-in's user lookup


def test_full_page_panel_is_collapsed_and_has_no_oob_marker(unit_client: TestClient) -> None:
    page = unit_client.get("/login").text
    panel = page[page.index('<details id="inspector-panel"') :]
    assert panel.startswith(
        '<details id="inspector-panel" class="inspector" data-testid="inspector">'
    )
    assert "hx-swap-oob" not in panel and "/static/inspector.js" in panel


def test_api_responses_carry_server_timing_and_a_capacity_summary(
    unit_client: TestClient, make_user: Any
) -> None:
    user = make_user(unit_client)
    response = user.client.get("/api/v1/auth/session")
    summary = capacity_header(response)
    assert summary["calls"] == "1"
    # The session is read strongly consistent: 1 RCU (stock moto, in this tier, reports 0.5
    # for any GetItem).
    assert summary["reported-rcu"] == "0.5" and summary["computed-rcu"] == "1"
    assert summary["computed-precision"] == "exact"
    assert re.search(
        r'dynamodb;dur=[\d.]+;desc="1 DynamoDB call"', response.headers["server-timing"]
    )
    assert re.search(r"sql;dur=[\d.]+", response.headers["server-timing"])


def test_each_call_names_the_service_function_and_access_pattern(
    unit_client: TestClient, make_user: Any
) -> None:
    user = make_user(unit_client)
    page = user.client.get("/signup").text
    assert 'data-served-by="sessions.service.viewer_for_token"' in page
    assert "Find the session of a request" in page


def test_two_concurrent_requests_never_see_each_others_calls(unit_client: TestClient) -> None:
    both_running = threading.Barrier(2, timeout=10)

    def probe(name: str, calls: int) -> dict[str, list[str]]:
        both_running.wait()
        for number in range(calls):
            with contextlib.suppress(Session.DoesNotExist):
                Session.get(f"{name}-{number}")
        both_running.wait()
        rec = inspector.current()
        assert rec is not None
        return {"keys": [call.key for call in rec.calls]}

    unit_client.app.add_api_route("/test-probe/{name}/{calls}", probe)  # type: ignore[attr-defined]

    async def run_both() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=unit_client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return list(
                await asyncio.gather(
                    client.get("/test-probe/alpha/2"), client.get("/test-probe/beta/3")
                )
            )

    alpha, beta = asyncio.run(run_both())
    assert capacity_header(alpha)["calls"] == "2" and capacity_header(beta)["calls"] == "3"
    assert all("alpha" in key for key in alpha.json()["keys"])
    assert all("beta" in key for key in beta.json()["keys"])


def test_nothing_is_recorded_outside_a_recording(unit_client: TestClient) -> None:
    assert inspector.current() is None
    with recording() as rec:
        list(Session.scan(limit=1))
    list(Session.scan(limit=1))
    assert [call.operation for call in rec.calls] == ["Scan"]
    assert rec.calls[0].key == "(no key: every item of the table)"


def test_capture_survives_a_rebind_of_the_models(unit_client: TestClient) -> None:
    bind_models(bound_settings())
    with recording() as rec, pytest.raises(Session.DoesNotExist):
        Session.get("after-rebind")
    assert [call.operation for call in rec.calls] == ["GetItem"]
    assert rec.calls[0].items_returned == 0
    assert rec.calls[0].computed.read == 0.5  # a missing item still costs the minimum


def test_plain_boto3_clients_are_captured_too(unit_client: TestClient) -> None:
    client = raw_client()
    with recording() as rec:
        client.describe_table(TableName="unit-sessions")
    assert [call.operation for call in rec.calls] == ["DescribeTable"]
    assert rec.calls[0].computed.total == 0


def test_known_item_sizes_give_hand_computed_capacity(unit_client: TestClient) -> None:
    client = raw_client()
    padding = "x" * (6 * 1024)
    item = {
        "session_id": {"S": "big"},  # 10 + 3
        "user_id": {"S": "1"},  # 7 + 1
        "username": {"S": "big"},  # 8 + 3
        "display_name": {"S": "Big"},  # 12 + 3
        "created_at": {"S": "2026-01-01T00:00:00.000000+0000"},  # 10 + 31
        "absolute_expiry": {"S": "2099-01-01T00:00:00.000000+0000"},  # 15 + 31
        "expires_at": {"N": "4070908800"},  # 10 + 6
        "padding": {"S": padding},  # 7 + 6,144
    }
    client.put_item(TableName="unit-sessions", Item=item)
    with recording() as rec:
        Session.get("big")
        Session.get("big", consistent_read=True)
    sizes_kb = (13 + 8 + 11 + 15 + 41 + 46 + 16 + 7 + 6144) / 1024  # 6.1 KB -> 8 KB
    assert 4 < sizes_kb < 8
    assert [call.computed.read for call in rec.calls] == [1.0, 2.0]
    assert all(call.computed.precision is Precision.EXACT for call in rec.calls)


def test_a_refused_condition_is_shown_with_its_error_and_its_cost(
    unit_client: TestClient,
) -> None:
    client = raw_client()
    item = {"session_id": {"S": "dup"}}
    client.put_item(TableName="unit-sessions", Item=item)
    with recording() as rec, pytest.raises(client.exceptions.ConditionalCheckFailedException):
        client.put_item(
            TableName="unit-sessions",
            Item=item,
            ConditionExpression="attribute_not_exists(session_id)",
        )
    (call,) = rec.calls
    assert call.error == "ConditionalCheckFailedException"
    assert call.computed.write == 1.0 and call.computed.precision is Precision.AT_LEAST
    assert call.detail == (("condition:", "attribute_not_exists(session_id)"),)


def test_sql_statements_are_recorded_without_password_hashes(unit_client: TestClient) -> None:
    from blog import service as blog_service
    from shared.passwords import hash_password

    with recording() as rec:
        new_user = blog_service.prepare_user(username="sqlwatch")
        blog_service.add_user(new_user=new_user, password_hash=hash_password("password-123"))
        blog_service.user_count()
    sql = [statement.sql for statement in rec.statements]
    assert any(s.startswith("INSERT INTO") for s in sql)
    assert any("COUNT" in s for s in sql)
    params = [p for statement in rec.statements for p in statement.params]
    assert "<password hash>" in params and not any(p.startswith("$argon2") for p in params)
    assert all(statement.ms >= 0 for statement in rec.statements)


def test_inspector_switched_off_adds_no_panel_and_no_headers(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    with in_process_app(monkeypatch, tmp_path, INSPECTOR_ENABLED="false") as client:
        response = client.get("/")
    assert response.status_code == 200
    assert "x-dynamodb-capacity" not in response.headers
    assert 'id="inspector-panel"' not in response.text


def test_batch_writes_are_described_and_costed_per_item(unit_client: TestClient) -> None:
    client = raw_client()
    requests = [{"PutRequest": {"Item": {"session_id": {"S": f"batch-{n}"}}}} for n in range(2)]
    with recording() as rec:
        client.batch_write_item(RequestItems={"unit-sessions": requests})
    (call,) = rec.calls
    assert call.key == "2 write requests on unit-sessions"
    assert call.computed.write == 2.0 and call.computed.precision is Precision.AT_LEAST


def test_a_fault_in_the_inspector_never_breaks_the_call(
    unit_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: Any) -> None:
        raise RuntimeError("a bug in the lens")

    monkeypatch.setattr(inspector, "_describe", broken)
    with recording() as rec, pytest.raises(Session.DoesNotExist):
        Session.get("still-works")
    (call,) = rec.calls
    assert call.operation == "GetItem" and call.table == "unit-sessions"
    assert "could not describe" in call.computed.notes[0]


def consistency_marks(html: str) -> list[tuple[str, str, str]]:
    """(operation, index, consistency) of every call row of the inspector panel."""
    return re.findall(
        r'<tr data-operation="(\w+)"[^>]*?data-index="([\w]*)"[^>]*?data-consistency="(\w*)"',
        html,
    )


def test_every_read_is_marked_strong_or_eventual_and_a_gsi_read_always_eventual(
    unit_client: TestClient, make_user: Any
) -> None:
    reader = make_user(unit_client)
    post = reader.call("POST", "/api/v1/posts", json={"title": "Marks", "body": "..."}).json()
    signed_in = consistency_marks(reader.client.get(f"/posts/{post['id']}").text)
    visitor = consistency_marks(TestClient(unit_client.app).get(f"/posts/{post['id']}").text)
    reads = {"GetItem", "BatchGetItem", "Query", "Scan"}
    for marks in (signed_in, visitor):
        assert all(mark in ("strong", "eventual") for op, _, mark in marks if op in reads)
        assert all(mark == "" for op, _, mark in marks if op not in reads)
        assert ("Query", "PostActivityIndex", "eventual") in marks  # the timeline, a GSI
        assert ("Query", "", "strong") in marks  # the comments: whoever just posted sees theirs
    assert ("GetItem", "", "strong") in signed_in  # the session, right after sign-in too
    assert ("BatchGetItem", "", "strong") in signed_in  # the viewer's own like
    assert ("BatchGetItem", "", "eventual") in visitor  # a visitor has no like to miss
    assert 'class="consistency consistency-strong"' in reader.client.get("/").text


@pytest.mark.parametrize(
    ("operation", "params", "expected"),
    [
        ("GetItem", {"ConsistentRead": True}, "strong"),
        ("GetItem", {}, "eventual"),
        ("Query", {"IndexName": "FeedIndex", "ConsistentRead": True}, "eventual"),
        ("BatchGetItem", {"RequestItems": {"a": {"ConsistentRead": True}, "b": {}}}, "eventual"),
        ("BatchGetItem", {"RequestItems": {"a": {"ConsistentRead": True}}}, "strong"),
        ("TransactGetItems", {}, "strong"),
        ("PutItem", {}, None),
    ],
)
def test_read_consistency_of_each_operation(
    operation: str, params: dict[str, Any], expected: str | None
) -> None:
    assert inspector.read_consistency(operation, params) == expected
