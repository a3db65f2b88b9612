"""Which reads are strong and why: declared with each access pattern, shown on /design and in
the lesson, and measured by the consistency lab (its view and page; its runs are integration)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from activity.models import Activity
from lens.labs import consistency
from lens.labs.lab import build_options
from shared.access_patterns import access_pattern, access_patterns
from shared.errors import InvalidInput
from shared.i18n import use_language

JA = {"Accept-Language": "ja"}
STRONG_FOR_ONES_OWN_WRITE = {
    "sessions.service.viewer_for_token": "strong",
    "engagement.likes.service.like_summary": "own-strong",
    "engagement.comments.service.list_comments": "strong",
    "engagement.comments.service.get_comment": "strong",
    "activity.service.latest_activities_of_user": "own-strong",
}


def test_reads_a_person_needs_to_see_their_own_write_are_declared_strong(unit_client) -> None:  # type: ignore[no-untyped-def]
    declared = {p.function: p.consistency for p in access_patterns()}
    for function, consistency_ in STRONG_FOR_ONES_OWN_WRITE.items():
        assert declared[function] == consistency_, function


def test_every_read_is_declared_and_every_gsi_read_is_eventual(unit_client) -> None:  # type: ignore[no-untyped-def]
    for pattern in access_patterns():
        first = pattern.operation.split()[0]
        if first in ("GetItem", "BatchGetItem", "Query", "Scan"):
            assert pattern.consistency is not None, pattern.name
        if pattern.index is not None:
            assert pattern.consistency == "eventual", pattern.name


def test_declaring_a_strong_read_of_a_gsi_is_refused_as_dynamodb_refuses_it() -> None:
    with pytest.raises(ValueError, match="global secondary index"):
        access_pattern(
            name="impossible",
            model=Activity,
            operation="Query",
            key="post_id = :p",
            index="PostActivityIndex",
            consistency="strong",
        )


def test_the_design_shows_each_patterns_consistency_and_its_read_units(
    unit_client: TestClient,
) -> None:
    design = unit_client.get("/api/v1/design").json()
    patterns = {
        p["function"]: p
        for table in design["tables"]
        for p in [*table["patterns"], *(p for i in table["indexes"] for p in i["patterns"])]
    }
    session = patterns["sessions.service.viewer_for_token"]
    assert (session["consistency"], session["rcu_per_4kb"]) == ("strong", 1.0)
    feed = patterns["activity.service.feed_by_index"]
    assert (feed["consistency"], feed["rcu_per_4kb"]) == ("eventual", 0.5)
    assert patterns["engagement.likes.service.like_post"]["consistency"] is None
    page = unit_client.get("/design").text
    assert 'id="consistency"' in page and "strong: 1 RCU per 4 KB" in page
    assert 'data-consistency="own-strong"' in page


def test_the_design_section_on_consistency_reads_in_japanese(unit_client: TestClient) -> None:
    page = unit_client.get("/design", headers=JA).text
    section = page[page.index('id="consistency"') :]
    assert "強力な整合性のある読み込み" in section and "結果整合性" in section
    assert "4 KB あたり 1 RCU" in section


def result(eventual: tuple[int, int], gsi: tuple[int, int], refused: bool = True) -> dict[str, Any]:
    """A result document as the lab returns it, stale counts at 0 ms and 1,500 ms of 50 reads."""
    stale = {"eventual": eventual, "strong": (0, 0), "gsi": gsi}
    rcu = {"eventual": 0.5, "strong": 1.0, "gsi": 0.5}
    return {
        "lab": "consistency",
        "reads": [
            {
                "mode": mode,
                "delay_ms": delay,
                "reads": 50,
                "stale": stale[mode][i],
                "stale_share": stale[mode][i] / 50,
                "rcu_per_read": rcu[mode],
                "waited_ms": delay + 5.0,
            }
            for i, delay in enumerate((0, 1500))
            for mode in consistency.MODES
        ],
        "gsi_consistent_read": {
            "refused": refused,
            "error": "ValidationException" if refused else None,
        },
    }


def test_the_lab_says_what_it_measured_in_both_languages() -> None:
    measured = result(eventual=(17, 0), gsi=(50, 0))
    view = consistency.view(measured)
    assert "At 0 ms after the write, 34% of eventually consistent reads and 100% of GSI" in (
        view.shows
    )
    assert "missed it 0 times, at 1 RCU per read against 0.5" in view.shows
    assert "the GSI answered ValidationException" in view.shows
    assert [s.label for s in view.chart.legend] == [
        "eventually consistent GetItem",
        "strongly consistent GetItem",
        "Query on the GSI",
    ]
    with use_language("ja"):
        japanese = consistency.view(measured)
    assert "34%" in japanese.shows and "強力な整合性のある読み込みが見逃したのは 0 回" in (
        japanese.shows
    )


def test_the_lab_admits_an_engine_that_accepts_a_strong_gsi_read() -> None:
    shows = consistency.view(result(eventual=(0, 0), gsi=(0, 0), refused=False)).shows
    assert "accepted a strongly consistent Query on the GSI; DynamoDB refuses it" in shows


def test_the_lab_options_are_checked() -> None:
    options = build_options(consistency.ConsistencyOptions, {"delays_ms": "1500, 0", "reads": "10"})
    assert (options.delays_ms, options.reads, options.lag_ms) == ([0, 1500], 10, 1000)
    with pytest.raises(InvalidInput, match="--lag-ms must be between 0 and 5,000"):
        build_options(consistency.ConsistencyOptions, {"lag_ms": "9000"})


@pytest.mark.parametrize(
    ("headers", "title"),
    [({}, "Read consistency: strong, eventual and GSI reads"), (JA, "読み取り整合性")],
)
def test_the_lab_page_in_both_languages(
    unit_client: TestClient, headers: dict[str, str], title: str
) -> None:
    page = unit_client.get("/labs/consistency", headers=headers)
    assert page.status_code == 200 and title in page.text
    for name in ("reads", "delays_ms", "lag_ms"):
        assert f'name="{name}"' in page.text
    assert 'href="/design/code/sessions.service.viewer_for_token"' in page.text
    assert "python manage.py lab consistency" in page.text
