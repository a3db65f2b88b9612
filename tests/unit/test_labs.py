"""The labs without an engine: options, the tables they copy, charts, what results say, pages.

Running a lab needs its private engine: those smoke runs are in tests/integration/test_labs_run.py.
"""

from __future__ import annotations

import pytest

import activity.models  # noqa: F401 - registers the tables the labs copy
import engagement.comments.models  # noqa: F401
import engagement.likes.models  # noqa: F401
import sessions.models  # noqa: F401
from lens.labs import LABS, counter, gsi_cost, hot_partition, query_vs_scan, ttl
from lens.labs.charts import Bar, BarGroup, Series, bar_chart, line_chart, nice_ceiling
from lens.labs.lab import build_options
from lens.labs.tables import create_table_request
from shared.errors import InvalidInput
from shared.panels import lesson_links, register_lesson_link

HTMX = {"HX-Request": "true"}


def test_the_labs_are_registered_in_order() -> None:
    assert list(LABS) == [
        "query-vs-scan",
        "counter",
        "hot-partition",
        "ttl",
        "gsi-cost",
        "single-table",
        "consistency",
    ]


def test_options_come_from_text_checked_against_their_bounds() -> None:
    options = build_options(query_vs_scan.QueryVsScanOptions, {"sizes": "5000, 1_000,5000"})
    assert options.sizes == [1_000, 5_000]
    assert build_options(counter.CounterOptions, {"clients": "3"}).clients == 3
    assert build_options(counter.CounterOptions, {}).increments == 20


@pytest.mark.parametrize(
    ("options", "raw", "message"),
    [
        (counter.CounterOptions, {"clients": "0"}, "--clients must be between 1 and 64"),
        (counter.CounterOptions, {"clients": "many"}, "--clients must be a whole number"),
        (counter.CounterOptions, {"sizes": "100"}, "Unknown option(s) for this lab: sizes"),
        (query_vs_scan.QueryVsScanOptions, {"sizes": "1000;5000"}, "separated by commas"),
        (query_vs_scan.QueryVsScanOptions, {"sizes": "10"}, "between 100 and 100,000"),
        (
            query_vs_scan.QueryVsScanOptions,
            {"sizes": "100,200,300,400,500,600,700"},
            "1 to 6 values",
        ),
    ],
)
def test_bad_options_are_refused_with_a_readable_message(options, raw, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInput) as refused:
        build_options(options, raw)
    assert message in refused.value.detail


def test_a_lab_table_copies_the_app_keys_and_only_the_chosen_indexes() -> None:
    request, table = create_table_request("activities", name="lab-x", indexes=("FeedIndex",))
    assert request["KeySchema"] == [
        {"AttributeName": "user_id", "KeyType": "HASH"},
        {"AttributeName": "timestamp", "KeyType": "RANGE"},
    ]
    assert [gsi["IndexName"] for gsi in request["GlobalSecondaryIndexes"]] == ["FeedIndex"]
    defined = {a["AttributeName"] for a in request["AttributeDefinitions"]}
    assert defined == {"user_id", "timestamp", "feed_key"}
    assert table.mirrors == "activity.models.Activity"
    assert [index.name for index in table.schema.indexes] == ["FeedIndex"]
    assert table.ttl_attribute == "expires_at"


def test_a_lab_table_may_be_provisioned_on_its_indexes_too() -> None:
    request, _table = create_table_request(
        "activities", name="lab-x", indexes=("FeedIndex",), provisioned=(300, 1)
    )
    throughput = {"ReadCapacityUnits": 1, "WriteCapacityUnits": 300}
    assert request["BillingMode"] == "PROVISIONED"
    assert request["ProvisionedThroughput"] == throughput
    assert request["GlobalSecondaryIndexes"][0]["ProvisionedThroughput"] == throughput


def test_a_lab_table_without_indexes_sends_none() -> None:
    request, table = create_table_request("likes", name="lab-likes", indexes=())
    assert "GlobalSecondaryIndexes" not in request
    assert table.mirrors == "engagement.likes.models.LikeCounter"


def test_a_line_chart_draws_equal_values_at_equal_heights() -> None:
    chart = line_chart(
        title="t",
        x_label="x",
        y_label="y",
        xs=[1_000, 5_000, 20_000],
        series=[Series("flat", [0.5, 0.5, 0.5]), Series("growing", [12, 60, 240])],
    )
    flat, growing = chart.lines
    assert len({dot.y for dot in flat.dots}) == 1
    heights = [dot.y for dot in growing.dots]
    assert heights == sorted(heights, reverse=True)  # SVG y grows downwards
    assert [tick.label for tick in chart.x_ticks] == ["1k", "5k", "20k"]


