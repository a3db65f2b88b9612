"""The explorer in Chromium on the seeded app: from /design to a pre-filled builder, a Query run
in place with htmx, its code shown, its next page and back; a bad value answered in the builder;
a collection opened."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import ARTIFACTS


def test_a_design_pattern_opens_the_builder_and_a_query_runs_in_place(page: Page) -> None:
    page.goto("/design")
    # the contents' link unfolds the activities table's section, as a reader opens it
    page.get_by_test_id("design-toc").locator('a[href="#table-activities"]').click()
    fold = page.locator('[data-table="activities"] details.design-fold')
    expect(fold).to_have_attribute("open", "")
    timeline = fold.locator('tr[data-pattern="The timeline of one post"]')
    timeline.get_by_test_id("open-in-builder").click()
    expect(page).to_have_url(re.compile(r"/tables/lab-activities\?index=PostActivityIndex"))
    builder = page.get_by_test_id("builder")
    expect(builder.get_by_test_id("builder-op")).to_have_value("Query")
    expect(builder.get_by_test_id("builder-index")).to_have_value("PostActivityIndex")
    expect(builder.get_by_test_id("builder-order")).to_have_value("backward")
    expect(builder.get_by_test_id("builder-pk")).not_to_have_value("")
    expect(page.get_by_test_id("index-coverage")).to_contain_text("items carry")

    url = page.url
    # 2: the seed gives every post a few activities (its own post, views), not always five
    builder.get_by_test_id("builder-limit").fill("2")
    builder.get_by_test_id("builder-run").click()
    result = page.get_by_test_id("builder-result")
    expect(result).to_be_visible()
    assert page.url == url  # htmx swapped the builder only
    expect(result.get_by_test_id("item")).to_have_count(2)
    expect(result.get_by_test_id("builder-count")).to_have_text("2")
    expect(result.get_by_test_id("builder-request")).to_contain_text(
        '"IndexName": "PostActivityIndex"'
    )
    expect(result.get_by_test_id("code-boto3")).to_contain_text("response = dynamodb.query(")
    expect(result.get_by_test_id("code-pynamodb")).to_contain_text("Activity.post_index.query(")
    inspector = page.locator("#inspector-panel")
    expect(inspector.get_by_test_id("inspector-summary")).to_contain_text("1 DynamoDB call")
    ARTIFACTS.mkdir(exist_ok=True)
    page.get_by_test_id("builder").screenshot(path=str(ARTIFACTS / "explorer-builder.png"))

    first_page = result.get_by_test_id("item").all_inner_texts()
    result.get_by_test_id("builder-next").click()
    expect(page.get_by_test_id("builder-first")).to_be_visible()
    result = page.get_by_test_id("builder-result")
    expect(result.get_by_test_id("builder-request")).to_contain_text('"ExclusiveStartKey"')
    second_page = result.get_by_test_id("item").all_inner_texts()
    assert 1 <= len(second_page) <= 2 and not set(second_page) & set(first_page)
    assert page.url == url  # the next page came in place too
    page.get_by_test_id("builder-first").click()
    expect(page.get_by_test_id("builder-first")).to_have_count(0)
    expect(page.get_by_test_id("builder-request")).not_to_contain_text("ExclusiveStartKey")

    builder.get_by_test_id("builder-index").select_option("")
    builder.get_by_test_id("builder-sk-op").select_option("begins_with")
    builder.get_by_test_id("builder-sk").fill("2026")
    builder.get_by_test_id("builder-pk").fill("")
    builder.get_by_test_id("builder-run").click()
    expect(page.get_by_test_id("builder-error")).to_contain_text("needs the partition key")


def test_a_collection_opens_as_dynamodb_json_and_as_the_pynamodb_object(page: Page) -> None:
    page.goto("/tables")
    page.locator('[data-table="lab-likes"] h2 a').click()
    expect(page.get_by_test_id("scan-notice")).to_contain_text("This page reads with Scan")
    first = page.get_by_test_id("collection").first
    expect(first.locator('[data-type="LikeCounter"]')).to_have_count(1)
    first.get_by_role("link", name="open this collection (Query)").click()
    expect(page.get_by_test_id("query-notice")).to_contain_text("Read with one Query")
    item = page.get_by_test_id("open-item").first
    item.locator("summary").click()
    expect(item.get_by_test_id("item-json")).to_contain_text('"post_id": {')
    expect(item.get_by_test_id("item-object")).to_contain_text("LikeCounter(")
