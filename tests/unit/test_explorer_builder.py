"""The operation builder: one read, checked against the design, run, priced and written as code."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.models import Model

from activity.models import Activity
from engagement.comments.models import Comment
from engagement.likes.models import LikeCounter
from lens import links, operations
from lens.capacity import WRITE_OPERATIONS
from lens.design import PatternDesign, describe_table, pattern_design
from lens.explorer import find_table
from shared import dynamo
from shared.access_patterns import access_patterns
from shared.dynamo import bound_client

pytest_plugins = ["tests.unit.explorer_fixtures", "tests.unit.design_fixtures"]


def csrf(client: TestClient) -> dict[str, str]:
    return {"X-CSRF-Token": client.get("/api/v1/auth/session").json()["csrf_token"]}


def run(client: TestClient, table: str, **body: Any) -> Any:
    return client.post(f"/api/v1/tables/{table}/operations", json=body, headers=csrf(client))


def a_user_with_activities() -> str:
    return next(iter(Activity.scan(limit=1))).user_id


def keys_of(items: list[dict[str, Any]], *names: str) -> list[tuple[str, ...]]:
    return [tuple(next(iter(item[name].values())) for name in names) for item in items]


def test_a_query_returns_the_items_a_pynamodb_query_returns_with_its_cost_and_request(
    seeded_client: TestClient,
) -> None:
    user_id = a_user_with_activities()
    response = run(
        seeded_client,
        "unit-activities",
        operation="Query",
        partition_key=user_id,
        sort_key={"op": "begins_with", "value": "20"},
        limit=5,
        forward=False,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    expected = list(
        Activity.query(
            user_id, Activity.timestamp.startswith("20"), scan_index_forward=False, limit=5
        )
    )
    assert keys_of(body["items"], "user_id", "timestamp") == [
        (a.user_id, a.timestamp) for a in expected
    ]
    assert body["count"] == body["scanned_count"] == len(expected)
    assert body["request"] == {
        "TableName": "unit-activities",
        "KeyConditionExpression": "#pk = :pk AND begins_with(#sk, :sk)",
        "ExpressionAttributeNames": {"#pk": "user_id", "#sk": "timestamp"},
        "ExpressionAttributeValues": {":pk": {"S": user_id}, ":sk": {"S": "20"}},
        "ScanIndexForward": False,
        "Limit": 5,
        "ReturnConsumedCapacity": "INDEXES",
    }
    assert body["capacity"]["computed_rcu"] == 0.5  # five small items: one 4 KB unit, halved
    assert body["capacity"]["reported_rcu"] is not None
    assert body["latency_ms"] > 0
    assert body["item_types"] == ["activity.models.Activity"] * len(expected)


def test_the_generated_snippets_run_as_they_are_and_return_the_same_items(
    seeded_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_REGION", "ap-northeast-1")
    body = run(
        seeded_client,
        "unit-activities",
        operation="Query",
        index="PostActivityIndex",
        partition_key=1,
        limit=4,
        forward=False,
    ).json()
    boto3_scope: dict[str, Any] = {}
    exec(body["code"]["boto3"], boto3_scope)  # noqa: S102 - the snippet a learner pastes
    assert boto3_scope["response"]["Items"] == body["items"]
    pynamodb_scope: dict[str, Any] = {}
    exec(body["code"]["pynamodb"], pynamodb_scope)  # noqa: S102
    assert [item.serialize() for item in pynamodb_scope["items"]] == body["items"]
    assert "Activity.post_index.query(" in body["code"]["pynamodb"]


def test_a_filtered_scan_reads_more_than_it_returns_and_its_code_reads_one_page(
    seeded_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_REGION", "ap-northeast-1")
    body = run(
        seeded_client,
        "unit-activities",
        operation="Scan",
        limit=30,
        filter={"attribute": "activity_type", "op": "=", "value": "like"},
    ).json()
    assert body["scanned_count"] == 30 > body["count"]
    assert {item["activity_type"]["S"] for item in body["items"]} <= {"like"}
    assert body["request"]["FilterExpression"] == "#f = :f"
    assert "page_size=30" in body["code"]["pynamodb"]
    scope: dict[str, Any] = {}
    exec(body["code"]["pynamodb"], scope)  # noqa: S102
    assert [item.serialize() for item in scope["items"]] == body["items"]


def test_get_item_reads_one_item_by_its_whole_key(seeded_client: TestClient) -> None:
    counter = next(iter(LikeCounter.scan(LikeCounter.sk == "COUNT", limit=20)))
    body = run(
        seeded_client,
        "unit-likes",
        operation="GetItem",
        partition_key=counter.post_id,
        sort_key={"value": "COUNT"},
        consistent_read=True,
    ).json()
    assert body["count"] == 1 and body["items"][0]["like_count"] == {"N": str(counter.like_count)}
    assert body["request"]["Key"] == {"post_id": {"S": counter.post_id}, "sk": {"S": "COUNT"}}
    assert body["capacity"]["computed_rcu"] == 1.0  # strongly consistent: a whole unit
    assert "LikeCounter.get(" in body["code"]["pynamodb"]
    assert "consistent_read=True" in body["code"]["pynamodb"]
    missing = run(
        seeded_client, "unit-likes", operation="GetItem", partition_key="0", sort_key={"value": "x"}
    ).json()
    assert missing["count"] == 0 and missing["items"] == []


def test_a_read_of_a_shared_partition_names_the_other_item_types_in_its_code(
    seeded_client: TestClient,
) -> None:
    counter = next(iter(LikeCounter.scan(LikeCounter.sk == "COUNT", limit=20)))
    body = run(seeded_client, "unit-likes", operation="Query", partition_key=counter.post_id).json()
    assert set(body["item_types"]) == {
        "engagement.likes.models.LikeCounter",
        "engagement.likes.models.UserLike",
    }
    assert "also returns UserLike items" in body["code"]["pynamodb"]


@pytest.mark.parametrize(
    ("table", "body", "status", "message"),
    [
        ("nope", {"operation": "Scan"}, 404, "no DynamoDB table 'nope'"),
        ("unit-activities", {"operation": "Scan", "index": "Nope"}, 404, "has no index 'Nope'"),
        ("unit-activities", {"operation": "PutItem"}, 422, "PutItem writes"),
        ("unit-activities", {"operation": "DeleteTable"}, 422, "Unknown operation"),
        ("unit-activities", {"operation": "Query"}, 422, "needs the partition key (user_id)"),
        ("unit-comments", {"operation": "Query", "partition_key": "abc"}, 422, "is a number"),
        (
            "unit-comments",
            {"operation": "Query", "partition_key": 1, "sort_key": {"op": "~", "value": "a"}},
            422,
            "not a key condition operator",
        ),
        (
            "unit-likes",
            {"operation": "GetItem", "partition_key": "1"},
            422,
            "give the sort key (sk)",
        ),
        (
            "unit-likes",
            {"operation": "GetItem", "partition_key": "1", "sort_key": {"op": "<", "value": "a"}},
            422,
            "must be equal",
        ),
        (
            "unit-activities",
            {
                "operation": "Query",
                "index": "FeedIndex",
                "partition_key": "x",
                "consistent_read": True,
            },
            422,
            "eventually consistent only",
        ),
        (
            "unit-activities",
            {"operation": "GetItem", "index": "FeedIndex", "partition_key": "x"},
            422,
            "cannot use an index",
        ),
        (
            "unit-activities",
            {
                "operation": "Query",
                "partition_key": "1",
                "filter": {"attribute": "timestamp", "value": "x"},
            },
            422,
            "put it in the key condition",
        ),
        (
            "unit-activities",
            {"operation": "Scan", "filter": {"attribute": "nope", "value": "x"}},
            422,
            "declares an attribute 'nope'",
        ),
        (
            "unit-activities",
            {"operation": "Scan", "filter": {"attribute": "post_id", "value": "x"}},
            422,
            "post_id is a number",
        ),
        ("unit-activities", {"operation": "Scan", "partition_key": "1"}, 422, "takes no key"),
        ("unit-activities", {"operation": "Scan", "limit": 0}, 422, "greater than or equal to 1"),
        ("unit-activities", {"operation": "Scan", "Limit": 5}, 422, "Extra inputs"),
    ],
)
def test_bad_input_is_a_readable_4xx(
    seeded_client: TestClient, table: str, body: dict[str, Any], status: int, message: str
) -> None:
    response = run(seeded_client, table, **body)
    assert response.status_code == status, response.text
    assert message in str(response.json()["detail"])


def test_a_lone_surrogate_in_a_key_is_a_422_not_a_crash_in_boto3(seeded_client: TestClient) -> None:
    response = seeded_client.post(
        "/api/v1/tables/unit-activities/operations",
        content=b'{"operation": "Query", "partition_key": "\\ud800"}',
        headers={**csrf(seeded_client), "Content-Type": "application/json"},
    )
    assert response.status_code == 422 and "not valid text" in response.json()["detail"]


def test_every_write_operation_is_refused_by_name(seeded_client: TestClient) -> None:
    for operation in sorted(WRITE_OPERATIONS):
        response = run(seeded_client, "unit-likes", operation=operation)
        assert response.status_code == 422 and "only reads" in response.json()["detail"]


@pytest.fixture
def numbered_table(isolated_registries: None, seeded_client: TestClient) -> Iterator[str]:
    """A throwaway table whose sort key is a number."""

    class Reading(Model):
        class Meta:
            table_name = "readings"

        sensor = UnicodeAttribute(hash_key=True)
        at = NumberAttribute(range_key=True)

    dynamo.register_model(Reading)
    dynamo.bind_models(dynamo.bound_settings(), [Reading])
    Reading.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
    for at in (1, 2, 10):
        Reading(sensor="s1", at=at).save()
    yield Reading.Meta.table_name
    Reading.delete_table()


def test_begins_with_does_not_fit_a_number_sort_key_and_numbers_sort_as_numbers(
    seeded_client: TestClient, numbered_table: str
) -> None:
    refused = run(
        seeded_client,
        numbered_table,
        operation="Query",
        partition_key="s1",
        sort_key={"op": "begins_with", "value": "1"},
    )
    assert refused.status_code == 422 and "at is a number" in refused.json()["detail"]
    between = run(
        seeded_client,
        numbered_table,
        operation="Query",
        partition_key="s1",
        sort_key={"op": "between", "value": 2, "value2": "10"},
    ).json()
    assert [item["at"]["N"] for item in between["items"]] == ["2", "10"]
    assert "Reading.at.between(2, 10)" in between["code"]["pynamodb"]
    page = seeded_client.get(f"/tables/{numbered_table}").text
    positions = [page.index(f'"attr-name">at</span> {n}</span>') for n in (1, 2, 10)]
    assert positions == sorted(positions)  # 1, 2, 10: by value, not as text


def test_the_builder_form_runs_on_the_page_and_htmx_gets_only_the_builder(
    seeded_client: TestClient,
) -> None:
    user_id = a_user_with_activities()
    query = {"op": "Query", "pk": user_id, "order": "backward", "limit": "3", "run": "1"}
    page = seeded_client.get("/tables/unit-activities", params=query)
    assert page.status_code == 200
    assert 'data-testid="builder-result"' in page.text and 'data-testid="collection"' in page.text
    fragment = seeded_client.get(
        "/tables/unit-activities", params=query, headers={"HX-Request": "true"}
    )
    assert fragment.text.lstrip().startswith('<section id="builder"')
    assert 'data-testid="collection"' not in fragment.text
    assert "response = dynamodb.query(" in fragment.text
    bad = seeded_client.get(
        "/tables/unit-activities", params={**query, "limit": "many"}, headers={"HX-Request": "true"}
    )
    assert bad.status_code == 422 and "Limit must be a whole number" in bad.text


def test_the_explorer_never_writes(
    seeded_client: TestClient, engine_responses: list[tuple[str, dict[str, Any]]]
) -> None:
    user_id = a_user_with_activities()
    for url in (
        "/tables",
        "/tables/unit-activities",
        "/tables/unit-activities?index=PostActivityIndex",
        f"/tables/unit-activities/partitions/{user_id}",
        f"/tables/unit-activities?op=Query&pk={user_id}&run=1",
        "/api/v1/tables",
    ):
        assert seeded_client.get(url).status_code == 200
    run(seeded_client, "unit-activities", operation="Scan", limit=3)
    called = {operation for operation, _ in engine_responses}
    assert called and not called & WRITE_OPERATIONS
    assert called <= {"DescribeTable", "Scan", "Query", "GetItem"}


def test_each_access_pattern_on_design_opens_the_builder_with_its_key_condition(
    seeded_client: TestClient,
) -> None:
    page = seeded_client.get("/design").text
    reads = [p for p in access_patterns() if p.operation in operations.READ_OPERATIONS]
    assert page.count('data-testid="open-in-builder"') == len(reads)
    assert 'href="/tables/unit-comments" title=' in page
    thread = next(p for p in access_patterns() if p.function.endswith("list_comments"))
    fields = operations.prefill(describe_table([Comment]), pattern_design(thread), {"post_id": "7"})
    assert fields == {"op": "Query", "on": "", "pk": "7", "sk_op": "<", "sk": "~", "limit": "20"}
    timeline = next(p for p in access_patterns() if p.index == "PostActivityIndex")
    url = "/tables/unit-activities?index=PostActivityIndex&amp;op=Query&amp;on=PostActivityIndex"
    assert url in page
    opened = seeded_client.get(
        "/tables/unit-activities",
        params={"index": "PostActivityIndex", "op": "Query", "on": timeline.index},
    ).text
    first_post = opened.split('data-partition="', 1)[1].split('"', 1)[0]
    assert f'name="pk" value="{first_post}"' in opened


def test_a_scan_opened_from_a_link_gets_no_partition_key_and_runs(
    seeded_client: TestClient,
) -> None:
    """Only GetItem and Query take the first collection's key: a Scan given one is refused."""
    query = {"op": "Scan", "limit": "5", "filter_attr": "activity_type", "filter_value": "like"}
    opened = seeded_client.get("/tables/unit-activities", params=query).text
    assert 'name="pk" value=""' in opened
    ran = seeded_client.get("/tables/unit-activities", params={**query, "run": "1"})
    assert ran.status_code == 200 and 'data-testid="builder-result"' in ran.text