def test_bar_heights_are_proportional_to_values() -> None:
    chart = bar_chart(
        title="t",
        x_label="x",
        y_label="y",
        series=["a"],
        groups=[BarGroup("one", [Bar(0, 10)]), BarGroup("two", [Bar(0, 20)])],
    )
    low, high = chart.rects
    assert high.height == pytest.approx(2 * low.height, abs=0.2)


def test_nice_ceiling_rounds_up_to_a_readable_axis() -> None:
    assert [nice_ceiling(v) for v in (0, 0.4, 3, 240, 1001)] == [1, 0.5, 5, 250, 2000]


def _counter_result(lost: int) -> dict:  # type: ignore[type-arg]
    way = {
        "clients": 4,
        "expected": 40,
        "final": 40,
        "lost": 0,
        "conditional_failures": 0,
        "retries": 0,
        "requests": 40,
        "rcu": 0.0,
        "wcu": 40.0,
        "rcu_reported": None,
        "wcu_reported": None,
    }
    rmw = {**way, "final": 40 - lost, "lost": lost}
    return {
        "lab": "counter",
        "ways": {"read-modify-write": {**rmw, "attempts": [rmw]}, "add": way, "optimistic": way},
        "notes": [],
    }


def test_the_counter_result_says_how_many_updates_were_lost() -> None:
    shows = counter.view(_counter_result(lost=13)).shows
    assert "Read-modify-write lost 13 of 40 increments" in shows


def test_the_counter_result_admits_a_run_that_lost_nothing() -> None:
    shows = counter.view(_counter_result(lost=0)).shows
    assert "lost nothing in this run" in shows


def test_the_hot_partition_model_caps_one_key_at_a_partitions_limit() -> None:
    model = hot_partition._model(load=500.0, shards=8)
    tenfold = next(row for row in model["rows"] if row["factor"] == 10)
    assert tenfold["single"]["accepted_per_second"] == 1_000
    assert tenfold["single"]["throttled_share"] == pytest.approx(0.8)
    assert tenfold["sharded"]["throttled_share"] == 0
    assert tenfold["shards_needed"] == 5
    assert tenfold["beyond_new_table"]  # 5,000 writes/s: more than a new on-demand table takes
    assert not model["rows"][0]["beyond_new_table"]


def test_the_hot_partition_model_says_when_the_table_becomes_the_ceiling() -> None:
    """Sharding multiplies one item's limit, not the table's: past what a new on-demand table
    sustains, the table's own throughput must have grown too."""
    model = hot_partition._model(load=500.0, shards=8)
    hundredfold = next(row for row in model["rows"] if row["factor"] == 100)
    assert hundredfold["beyond_new_table"] and model["new_table_wcu"] == 4_000
    view = hot_partition.view(_hot_result(model))
    (model_table,) = [t for t in view.tables if "model" in t.title]
    assert "a table past 4,000/s" in model_table.rows[-1][-1]
    assert "adaptive capacity" in model_table.note and "4,000 writes per second" in model_table.note


def test_the_hot_partition_view_draws_three_runs_second_by_second_and_names_the_split() -> None:
    """The keys on one partition rise after the split; the one item stays at the limit; the
    sentence says what the split relieved and that it never divides an item."""
    view = hot_partition.view(_hot_result(hot_partition._model(load=150.0, shards=8)))
    assert view.chart.kind == "line"
    assert [s.label for s in view.chart.legend] == [
        "8 keys on one partition",
        "one counter item",
        "8 shards, a partition each",
        "one partition's limit",
    ]
    assert list(view.chart.legend[0].values) == [100, 50, 50, 100, 100, 150]
    assert view.chart.legend[-1].dashed and set(view.chart.legend[-1].values) == {50}
    (seconds,) = [t for t in view.tables if t.title == "Accepted writes, second by second"]
    assert seconds.rows[3] == ["4", "100", "50", "160"]
    (measured,) = [t for t in view.tables if t.title == "Measured"]
    assert [row[2] for row in measured.rows] == ["1 → 3", "1", "28"]
    assert "took about 50 writes/s at first" in view.shows
    assert "(2 split(s), 1 → 3 partitions) and in the last second they took 150" in view.shows
    assert "stayed at about 50 writes/s, throttled 400 times" in view.shows
    assert "never one item" in view.shows


def test_the_hot_partition_view_says_when_no_split_happened() -> None:
    result = _hot_result(hot_partition._model(load=150.0, shards=8))
    result["runs"]["many_keys"].update(splits=0, partitions_after=1)
    shows = hot_partition.view(result).shows
    assert "no partition split within the run" in shows and "never one item" not in shows


