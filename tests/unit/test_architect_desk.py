"""The architect's desk without an engine: the cost model's arithmetic, the top-k sketch behind
/insights and the advisor's rules, on a small measurement written the way `lens.measure` writes
one."""

from __future__ import annotations

import pytest

from lens import advisor, cost, insights
from lens.cost import TrafficProfile
from tests.unit.architect_fixtures import MEASUREMENT, call


def test_one_access_pattern_is_priced_by_hand() -> None:
    """10,000 users x 5 home views a day x 30 days = 1.5M GetItem at 0.5 RRU = 750,000 RRU;
    at $0.125 per million: $0.09375."""
    doc = cost.cost_document(MEASUREMENT, TrafficProfile(users=10_000))
    session = next(p for p in doc["access_patterns"] if p["operation"] == "GetItem")
    assert session["calls_per_month"] == 1_500_000
    assert session["rcu_per_call"] == 0.5
    assert session["usd"] == round(750_000 * 0.125 / 1_000_000, 2)


def test_the_total_is_the_sum_of_its_parts() -> None:
    estimate = cost.estimate(MEASUREMENT, TrafficProfile(users=12_345))
    storage = sum(table.storage_usd for table in estimate.tables)
    patterns = sum(pattern.usd for pattern in estimate.patterns)
    parts = sum(t.read_usd + t.write_usd + t.gsi_write_usd + t.storage_usd for t in estimate.tables)
    assert estimate.monthly_usd == pytest.approx(parts)
    assert estimate.monthly_usd == pytest.approx(patterns + storage)


def test_request_costs_are_linear_in_users_but_the_scan_grows_with_the_table() -> None:
    small = cost.estimate(MEASUREMENT, TrafficProfile(users=1_000))
    large = cost.estimate(MEASUREMENT, TrafficProfile(users=10_000))
    for before, after in zip(small.patterns, large.patterns, strict=True):
        if before.grows_with_table:
            assert after.usd == pytest.approx(before.usd * 100)  # views x table size
        else:
            assert after.usd == pytest.approx(before.usd * 10)


def test_the_feed_by_index_what_if_drops_the_scan() -> None:
    doc = cost.cost_document(MEASUREMENT, TrafficProfile(users=10_000))
    by_name = {w["name"]: w for w in doc["what_if"]}
    assert by_name["feed-by-index"]["difference_usd"] < 0
    assert set(by_name) >= {"strong-reads", "without-TypeIndex", "keys-only-TypeIndex"}
    assert by_name["provisioned"]["monthly_usd"] > 0


def test_strong_reads_double_table_reads_and_leave_index_reads_alone() -> None:
    steps = cost._strong(MEASUREMENT["steps"])
    assert steps["home"][0]["rcu"] == 1.0
    assert steps["like"][1]["rcu"] == 0.5  # a GSI cannot be read strongly


def test_a_removed_index_takes_its_writes_away() -> None:
    steps = cost._without_index(MEASUREMENT["steps"], "activities", "TypeIndex")
    assert steps["like"] == [
        {**MEASUREMENT["steps"]["like"][0], "wcu": 1, "by_target": {"activities": 1}}
    ]


def test_a_profile_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError):
        TrafficProfile(users=0)
    with pytest.raises(ValueError):
        TrafficProfile.model_validate({"region": "mars-1"})


def test_provisioned_prices_a_unit_for_its_peak_and_utilisation() -> None:
    read, write = cost.unit_prices(
        TrafficProfile(mode="provisioned", peak_to_average=2, target_utilization=0.5)
    )
    assert read == pytest.approx(0.00013 * 4 / 3600)
    assert write == pytest.approx(0.00065 * 4 / 3600)


