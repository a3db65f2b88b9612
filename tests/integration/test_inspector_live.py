"""The inspector against the engine over HTTP (moto's server, as `make run` starts it).

The figures on the panel and in the headers are compared with what the engine returned (seen
below botocore's event system, independently of the inspector) and with capacity computed by
hand for items of known size.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import threading
from collections.abc import Callable
from typing import Any

import boto3
import httpx
from fastapi.testclient import TestClient
from pynamodb.models import Model

from lens import inspector
from lens.capacity import Precision
from lens.inspector import recording
from sessions.models import Session
from shared import dynamo
from tests.conftest import capacity_header, wait_until_caught_up

pytest_plugins = ["tests.unit.design_fixtures"]
HTMX = {"HX-Request": "true"}
ROW = re.compile(
    r'<tr data-operation="(?P<operation>\w+)" data-table="(?P<table>[^"]*)" '
    r'data-index="[^"]*"\s+data-served-by="[^"]*" data-reported="(?P<reported>[\d.]*)"'
)


def reported_units(response: dict[str, Any]) -> float:
    consumed = response.get("ConsumedCapacity") or []
    entries = consumed if isinstance(consumed, list) else [consumed]
    return sum(float(entry.get("CapacityUnits", 0)) for entry in entries)


def test_post_page_panel_and_headers_match_what_the_engine_returned(
    live_client: TestClient, make_user: Any, engine_responses: list[tuple[str, dict[str, Any]]]
) -> None:
    user = make_user(live_client)
    post = user.call("POST", "/api/v1/posts", json={"title": "Inspect me", "body": "..."}).json()
    engine_responses.clear()
    page = user.client.get(f"/posts/{post['id']}")
    assert page.status_code == 200
    rows = [row.groupdict() for row in ROW.finditer(page.text)]
    assert [row["operation"] for row in rows] == [op for op, _ in engine_responses]
    assert [float(row["reported"] or 0) for row in rows] == [
        reported_units(response) for _, response in engine_responses
    ]
    header = capacity_header(page)
    assert int(header["calls"]) == len(engine_responses)
    assert header["reported-by"] == "local-engine"
    assert 'href="/design#reported-and-computed"' in page.text  # the one explanation


def test_a_like_click_shows_its_update_in_the_out_of_band_panel(
    live_client: TestClient, make_user: Any
) -> None:
    author, fan = make_user(live_client), make_user(live_client)
    post = author.call("POST", "/api/v1/posts", json={"title": "Like me", "body": "..."}).json()
    response = fan.client.post(
        f"/posts/{post['id']}/like",
        data={"action": "like", "csrf_token": fan.csrf()},
        headers=HTMX,
    )
    assert response.status_code == 200 and not response.text.startswith("<!doctype")
    oob = response.text[response.text.index('<details id="inspector-panel"') :]
    assert 'hx-swap-oob="innerHTML"' in oob
    assert 'data-operation="UpdateItem"' in oob


def test_known_item_sizes_are_computed_by_hand_and_reported_alike_by_the_engine(
    live_settings: Any,
    isolated_registries: None,
    make_gadget: Callable[..., type[Model]],
    engine_responses: list[tuple[str, dict[str, Any]]],
) -> None:
    gadget = dynamo.register_model(make_gadget())
    dynamo.bind_models(live_settings, [gadget])
    gadget.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
    client = boto3.session.Session().client(
        "dynamodb",
        endpoint_url=live_settings.dynamodb_endpoint,
        region_name=live_settings.aws_region,
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    for number in range(10):
        item = {"gadget_id": {"S": "box"}, "made_at": {"S": f"{number:02d}"}}
        padding = 4000 - (len("gadget_id") + 3 + len("made_at") + 2 + len("padding"))
        item["padding"] = {"S": "x" * padding}  # exactly 4,000 bytes
        client.put_item(TableName=gadget.Meta.table_name, Item=item)
    # sizes are under test here, not the replica's lag: read once every write has reached it
    wait_until_caught_up(live_settings.dynamodb_endpoint)
    engine_responses.clear()
    with recording(local_engine=True) as rec:
        items = list(gadget.query("box"))
        list(gadget.query("box", consistent_read=True))
    assert len(items) == 10
    eventual, strong = rec.calls
    assert (eventual.items_returned, eventual.items_scanned) == (10, 10)
    assert eventual.computed.read == 5.0  # 40,000 bytes -> 10 blocks of 4 KB, halved
    assert strong.computed.read == 10.0
    assert eventual.computed.precision is Precision.EXACT
    assert eventual.reported is not None
    # the engine reports by the same rules (stock moto said 1.0 for any page)
    assert eventual.reported.read == reported_units(engine_responses[0][1]) == 5.0
    assert eventual.reported.read == eventual.computed.read
    assert strong.reported is not None and strong.reported.read == strong.computed.read
    assert eventual.key == "gadget_id = 'box'"


def test_two_concurrent_requests_never_see_each_others_calls(live_client: TestClient) -> None:
    both_running = threading.Barrier(2, timeout=10)

    def probe(name: str, calls: int) -> dict[str, list[str]]:
        for number in range(calls):
            if number < 2:
                both_running.wait()  # the first two calls of the two requests interleave
            with contextlib.suppress(Session.DoesNotExist):
                Session.get(f"{name}-{number}")
        rec = inspector.current()
        assert rec is not None
        return {"keys": [call.key for call in rec.calls]}

    live_client.app.add_api_route("/test-probe/{name}/{calls}", probe)  # type: ignore[attr-defined]

    async def run_both() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=live_client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            pending = (client.get("/test-probe/alpha/2"), client.get("/test-probe/beta/3"))
            return list(await asyncio.gather(*pending))

    alpha, beta = asyncio.run(run_both())
    assert capacity_header(alpha)["calls"] == "2" and capacity_header(beta)["calls"] == "3"
    assert all("alpha" in key for key in alpha.json()["keys"])
    assert all("beta" in key for key in beta.json()["keys"])


def test_the_tours_like_step_counts_the_update_items_the_inspector_shows(
    live_client: TestClient, make_user: Any
) -> None:
    """The tour tells the learner what the inspector will list after a like; the number it
    names must be the number of UpdateItem rows a like really makes, and a like sent again
    (from a tab still showing Like) must make no counter ADD, as the step says."""
    from lens.tour import STEPS

    author, fan = make_user(live_client), make_user(live_client)
    post = author.call("POST", "/api/v1/posts", json={"title": "Count me", "body": "..."}).json()

    def like() -> list[str]:
        response = fan.client.post(
            f"/posts/{post['id']}/like",
            data={"action": "like", "csrf_token": fan.csrf()},
            headers=HTMX,
        )
        oob = response.text[response.text.index('<details id="inspector-panel"') :]
        return re.findall(r'data-operation="(\w+)"', oob)

    updates = like().count("UpdateItem")
    words = {2: "Two", 3: "Three", 4: "Four", 5: "Five"}
    watch = next(step.watch for step in STEPS if step.slug == "updates")
    assert watch.startswith(f"{words[updates]} UpdateItem lines"), (updates, watch)
    assert like().count("UpdateItem") == 1  # the refused condition only: no ADD