def test_a_sort_key_prefix_becomes_a_begins_with_on_its_prefix(unit_client: TestClient) -> None:
    table = find_table("likes").design
    likers = PatternDesign(
        "Who liked a post",
        "Query",
        'post_id = :p, sk = "USER#<user_id>"',
        None,
        "f",
        None,
        None,
        "",
    )
    fields = operations.prefill(table, likers, {"post_id": "3"})
    assert (fields["op"], fields["pk"], fields["sk_op"], fields["sk"]) == (
        "Query",
        "3",
        "begins_with",
        "USER#",
    )


def test_a_write_or_batch_pattern_gets_no_builder_link(seeded_client: TestClient) -> None:
    """The builder runs one read; a PutItem pattern opening a Query would only look like it."""
    page = seeded_client.get("/design").text
    rows = re.findall(r'<tr data-pattern="([^"]*)">(.*?)</tr>', page, re.S)
    declared = {p.name: p for p in access_patterns()}
    assert {html.unescape(name) for name, _ in rows} == set(declared)
    for name, row in rows:
        pattern = declared[html.unescape(name)]
        runs = pattern.operation in ("GetItem", "Query", "Scan")
        assert ('data-testid="open-in-builder"' in row) is runs, pattern.name
        table = describe_table([pattern.model])
        assert (links.builder_url(table, pattern_design(pattern), {}) is None) is not runs


