"""The guided tour: the seed's eight lessons in order, the capacity modes, one table or many
and read consistency, each backed by real code, progress per browser."""

from __future__ import annotations

import re

import pytest

from lens import tour
from lens.design import resolve
from shared.access_patterns import access_patterns

JA = {"Accept-Language": "ja"}
SEED_ORDER = [
    "access-patterns",
    "keys",
    "indexes",
    "updates",
    "hot-partitions",
    "ttl",
    "scan",
    "rdb-and-dynamodb",
    "capacity-modes",
    "single-table",
    "consistency",
]


def csrf(client) -> str:  # type: ignore[no-untyped-def]
    return str(client.get("/api/v1/auth/session").json()["csrf_token"])


def test_the_tour_has_the_seeds_lessons_then_capacity_one_table_and_consistency() -> None:
    assert [step.slug for step in tour.STEPS] == SEED_ORDER


def test_every_step_names_a_model_class_and_a_function_that_exist(unit_client) -> None:
    for step in tour.STEPS:
        assert isinstance(resolve(step.model), type), step.model
        assert callable(resolve(step.function)), step.function
        assert tour.model_anchor(step.model), step.model


def test_most_steps_link_to_the_source_of_a_declared_access_pattern(unit_client) -> None:
    served = {pattern.function for pattern in access_patterns()}
    assert sum(step.function in served for step in tour.STEPS) >= 7


def test_the_overview_lists_the_steps_and_no_progress_yet(unit_client) -> None:
    page = unit_client.get("/tour")
    assert page.status_code == 200
    assert "0 of 11 steps done" in page.text
    assert re.findall(r'data-step="([\w-]+)"', page.text) == SEED_ORDER


def test_a_step_page_says_what_to_do_what_to_watch_and_where_to_read(unit_client) -> None:
    page = unit_client.get("/tour/2")
    assert page.status_code == 200
    for testid in ("tour-do", "tour-watch", "tour-model", "tour-function", "tour-guide"):
        assert f'data-testid="{testid}"' in page.text
    assert "activity.models.Activity" in page.text
    assert 'href="/design/code/activity.service.latest_activities_of_user"' in page.text
    assert (
        'href="https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/'
        'HowItWorks.CoreComponents.html"' in page.text
    )


def test_in_japanese_the_step_links_to_the_japanese_developer_guide(unit_client) -> None:
    page = unit_client.get("/tour/7", headers=JA)
    assert "<h1>スキャンと本来のアクセスパターン</h1>" in page.text
    assert "docs.aws.amazon.com/ja_jp/amazondynamodb/latest/developerguide/bp-query-scan.html" in (
        page.text
    )