def test_the_hot_partition_view_of_another_engine_has_no_partition_figures() -> None:
    result = _hot_result(hot_partition._model(load=150.0, shards=8))
    for measured in result["runs"].values():
        measured.update(partitions_before=None, partitions_after=None, splits=None)
    view = hot_partition.view(result)
    (measured_table,) = [t for t in view.tables if t.title == "Measured"]
    assert [row[2] for row in measured_table.rows] == ["-", "-", "-"]
    assert view.shows.startswith("On one key")


def _hot_result(model: dict[str, object]) -> dict[str, object]:
    runs = {
        "many_keys": _hot_run(8, 300, [100, 50, 50, 100, 100, 150], (1, 3)),
        "single": _hot_run(1, 400, [100, 50, 50, 50, 50, 50], (1, 1)),
        "sharded": _hot_run(8, 0, [150, 160, 150, 160, 160, 150], (28, 28)),
    }
    names = ("many-keys-one-partition", "one-item", "sharded")
    return {
        "runs": runs,
        "adaptive": {
            "split_after_s": 3,
            "partition_limit": 50,
            "runs": [
                {"name": name, **{k: r[k] for k in ("keys", "accepted_per_s", "throttled")}}
                for name, r in zip(names, runs.values(), strict=True)
            ],
        },
        "model": model,
    }


