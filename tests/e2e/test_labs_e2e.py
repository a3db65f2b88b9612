"""A lab run from the browser: the index, the form, the progress polled by htmx, the chart."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.app_server import AppServer


def test_a_lab_runs_from_the_browser_and_draws_its_chart(page: Page) -> None:
    page.goto("/")
    page.get_by_role("link", name="Labs", exact=True).click()
    expect(page.get_by_test_id("lab-list").locator("li")).to_have_count(6)
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