def test_marking_steps_done_is_remembered_per_browser(unit_client) -> None:
    token = csrf(unit_client)
    first = unit_client.post("/tour/1/done", data={"csrf_token": token}, follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"] == "/tour/2"
    unit_client.post("/tour/3/done", data={"csrf_token": token}, follow_redirects=False)
    overview = unit_client.get("/tour")
    assert "2 of 11 steps done" in overview.text
    assert re.findall(r'<li class="done" data-step="([\w-]+)"', overview.text) == [
        "access-patterns",
        "indexes",
    ]
    last = unit_client.post("/tour/11/done", data={"csrf_token": token}, follow_redirects=False)
    assert last.headers["location"] == "/tour"


def test_starting_over_clears_the_progress(unit_client) -> None:
    token = csrf(unit_client)
    unit_client.post("/tour/1/done", data={"csrf_token": token})
    unit_client.post("/tour/reset", data={"csrf_token": token})
    assert "0 of 11 steps done" in unit_client.get("/tour").text


@pytest.mark.parametrize("value", ["", "x", "1.2.;drop", "0.12.99", "1..2"])
def test_a_malformed_progress_cookie_counts_as_no_progress(value: str) -> None:
    assert tour.progress_from_cookie(value) <= {1, 2}
    assert 0 not in tour.progress_from_cookie(value) and 11 not in tour.progress_from_cookie(value)


def test_a_step_that_does_not_exist_is_a_404_page(unit_client) -> None:
    assert unit_client.get(f"/tour/{len(tour.STEPS) + 1}").status_code == 404
    assert (
        unit_client.get("/tour/0", headers=JA).text.count("ツアーにステップ 0 はありません。") == 1
    )


def test_the_tour_is_linked_from_the_home_page_and_the_nav(unit_client) -> None:
    home = unit_client.get("/").text
    assert home.count('href="/tour"') >= 2
    assert 'href="/tour"' in unit_client.get("/design").text


def test_the_tour_reaches_the_explorer_and_the_labs(unit_client) -> None:
    links = {url for step in tour.STEPS for url, _label in step.also} | {
        step.do_page for step in tour.STEPS
    }
    assert "/tables" in links
    assert {"/labs/query-vs-scan", "/labs/counter", "/labs/hot-partition", "/labs/ttl"} <= links
    assert 'href="/labs/query-vs-scan"' in unit_client.get("/tour/7").text


def test_the_keys_step_says_the_suffix_is_a_hash_of_the_event_id(unit_client) -> None:
    """The suffix is what makes a redelivered event idempotent; "random" would hide that."""
    step = tour.STEPS[1]
    assert step.slug == "keys"
    assert "hash of <code>event_id</code>" in step.explanation
    assert "random suffix" not in step.explanation
    assert "event_id" in unit_client.get("/tour/2", headers=JA).text


def test_the_hot_partition_step_names_adaptive_capacity_and_the_single_item_limit() -> None:
    text = next(s for s in tour.STEPS if s.slug == "hot-partitions").explanation
    assert "adaptive capacity" in text and "One item is never split" in text


def test_the_capacity_step_names_both_modes_and_the_on_demand_ceiling(unit_client) -> None:
    step = tour.STEPS[8]
    assert step.slug == "capacity-modes"
    for fact in ("request units", "capacity units", "4,000 writes", "twice its previous peak"):
        assert fact in step.explanation
    page = unit_client.get("/tour/9", headers=JA)
    assert page.status_code == 200 and "オンデマンド" in page.text


def test_the_single_table_step_compares_one_table_with_a_table_per_entity(unit_client) -> None:
    step = tour.STEPS[9]
    assert step.slug == "single-table"
    assert ("/labs/single-table", "Run the lab") in [(url, label) for url, label in step.also]
    page = unit_client.get("/tour/10", headers=JA)
    assert page.status_code == 200 and "シングルテーブル" in page.text


def test_the_consistency_step_names_the_price_the_gsi_rule_and_where_the_app_reads_strongly(
    unit_client,
) -> None:
    step = tour.STEPS[-1]
    assert step.slug == "consistency" and step.guide_page == "HowItWorks.ReadConsistency.html"
    for fact in ("half as much", "ConsistentRead", "global secondary index", "sign-in"):
        assert fact in step.explanation
    page = unit_client.get(f"/tour/{len(tour.STEPS)}", headers=JA)
    assert page.status_code == 200 and "強力な整合性" in page.text and "結果整合性" in page.text


@pytest.mark.parametrize("headers", [{}, JA], ids=["en", "ja"])
def test_the_home_page_invitation_counts_the_tours_steps_right(unit_client, headers) -> None:  # type: ignore[no-untyped-def]
    """The home page invites to the tour; a count it gives must be the tour's own (it once said
    eight lessons of a nine-step tour)."""
    page = unit_client.get("/", headers=headers).text
    invite = re.search(r'<p class="tour-invite[^>]*>(.*?)</p>', page, re.S)
    assert invite is not None
    numbers = {"seven": 7, "eight": 8, "nine": 9, "ten": 10}
    said = [numbers[w] for w in re.findall(r"\b(\w+) short lessons", invite.group(1))]
    said += [int(n) for n in re.findall(r"(\d+) つの", invite.group(1))]
    assert all(n == len(tour.STEPS) for n in said), (said, invite.group(1))


NUMBER_WORDS = [
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
    "twenty",
]


@pytest.mark.parametrize("headers", [{}, JA], ids=["en", "ja"])
def test_the_tour_overview_counts_the_steps_from_the_step_list(unit_client, headers) -> None:  # type: ignore[no-untyped-def]
    """The overview once said "eight lessons, then one more" of an eleven-step tour: the only
    count it may give is the step list's own, in every language."""
    page = unit_client.get("/tour", headers=headers).text
    overview = re.search(r'<p class="lesson" data-testid="tour-overview">(.*?)</p>', page, re.S)
    assert overview is not None
    text = re.sub(r"<[^>]+>", " ", overview.group(1))
    assert re.findall(r"\d+", text) == [str(len(tour.STEPS))], text
    words = set(re.findall(r"[a-z]+", text.lower()))
    assert not words & set(NUMBER_WORDS), text
    assert not re.search(r"[二三四五六七八九十]つ", text), text


def test_the_overview_count_follows_the_step_list(unit_client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(tour, "STEPS", tour.STEPS[:5])
    page = unit_client.get("/tour").text
    assert "The tour has 5 steps" in page and "0 of 5 steps done" in page
