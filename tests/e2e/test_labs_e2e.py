"""A lab run from the browser: the index, the form, the progress polled by htmx, the chart."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from tests.app_server import AppServer

BLOCKING = ("serious", "critical")


def blocking_violations(page: Page) -> list[str]:
    return [v["id"] for v in Axe().run(page).response["violations"] if v["impact"] in BLOCKING]


def test_a_lab_runs_from_the_browser_and_draws_its_chart(page: Page) -> None:
    page.goto("/")
    page.get_by_role("link", name="Labs", exact=True).click()
    expect(page.get_by_test_id("lab-list").locator("li")).to_have_count(7)
    page.get_by_role("link", name="Query vs Scan as the table grows").click()
    page.fill("#option-sizes", "200,600")
    page.get_by_test_id("run-lab").click()
    run = page.get_by_test_id("lab-run")
    expect(run).to_have_attribute("data-status", "done", timeout=120_000)
    chart = run.get_by_test_id("lab-chart")
    expect(chart).to_be_visible()
    lines = chart.locator("polyline")
    expect(lines.first).to_have_attribute("data-series", "Query, computed")
    query_heights = {dot.get_attribute("cy") for dot in chart.locator("circle.series-0").all()}
    assert len(query_heights) == 1  # the Query line is flat
    expect(run.get_by_test_id("lab-shows")).to_contain_text("the Query read 0.5 RCU at every size")
    expect(run.get_by_test_id("lab-table").first).to_contain_text("Scan + filter")


def test_a_lesson_panel_leads_to_the_lab_that_proves_it(page: Page) -> None:
    page.goto("/feed")
    page.get_by_test_id("scan-lesson").get_by_role("link", name="the query-vs-scan lab").click()
    expect(page.locator("h1")).to_have_text("Query vs Scan as the table grows")


def test_a_long_run_is_cancelled_from_its_page(page: Page) -> None:
    page.goto("/labs/ttl")
    page.fill("#option-seconds", "60")
    page.get_by_test_id("run-lab").click()
    run = page.get_by_test_id("lab-run")
    expect(run.get_by_test_id("lab-progress")).to_contain_text("watching", timeout=60_000)
    run.get_by_test_id("lab-cancel").click()
    expect(run).to_have_attribute("data-status", "cancelled", timeout=30_000)
    expect(run.get_by_test_id("lab-cancelled")).to_contain_text("Cancelled after")
    page.goto("/labs")
    expect(page.get_by_test_id("labs-busy")).to_have_count(0)  # the server is free again


def test_the_hot_partition_lab_draws_its_three_runs_second_by_second(page: Page) -> None:
    page.goto("/labs/hot-partition")
    for option, value in (("clients", "8"), ("seconds", "3"), ("shards", "4")):
        page.fill(f"#option-{option}", value)
    page.fill("#option-partition_limit", "20")
    page.fill("#option-split_after_s", "1")
    page.get_by_test_id("run-lab").click()
    run = page.get_by_test_id("lab-run")
    expect(run).to_have_attribute("data-status", "done", timeout=120_000)
    lines = run.get_by_test_id("lab-chart").locator("polyline")
    names = ["4 keys on one partition", "one counter item", "4 shards, a partition each"]
    expect(lines).to_have_count(4)
    for line, name in zip(lines.all(), [*names, "one partition's limit"], strict=True):
        expect(line).to_have_attribute("data-series", name)
    expect(run.get_by_test_id("lab-shows")).to_contain_text("keys sharing one partition")
    expect(run.get_by_test_id("lab-table").nth(1)).to_contain_text("Accepted writes, second by")


def test_the_single_table_lab_answers_the_same_questions_with_both_designs(page: Page) -> None:
    page.goto("/labs/single-table")
    page.fill("#option-activities", "60")
    page.fill("#option-repeats", "1")
    page.get_by_test_id("run-lab").click()
    run = page.get_by_test_id("lab-run")
    expect(run).to_have_attribute("data-status", "done", timeout=120_000)
    expect(run.get_by_test_id("lab-chart")).to_be_visible()
    expect(run.get_by_test_id("lab-shows")).to_contain_text("The post page took 3 calls")
    measured = run.get_by_test_id("lab-table").first
    for question in ("post page", "likes of one user", "the global feed"):
        expect(measured).to_contain_text(question)
    expect(measured.locator("tbody tr")).to_have_count(8)
    expect(measured.locator("tbody tr td:last-child")).to_have_text(["yes"] * 8)
    expect(run.get_by_test_id("lab-table").nth(1)).to_contain_text("TTL for only one item type")
    assert blocking_violations(page) == []
    page.goto("/design#table-single_table")
    section = page.get_by_test_id("design-single-table")
    expect(section.get_by_test_id("aggregate-view")).to_contain_text("COUNT")
    expect(section.get_by_test_id("single-table-verdict")).to_contain_text("One table")
    assert blocking_violations(page) == []


CONSISTENCY_SHOWS = {
    "en": ("en-US", "Strongly consistent reads missed it 0 times"),
    "ja": ("ja-JP", "強力な整合性のある読み込みが見逃したのは 0 回"),
}


@pytest.mark.parametrize("language", ["en", "ja"])
def test_the_consistency_lab_runs_in_the_browser_in_both_languages(
    browser: Browser, app_server: AppServer, language: str
) -> None:
    locale, shows = CONSISTENCY_SHOWS[language]
    context = browser.new_context(base_url=app_server.url, locale=locale)
    try:
        page = context.new_page()
        page.goto("/labs/consistency")
        page.fill("#option-reads", "5")
        page.fill("#option-delays_ms", "0,1200")
        page.get_by_test_id("run-lab").click()
        run = page.get_by_test_id("lab-run")
        expect(run).to_have_attribute("data-status", "done", timeout=120_000)
        expect(run.get_by_test_id("lab-chart").locator("polyline")).to_have_count(3)
        expect(run.get_by_test_id("lab-shows")).to_contain_text(shows)
        expect(run.get_by_test_id("lab-shows")).to_contain_text("ValidationException")
    finally:
        context.close()
