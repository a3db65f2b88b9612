"""Capacity is explained once, on /design#reported-and-computed, in both languages, and every
page that shows a capacity figure (the inspector, /feed, the explorer, a lab's result) links
there."""

from __future__ import annotations

import time
from pathlib import Path

from fastapi.testclient import TestClient

from lens.labs import LABS
from lens.labs.runner import LabRun, _runs
from tests.unit.test_labs import _counter_result

HELP = 'href="/design#reported-and-computed"'
PROJECT = Path(__file__).resolve().parents[2]


def test_capacity_is_explained_once_on_the_design_page_in_both_languages(
    unit_client: TestClient,
) -> None:
    english = unit_client.get("/design").text
    section = english.split('id="reported-and-computed"')[1].split("</section>")[0]
    for words in ("Reported", "Computed", "When they differ, and why", "Which one AWS bills"):
        assert words in section
    assert "ConsumedCapacity" in section and "PAY_PER_REQUEST" in section
    assert 'href="#reported-and-computed"' in english  # in the contents
    japanese = unit_client.get("/design?lang=ja").text.split('id="reported-and-computed"')[1]
    assert "課金" in japanese.split("</section>")[0]


def test_every_capacity_figure_links_to_the_explanation(unit_client: TestClient) -> None:
    assert HELP in unit_client.get("/feed").text.split('data-testid="scan-lesson"')[1]
    assert HELP in unit_client.get("/").text.split('id="inspector-panel"')[1]
    explorer = unit_client.get("/tables/unit-activities", params={"index": "FeedIndex"}).text
    assert HELP in explorer.split("This page read ")[1].split("</p>")[0]
    run = LabRun(id="finished-counter", lab=LABS["counter"], options=None, status="done")
    run.result, run.finished = _counter_result(lost=3), time.monotonic()
    _runs[run.id] = run
    try:
        assert HELP in unit_client.get(f"/labs/counter/runs/{run.id}").text
    finally:
        _runs.pop(run.id)


def test_no_page_claims_the_local_engine_reports_a_fixed_figure() -> None:
    """The project's engine reports capacity by AWS's rules; only stock moto uses placeholders,
    and the one explanation says so."""
    pages = [*PROJECT.glob("*/templates/**/*.html"), *PROJECT.glob("locale/*/LC_MESSAGES/*.po")]
    for path in pages:
        text = path.read_text()
        assert "fixed 1.0" not in text and "the one to trust" not in text, path
