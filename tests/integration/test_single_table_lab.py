"""The single-table lab on real parts: every question answered alike by both designs, the post
page in fewer calls, and the copy it leaves open in the explorer after its engine is gone."""

from __future__ import annotations

from fastapi.testclient import TestClient

import activity.models  # noqa: F401 - registers the tables the lab copies
import engagement.comments.models  # noqa: F401
import engagement.likes.models  # noqa: F401
import sessions.models  # noqa: F401
from lens.labs import LABS
from lens.labs.lab import build_options
from lens.labs.runner import run_lab


def test_both_designs_give_the_same_answers_and_the_post_page_needs_fewer_calls() -> None:
    lab = LABS["single-table"]
    result = run_lab(lab, build_options(lab.options, {"activities": 200, "repeats": 1}))
    by_name = {q["name"]: q for q in result["questions"]}
    assert set(by_name) == {"post page", "user activity", "global feed", "likes of one user"}
    assert all(q["same_answers"] for q in result["questions"])
    page = by_name["post page"]
    assert page["single_table"]["calls"] < page["multi_table"]["calls"]
    likes = by_name["likes of one user"]
    assert likes["answer"], "the busiest liker has likes to find"
    assert likes["single_table"]["items_read"] < likes["multi_table"]["items_read"]


def test_the_copy_left_for_the_explorer_opens_there_after_the_run(live_client: TestClient) -> None:
    lab = LABS["single-table"]
    options = build_options(lab.options, {"activities": 60, "repeats": 1, "explorer": "copy"})
    result = run_lab(lab, options)
    assert any("/tables/" in note for note in result["notes"])
    summary = live_client.get("/api/v1/tables/single_table/collections")
    assert summary.status_code == 200, summary.text
    keys = {c["partition_key"] for c in summary.json()["collections"]}
    assert any(key.startswith("POST#") for key in keys)
    page = live_client.get("/tables/single_table", params={"index": "GSI1"})
    assert page.status_code == 200 and "USER#" in page.text and "UserLikeItem" in page.text