def _hot_run(
    keys: int,
    throttled: int,
    per_s: list[int] | None = None,
    partitions: tuple[int, int] = (1, 1),
) -> dict[str, object]:
    per_s = per_s or [50, 50]
    accepted = sum(per_s)
    return {
        "keys": keys,
        "attempted": accepted,
        "accepted": accepted,
        "throttled": throttled,
        "retries": throttled,
        "writes_per_second": accepted / len(per_s),
        "offered_per_second": (accepted + throttled) / len(per_s),
        "per_key": {f"k{n}": accepted // keys for n in range(keys)},
        "accepted_per_s": per_s,
        "counted": accepted,
        "partitions_before": partitions[0],
        "partitions_after": partitions[1],
        "splits": partitions[1] - partitions[0],
    }


def test_the_gsi_cost_and_ttl_labs_say_what_dynamodb_really_does() -> None:
    assert "every write" not in gsi_cost.LAB.title
    assert "writes nothing there" in gsi_cost.LAB.lesson
    assert "best-effort" in ttl.LAB.lesson and "billed" in ttl.LAB.lesson
    assert "within days" not in ttl.LAB.lesson


def test_lesson_links_are_offered_only_for_known_panels() -> None:
    with pytest.raises(ValueError, match="no lesson panel"):
        register_lesson_link("nowhere", href="/labs/x", label="x")
    # The very link `install` registers: the registry is global, and an English label left in
    # it would show on the Japanese pages of every later test.
    register_lesson_link(
        "feed", href="/labs/query-vs-scan", label="the {name} lab", values={"name": "query-vs-scan"}
    )
    assert 'href="/labs/query-vs-scan"' in lesson_links("feed")


def test_labs_index_lists_every_lab_and_the_nav_links_to_it(unit_client) -> None:  # type: ignore[no-untyped-def]
    page = unit_client.get("/labs")
    assert page.status_code == 200
    for name in LABS:
        assert f'href="/labs/{name}"' in page.text
        assert f"python manage.py lab {name}" in page.text
    assert '<a href="/labs">Labs</a>' in unit_client.get("/").text


@pytest.mark.parametrize(
    ("page", "lab"),
    [
        ("/feed", "query-vs-scan"),
        ("/activity?type=like", "hot-partition"),
        ("/activity?type=like", "gsi-cost"),
        ("/signup", "ttl"),
    ],
)
def test_lesson_panels_link_to_the_labs_that_prove_them(unit_client, page, lab) -> None:  # type: ignore[no-untyped-def]
    assert f'href="/labs/{lab}"' in unit_client.get(page).text


def test_a_lab_page_shows_its_form_what_it_mirrors_and_the_command(unit_client) -> None:  # type: ignore[no-untyped-def]
    page = unit_client.get("/labs/counter")
    assert page.status_code == 200
    assert 'name="clients"' in page.text and 'name="increments"' in page.text
    assert 'href="/design#table-likes"' in page.text  # LikeCounter, on the design page
    assert 'href="/design/code/engagement.likes.service.like_post"' in page.text
    assert "python manage.py lab counter" in page.text


def test_an_unknown_lab_is_a_404_page(unit_client) -> None:  # type: ignore[no-untyped-def]
    page = unit_client.get("/labs/no-such-lab")
    assert page.status_code == 404 and "no lab named" in page.text


def test_a_bad_option_from_the_form_is_said_in_place_of_the_run(unit_client) -> None:  # type: ignore[no-untyped-def]
    token = unit_client.get("/api/v1/auth/session").json()["csrf_token"]
    data = {"clients": "999", "increments": "5", "csrf_token": token}
    response = unit_client.post("/labs/counter/runs", data=data, headers=HTMX)
    assert response.status_code == 422
    assert 'id="lab-run"' in response.text
    assert "--clients must be between 1 and 64 (got 999)" in response.text


def test_an_unknown_run_is_a_404(unit_client) -> None:  # type: ignore[no-untyped-def]
    assert unit_client.get("/labs/counter/runs/0123456789abcdef").status_code == 404
    api = unit_client.get("/api/v1/labs/counter/runs/0123456789abcdef")
    assert api.status_code == 404 and "runs are kept in memory" in api.json()["detail"]


def test_a_run_is_cancelled_from_its_page_or_the_api_and_stops_at_its_next_report(
    unit_client, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """The run here is a record with no thread behind it: what is tested is the asking and the
    sink that raises (the integration tier cancels a real run on its private engine)."""
    from collections import OrderedDict

    from lens.labs import runner
    from lens.labs.context import LabCancelled

    run = runner.LabRun(id="0123456789abcdef", lab=LABS["ttl"], options=None)
    run.report("watching for 60s", 3, 60)
    monkeypatch.setattr(runner, "_runs", OrderedDict({run.id: run}))
    page = unit_client.get(f"/labs/ttl/runs/{run.id}")
    assert 'data-testid="lab-cancel"' in page.text
    token = unit_client.get("/api/v1/auth/session").json()["csrf_token"]
    cancelled = unit_client.post(
        f"/labs/ttl/runs/{run.id}/cancel",
        data={"csrf_token": token},
        headers={"HX-Request": "true"},
    )
    assert cancelled.status_code == 200
    assert 'data-testid="lab-cancelling"' in cancelled.text
    assert 'data-testid="lab-cancel"' not in cancelled.text
    with pytest.raises(LabCancelled):
        run.report("watching for 60s", 4, 60)
    api = unit_client.post(
        f"/api/v1/labs/ttl/runs/{run.id}/cancel", headers={"X-CSRF-Token": token}
    )
    assert api.status_code == 202
    assert api.json()["status"] == "running" and api.json()["cancelling"] is True
    run.status = "cancelled"
    done = unit_client.get(f"/api/v1/labs/ttl/runs/{run.id}").json()
    assert done["status"] == "cancelled" and done["cancelling"] is False
    assert 'data-testid="lab-cancelled"' in unit_client.get(f"/labs/ttl/runs/{run.id}").text
    missing = unit_client.post(
        "/api/v1/labs/ttl/runs/ffffffffffffffff/cancel", headers={"X-CSRF-Token": token}
    )
    assert missing.status_code == 404


def test_the_labs_json_lists_options_with_defaults_and_bounds(unit_client) -> None:  # type: ignore[no-untyped-def]
    labs = {lab["name"]: lab for lab in unit_client.get("/api/v1/labs").json()["labs"]}
    assert labs["hot-partition"]["options"]["partition_limit"] == {
        "default": 50,
        "low": 1,
        "high": 1_000,
        "flag": "--partition-limit",
    }


def test_the_like_panel_links_to_the_counter_and_hot_partition_labs(unit_client, make_user) -> None:  # type: ignore[no-untyped-def]
    from tests.unit.engagement_fixtures import new_post

    post_id = new_post(make_user(unit_client))
    page = unit_client.get(f"/posts/{post_id}").text
    assert 'href="/labs/counter"' in page and 'href="/labs/hot-partition"' in page


def test_a_production_server_does_not_start_lab_runs(monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    from tests.conftest import in_process_app

    with in_process_app(
        monkeypatch, tmp_path, APP_ENV="production", SECRET_KEY="k" * 32, TRUSTED_HOSTS="testserver"
    ) as app:
        client = TestClient(app.app, base_url="https://testserver")  # production cookies: Secure
        page = client.get("/labs/gsi-cost")
        assert page.status_code == 200 and 'data-testid="run-lab"' not in page.text
        token = client.get("/api/v1/auth/session").json()["csrf_token"]
        refused = client.post("/labs/gsi-cost/runs", data={"csrf_token": token}, headers=HTMX)
        assert refused.status_code == 403 and "manage.py lab" in refused.text
