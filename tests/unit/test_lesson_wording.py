"""Sentences that were wrong by AWS's developer guide, and must not come back in any language.

Each phrase below was once in a lesson a learner reads (a model docstring or its Japanese twin,
a template, the tour, a lab, a README or the Japanese catalog). Whitespace is collapsed before
matching, and removed altogether for the Japanese phrases, so a line break cannot hide one.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from shared.settings import PROJECT_ROOT

SKIPPED = {".venv", "node_modules", "tests", "data", ".git", "test-artifacts"}


def _learner_facing() -> list[Path]:
    found = [PROJECT_ROOT / "README.md", PROJECT_ROOT / "README.ja.md"]
    found.append(PROJECT_ROOT / "locale" / "ja" / "LC_MESSAGES" / "messages.po")
    sources = (
        "**/models.py",
        "**/service.py",
        "**/templates/**/*.html",
        "lens/*.py",
        "lens/labs/*.py",
    )
    for pattern in (*sources, "engagement/*.py"):
        found += [p for p in PROJECT_ROOT.glob(pattern) if not SKIPPED & set(p.parts)]
    return found


def _texts() -> dict[str, str]:
    return {
        str(p.relative_to(PROJECT_ROOT)): p.read_text(encoding="utf-8") for p in _learner_facing()
    }


WRONG_IN_ENGLISH = [
    # A partition key value is an item collection; a partition is the physical unit holding many.
    "as many partitions as there are users",
    "are one partition",
    "is one partition",
    "one DynamoDB partition",
    "one index partition",
    "a partition has no size limit",
    "a user's partition grows",
    "into {{ shards }} partitions",
    "goes straight to this partition",
    "next partitions",
    "the `view` partition",
    "one partition, newest first",
    "one partition; the thread",
    "it names the one partition",
    "a query goes to one partition",
    # Sharding escapes one item's limit, and the table's own throughput still caps it.
    "caps one key whatever the table's capacity",
    'would all share partition key "42" and so one partition',
    # An index costs a write only when the item is in it before or after.
    "every index is paid on every write",
    "every gsi is paid on every write",
    "every write to the table still pays for it",
    # The activity key's suffix is a hash of event_id: that is what makes redelivery idempotent.
    "random suffix keeps the key unique",
    # The embedded engine reports DynamoDB's figures now.
    "reports a fixed 1.0",
    # TTL deletion is best effort, typically within a few days, with no guarantee.
    "but late: within days",
]

WRONG_IN_JAPANESE = [
    "テーブルはユーザーの数だけのパーティションに散らばり",
    "1パーティションに集約",
    "すべてDynamoDBの1パーティション",
    "コメントはすべて1つのパーティションにある",
    "パーティションには大きさの上限がなく",
    "ユーザーのパーティションは際限なく",
    "1つのインデックスパーティションに書き込まれます",
    "個のパーティションに分散します",
    "次のパーティション",
    "`view`パーティション",
    "1パーティション、新しい順",
    "1パーティション。スレッド",
    "このパーティションに直行し",
    "ランダムな接尾辞を付ければ、キーは一意のまま",
    "ゴミ集め",
    "結果整合性の読み込み",
    "GSIは即時に一貫し",
    "アイテムコレクション",
    "アイテムサイズ",
    "2つのGSI",
]


@pytest.mark.parametrize("phrase", WRONG_IN_ENGLISH)
def test_no_english_lesson_repeats_a_corrected_sentence(phrase: str) -> None:
    hits = [
        name
        for name, text in _texts().items()
        if phrase.lower() in re.sub(r"\s+", " ", text).lower()
    ]
    assert not hits, f"{phrase!r} in {hits}"


@pytest.mark.parametrize("phrase", WRONG_IN_JAPANESE)
def test_no_japanese_lesson_repeats_a_corrected_sentence(phrase: str) -> None:
    wanted = re.sub(r"\s+", "", phrase)
    hits = [name for name, text in _texts().items() if wanted in re.sub(r"\s+", "", text)]
    assert not hits, f"{phrase!r} in {hits}"


def test_the_japanese_readme_says_inspector_one_way() -> None:
    text = (PROJECT_ROOT / "README.ja.md").read_text(encoding="utf-8")
    assert not re.search(r"インスペクタ(?!ー)", text)
    assert "FeedIndex" in text and "3 つの GSI" in text