def test_the_json_api_is_documented_in_openapi_with_its_response_models(
    unit_client: TestClient,
) -> None:
    spec = unit_client.get("/openapi.json").json()
    documented = {
        ("/api/v1/tables", "get"): "TablesResponse",
        ("/api/v1/tables/{table}/collections", "get"): "CollectionsResponse",
        ("/api/v1/tables/{table}/partitions/{pk}", "get"): "CollectionsResponse",
        ("/api/v1/tables/{table}/operations", "post"): "OperationResponse",
    }
    for (path, method), model in documented.items():
        answer = spec["paths"][path][method]["responses"]["200"]["content"]["application/json"]
        assert answer["schema"] == {"$ref": f"#/components/schemas/{model}"}
    body = spec["paths"]["/api/v1/tables/{table}/operations"]["post"]["requestBody"]
    assert body["content"]["application/json"]["schema"]["$ref"].endswith("/OperationRequest")


# -- pages: LastEvaluatedKey handed back as a signed cursor, ExclusiveStartKey on the next -------


def test_paging_a_query_with_its_cursor_reads_each_item_once_in_order(
    seeded_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_REGION", "ap-northeast-1")
    user_id = a_user_with_activities()
    query = {"operation": "Query", "partition_key": user_id, "limit": 3, "forward": False}
    expected = [(a.user_id, a.timestamp) for a in Activity.query(user_id, scan_index_forward=False)]
    assert len(expected) > 6  # several pages
    seen: list[tuple[str, ...]] = []
    cursor = previous_key = None
    pages = 0
    while True:
        body = run(seeded_client, "unit-activities", **query, cursor=cursor).json()
        pages += 1
        seen += keys_of(body["items"], "user_id", "timestamp")
        if pages > 1:  # the page after another starts after that page's last key
            assert body["request"]["ExclusiveStartKey"] == previous_key
            assert "last_evaluated_key={" in body["code"]["pynamodb"]
            scope: dict[str, Any] = {}
            exec(body["code"]["pynamodb"], scope)  # noqa: S102 - the page, as a learner runs it
            assert [item.serialize() for item in scope["items"]] == body["items"]
        cursor, previous_key = body["next_cursor"], body["last_evaluated_key"]
        if cursor is None:
            break
        assert previous_key == {
            "user_id": body["items"][-1]["user_id"],
            "timestamp": body["items"][-1]["timestamp"],
        }
    assert seen == expected and pages >= len(expected) // 3


def test_a_cursor_opens_only_the_next_page_of_its_own_query(seeded_client: TestClient) -> None:
    users = sorted({a.user_id for a in Activity.scan()})

    def query(user: str, limit: int = 1, cursor: str | None = None) -> Any:
        return run(
            seeded_client,
            "unit-activities",
            operation="Query",
            partition_key=user,
            limit=limit,
            cursor=cursor,
        )

    first = query(users[0]).json()
    cursor = first["next_cursor"]
    assert cursor
    other = query(users[1], cursor=cursor)
    assert other.status_code == 400 and "belongs to another list" in other.json()["detail"]
    longer = query(users[0], limit=50, cursor=cursor)
    assert longer.status_code == 200  # a longer page of the same query: still the same list
    assert longer.json()["request"]["ExclusiveStartKey"] == first["last_evaluated_key"]
    tampered = query(users[0], cursor=cursor[:-4] + "AAAA")
    assert tampered.status_code == 400 and "not valid" in tampered.json()["detail"]
    get = run(
        seeded_client,
        "unit-activities",
        operation="GetItem",
        partition_key=users[0],
        sort_key={"op": "=", "value": "x"},
        cursor=cursor,
    )
    assert get.status_code == 422 and "no next page" in get.json()["detail"]


def test_a_filtered_page_can_come_back_short_or_empty_and_still_not_be_the_last(
    seeded_client: TestClient,
) -> None:
    """Limit counts the items read: a page of a filtered Scan keeps few or none, and only a
    missing LastEvaluatedKey ends the reading. The page says so."""
    form = {
        "op": "Scan",
        "limit": "10",
        "filter_attr": "activity_type",
        "filter_op": "=",
        "filter_value": "unlike",
        "run": "1",
    }
    headers = {"HX-Request": "true"}
    fragment = seeded_client.get("/tables/unit-activities", params=form, headers=headers)
    assert fragment.status_code == 200
    assert 'data-testid="builder-short-page"' in fragment.text
    assert 'data-testid="builder-first"' not in fragment.text  # already on the first page
    found = fragment.text.count('data-testid="item"')
    pages = 1
    while link := re.search(r'<a href="([^"]+)"[^>]*data-testid="builder-next"', fragment.text):
        fragment = seeded_client.get(html.unescape(link.group(1)), headers=headers)
        assert fragment.status_code == 200, fragment.text
        assert 'data-testid="builder-first"' in fragment.text
        assert "ExclusiveStartKey" in fragment.text
        found += fragment.text.count('data-testid="item"')
        pages += 1
    assert 'data-testid="builder-last-page"' in fragment.text
    unlikes = sum(1 for a in Activity.scan() if a.activity_type == "unlike")
    assert found == unlikes > 0 and pages >= Activity.count() // 10


def test_every_access_pattern_opened_from_design_runs_as_prefilled(
    seeded_client: TestClient,
) -> None:
    """Each "open in builder" link of /design, run as it comes: a read the learner can run at
    once, not a form to repair first."""
    page = seeded_client.get("/design").text
    links = re.findall(r'href="(/tables/[^"]+)"[^>]*data-testid="open-in-builder"', page)
    reads = [p for p in access_patterns() if p.operation in operations.READ_OPERATIONS]
    assert len(links) == len(reads)
    failures = {}
    tried = 0
    for link in links:
        url = html.unescape(link).split("#", 1)[0]
        table = url.split("?", 1)[0].removeprefix("/tables/")
        if not bound_client().scan(TableName=table, Limit=1)["Items"]:
            continue  # nothing to read yet (no one signed in): the page says the table is empty
        tried += 1
        ran = seeded_client.get(url + "&run=1")
        if ran.status_code != 200 or 'data-testid="builder-result"' not in ran.text:
            error = re.search(r'data-testid="builder-error">([^<]*)<', ran.text)
            failures[url] = error.group(1) if error else ran.status_code
    assert not failures, "\n".join(f"{k} -> {v}" for k, v in failures.items())
    assert tried > len(links) / 2


def test_the_builder_on_an_index_view_reads_that_index(seeded_client: TestClient) -> None:
    page = seeded_client.get("/tables/unit-activities", params={"index": "FeedIndex"}).text
    builder = page.split('data-testid="builder-index"')[1].split("</select>")[0]
    assert re.search(r'<option value="FeedIndex"[^>]*selected', builder), builder
    table = seeded_client.get("/tables/unit-activities").text
    builder = table.split('data-testid="builder-index"')[1].split("</select>")[0]
    assert re.search(r'<option value=""[^>]*selected', builder), builder