# -- the sketch ------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_a_hot_key_is_on_top_and_memory_stays_bounded() -> None:
    recorder = insights.Recorder(Clock())
    for n in range(5_000):
        recorder.record([("likes", None, f"post-{n}")], "writes")
        recorder.record([("likes", None, "hot")], "writes")
    (likes,) = recorder.traffic(5)
    assert likes.keys[0].partition_key == "hot"
    assert likes.keys[0].writes == 5_000
    assert likes.requests == 10_000
    assert likes.keys[0].share == pytest.approx(0.5, abs=0.01)
    assert len(recorder._minutes[int(1_000_000 // 60)][("likes", None)].counters) <= insights.TOP_K


def test_windows_forget_old_minutes() -> None:
    clock = Clock()
    recorder = insights.Recorder(clock)
    recorder.record([("likes", None, "old")], "reads")
    clock.now += 10 * 60
    recorder.record([("likes", None, "new")], "throttled")
    assert [k.partition_key for k in recorder.traffic(5)[0].keys] == ["new"]
    assert recorder.traffic(1)[0].keys[0].throttled == 1
    assert {k.partition_key for k in recorder.traffic(60)[0].keys} == {"old", "new"}


def test_a_window_holds_at_least_its_minutes_whole() -> None:
    """Right after a minute turns, "the last minute" still holds the minute before: a window of
    N minutes is the minute in progress plus the N whole minutes before it."""
    clock = Clock()
    clock.now = 60 * 20_000 + 59.0  # the last second of a clock minute
    recorder = insights.Recorder(clock)
    recorder.record([("likes", None, "a moment ago")], "writes")
    clock.now += 2.0  # the next minute has just begun
    assert recorder.traffic(1)[0].keys[0].partition_key == "a moment ago"
    clock.now += 60.0  # a whole minute later: out of the 1-minute window, in the 5-minute one
    assert recorder.traffic(1) == []
    assert recorder.traffic(5)[0].keys[0].partition_key == "a moment ago"
    clock.now += 58 * 60.0  # 60 whole minutes after it: still in the 60-minute window
    recorder.record([("likes", None, "now")], "reads")
    assert {k.partition_key for k in recorder.traffic(60)[0].keys} == {"a moment ago", "now"}
    clock.now += 60.0  # then forgotten
    recorder.record([("likes", None, "now")], "reads")
    assert {k.partition_key for k in recorder.traffic(60)[0].keys} == {"now"}
    assert len(recorder._minutes) <= max(insights.WINDOWS) + 1


# -- the advisor -----------------------------------------------------------------------------


def rules(found: list[advisor.Finding]) -> dict[str, list[advisor.Finding]]:
    grouped: dict[str, list[advisor.Finding]] = {}
    for item in found:
        grouped.setdefault(item.rule, []).append(item)
    return grouped


def test_a_low_cardinality_index_key_is_found() -> None:
    found = rules(advisor.advise(MEASUREMENT))
    (low,) = found["low-cardinality-key"]
    assert "TypeIndex" in low.message and low.severity == "warning"


def test_a_filter_heavy_read_is_found() -> None:
    found = rules(advisor.advise(MEASUREMENT))
    (heavy,) = found["filter-heavy-read"]
    assert "1000" in heavy.message


def test_reading_back_a_write_through_an_index_needs_a_strong_read() -> None:
    found = rules(advisor.advise(MEASUREMENT))
    assert [f.where for f in found["strong-read-needed"]] == ["activities.service.query"]


def test_a_query_without_limit_on_a_page_reads_a_whole_collection() -> None:
    measurement = {
        **MEASUREMENT,
        "steps": {"user": [call("Query", "activities", rcu=4, limit=None)]},
    }
    assert rules(advisor.advise(measurement))["unbounded-collection"]


def test_only_an_error_not_marked_deliberate_blocks() -> None:
    deliberate = advisor.finding(
        "scan-on-request-path", "error", "activity.service.feed_by_scan", "x"
    )
    other = advisor.finding("scan-on-request-path", "error", "blog.service.everything", "x")
    assert not deliberate.blocks and other.blocks
