"""Both languages in Chromium: the tour walked end to end, the header toggle, keyboard use, the
loading indicator, a phone-sized screen, and axe-core on the main pages (no serious or critical
violation). Screenshots of every checked page go to test-artifacts/ (ui-<lang>-<page>.png)."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterator

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, Route, expect

from tests.e2e.conftest import ARTIFACTS, AppServer

LOCALES = {"en": "en-US", "ja": "ja-JP"}
MAIN_PAGES = {
    "home": "/",
    "tour": "/tour",
    "tour-step": "/tour/4",
    "design": "/design",
    "feed": "/feed",
    "activity": "/activity?type=like",
    "login": "/login",
    "signup": "/signup",
    "not-found": "/no/such/page",
    "tables": "/tables",
    "table": "/tables/lab-activities",
    "builder-pages": "/tables/lab-activities?op=Scan&limit=5&run=1",  # a read with a next page
    "labs": "/labs",
    "lab": "/labs/counter",
}
BLOCKING = {"serious", "critical"}
HEADINGS = {
    "en": {"tour": "The guided tour", "home": "Posts", "step-1": "Start from the access patterns"},
    "ja": {"tour": "ガイドツアー", "home": "投稿", "step-1": "アクセスパターンから始める"},
}
NAV_TOUR = {"en": "Tour", "ja": "ツアー"}
DONE_ALL = {"en": "11 of 11 steps done", "ja": "11 ステップ中 11 ステップ完了"}


@pytest.fixture
def open_page(browser: Browser, app_server: AppServer) -> Iterator[Callable[..., Page]]:
    """A fresh browser context (its own cookies) whose Accept-Language is the given locale."""
    contexts = []

    def open_in(language: str, width: int = 1280, height: int = 900) -> Page:
        context = browser.new_context(
            base_url=app_server.url,
            locale=LOCALES[language],
            viewport={"width": width, "height": height},
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        return page

    yield open_in
    for context in contexts:
        context.close()


def shoot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("language", ["en", "ja"])
def test_the_tour_is_walked_to_the_end_in_each_language(
    open_page: Callable[..., Page], language: str
) -> None:
    page = open_page(language)
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", language)
    page.locator("header nav").get_by_role("link", name=NAV_TOUR[language], exact=True).click()
    expect(page.locator("h1")).to_have_text(HEADINGS[language]["tour"])
    page.get_by_test_id("tour-continue").click()
    expect(page.locator("h1")).to_have_text(HEADINGS[language]["step-1"])
    for number in range(1, 12):
        step = page.get_by_test_id("tour-step")
        expect(step).to_be_visible()
        guide = step.get_by_test_id("tour-guide").get_attribute("href") or ""
        assert ("/ja_jp/" in guide) == (language == "ja"), guide
        expect(step.get_by_test_id("tour-model")).to_contain_text(".models.")
        expect(step.get_by_test_id("tour-function")).to_contain_text(re.compile(r"\w+\.\w+\.\w+"))
        if number == 4:
            shoot(page, f"ui-{language}-tour-step")
        page.get_by_test_id("tour-done").click()
    expect(page).to_have_url(re.compile(r"/tour$"))
    expect(page.get_by_test_id("tour-progress")).to_contain_text(DONE_ALL[language])
    expect(page.locator("li.done")).to_have_count(11)
    shoot(page, f"ui-{language}-tour-done")


def test_the_header_toggle_switches_language_and_remembers_it(
    open_page: Callable[..., Page],
) -> None:
    page = open_page("en")
    page.goto("/activity?type=comment")
    expect(page.locator("h1")).to_have_text("Latest activity of one type")
    page.get_by_test_id("language-switch").get_by_role("link", name="日本語").click()
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page).to_have_url(re.compile(r"/activity\?type=comment&lang=ja$"))
    expect(page.locator("h1")).to_have_text("種類別の最新アクティビティ")
    page.goto("/design")  # no parameter: the cookie remembers the choice
    expect(page.locator("h1")).to_have_text("コードから読み取った設計")
    page.get_by_test_id("language-switch").get_by_role("link", name="English").click()
    expect(page.locator("h1")).to_have_text("The design, read from the code")


def test_the_keyboard_reaches_the_content_with_a_visible_focus(
    open_page: Callable[..., Page],
) -> None:
    page = open_page("ja")
    page.goto("/")
    page.keyboard.press("Tab")
    skip = page.locator(".skip-link")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    assert skip.evaluate("el => getComputedStyle(el).outlineStyle") != "none"
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.closest('main') !== null")
    assert focused, "the first Tab after skipping lands inside the content"
    style = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert style != "none"


def test_an_htmx_request_shows_the_loading_bar_and_marks_its_target_busy(
    open_page: Callable[..., Page],
) -> None:
    page = open_page("en")
    page.goto("/activity?type=view")
    held: list[Route] = []
    page.route(re.compile(r".*/activity\?.*cursor=.*"), lambda route: held.append(route))
    page.get_by_test_id("older").first.click()
    expect(page.locator("body")).to_have_class(re.compile(r"\bis-loading\b"))
    expect(page.locator(".loading-bar")).to_have_css("opacity", "1")
    expect(page.locator(".older[aria-busy=true]")).to_have_count(1)
    page.wait_for_timeout(100)
    assert held, "the request was held"
    held[0].continue_()
    expect(page.locator("body")).not_to_have_class(re.compile(r"\bis-loading\b"))


def test_an_htmx_swap_does_not_shift_the_page(open_page: Callable[..., Page]) -> None:
    page = open_page("en")
    page.goto("/activity?type=like")
    page.evaluate(
        """() => { window.__shift = 0;
        new PerformanceObserver(list => { for (const e of list.getEntries()) {
          if (!e.hadRecentInput) window.__shift += e.value; } })
        .observe({type: "layout-shift", buffered: false}); }"""
    )
    count = page.locator("li.activity").count()
    page.evaluate("document.querySelector('[data-testid=older]').click()")
    expect(page.locator("li.activity")).not_to_have_count(count)
    page.wait_for_timeout(300)
    assert page.evaluate("window.__shift") < 0.01


@pytest.mark.parametrize("language", ["en", "ja"])
def test_pages_fit_a_phone_screen(open_page: Callable[..., Page], language: str) -> None:
    page = open_page(language, width=390, height=844)
    for name in ("home", "tour-step", "design", "feed"):
        page.goto(MAIN_PAGES[name])
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 1, f"{name} scrolls sideways by {overflow}px"
        if name in ("home", "tour-step"):
            shoot(page, f"ui-{language}-phone-{name}")


def violations(page: Page) -> list[dict[str, object]]:
    """Every axe-core violation on the page (all impacts, for the report)."""
    results = Axe().run(page)
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in results.response["violations"]
    ]


@pytest.mark.parametrize("language", ["en", "ja"])
def test_main_pages_have_no_serious_accessibility_violations(
    open_page: Callable[..., Page], language: str
) -> None:
    page = open_page(language)
    page.goto("/")
    page.locator("article.post-summary h2 a").first.click()
    pages = {**MAIN_PAGES, "post": page.url.removeprefix(page.url.split("/posts/")[0])}
    report: dict[str, list[dict[str, object]]] = {}
    for name, path in pages.items():
        page.goto(path, timeout=60_000)  # the feed's Scan is slow on a busy machine, by design
        expect(page.locator("html")).to_have_attribute("lang", language)
        report[name] = violations(page)
        shoot(page, f"ui-{language}-{name}")
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"axe-{language}.json").write_text(json.dumps(report, indent=2))
    failing = {
        name: [v for v in found if v["impact"] in BLOCKING] for name, found in report.items()
    }
    failing = {name: found for name, found in failing.items() if found}
    assert not failing, json.dumps(failing, indent=2)


@pytest.mark.parametrize("language", ["en", "ja"])
def test_readme_screenshots_in_each_language(open_page: Callable[..., Page], language: str) -> None:
    """The README's pictures (copied to docs/ by hand): a post after a like with its lesson,
    the inspector open on it, and a step of the tour."""
    page = open_page(language, width=1200, height=860)
    page.goto("/signup")
    page.fill("#username", f"shot_{language}_{uuid.uuid4().hex[:6]}")
    page.fill("#password", "password-123")
    page.locator("#signup-form button[type=submit]").click()
    expect(page.locator("header .who")).to_be_visible()
    page.goto("/")
    page.locator("article.post-summary h2 a").first.click()
    likes = page.get_by_test_id("likes")
    likes.get_by_test_id("like-button").click()
    expect(likes.get_by_test_id("like-button")).to_have_attribute("aria-pressed", "true")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"readme-{language}-post.png"))
    panel = page.locator("#inspector-panel")
    panel.locator("summary").click()
    panel.scroll_into_view_if_needed()
    expect(panel.locator('tr[data-operation="UpdateItem"]').first).to_be_visible()
    panel.screenshot(path=str(ARTIFACTS / f"readme-{language}-inspector.png"))
    page.goto("/tour/4")
    page.screenshot(path=str(ARTIFACTS / f"readme-{language}-tour.png"))
