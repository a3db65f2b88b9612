"""The design page in both languages: every model class carries its Japanese twin."""

from __future__ import annotations

import inspect
import sys

from fastapi.testclient import TestClient

from lens.design import describe_design, japanese_doc
from lens.docstrings import markdown_inline
from shared.database import rdb_models
from shared.dynamo import registered_models

JA = {"Accept-Language": "ja"}


def test_every_model_class_has_japanese_text(unit_client: TestClient) -> None:
    models = [*registered_models(), *rdb_models()]
    assert models
    missing = [f"{m.__module__}.{m.__qualname__}" for m in models if not japanese_doc(m)]
    assert not missing, f"add __doc_ja__ to {missing}"


def test_every_models_module_has_japanese_design_notes(unit_client: TestClient) -> None:
    modules = {sys.modules[m.__module__] for m in [*registered_models(), *rdb_models()]}
    missing = sorted(module.__name__ for module in modules if not japanese_doc(module))
    assert not missing, f"add a module-level __doc_ja__ to {missing}"


def test_a_subclass_does_not_borrow_its_parents_japanese_text() -> None:
    class Parent:
        """English."""

        __doc_ja__ = "日本語。"

    class Child(Parent):
        """Other English."""

    assert japanese_doc(Parent) == "日本語。" and japanese_doc(Child) == ""


def test_wrapped_japanese_lines_are_joined_back_without_spaces() -> None:
    class Wrapped:
        __doc_ja__ = """見出し
            * 一つ目の項目は
              次の行に続く GSI
              の説明。
            本文。"""

    assert japanese_doc(Wrapped) == "見出し\n* 一つ目の項目は次の行に続く GSI の説明。\n本文。"


def test_the_japanese_design_page_shows_the_japanese_docstrings(unit_client: TestClient) -> None:
    page = unit_client.get("/design", headers=JA).text
    design = describe_design()
    for table in design.tables:  # docstrings are rendered as Markdown: `code` becomes <code>
        for item_type in table.item_types:
            assert str(markdown_inline(item_type.summary_ja.split("\n")[0])) in page
        assert str(markdown_inline(table.notes_ja.split("\n")[0])) in page
    assert "パーティションキー" in page and "ソートキー" in page
    english = unit_client.get("/design").text
    first = design.tables[0].item_types[0]
    assert str(markdown_inline(first.summary.split("\n")[0])) in english
    assert str(markdown_inline(first.summary_ja.split("\n")[0])) not in english


def test_a_code_span_broken_over_two_lines_is_joined_without_a_space() -> None:
    class Keyed:
        __doc_ja__ = """ソートキーは `2025-11-25T13:45:12.123456Z
            #<suffix>` の形。"""

    assert japanese_doc(Keyed) == "ソートキーは `2025-11-25T13:45:12.123456Z#<suffix>` の形。"


def _japanese_sources() -> list[tuple[str, str]]:
    owners = [*registered_models(), *rdb_models()]
    owners += list({sys.modules[m.__module__] for m in owners})
    docs = [(getattr(o, "__qualname__", getattr(o, "__name__", "")), vars(o)) for o in owners]
    return [
        (name, inspect.cleandoc(found["__doc_ja__"]))
        for name, found in docs
        if found.get("__doc_ja__")
    ]


def test_japanese_docstrings_never_break_a_line_inside_a_word_or_a_code_span(
    unit_client: TestClient,
) -> None:
    """Where two ASCII letters or digits meet a line break, the reader cannot tell a word break
    ("1 WCU") from an identifier split in two ("Tra nsactionConflict"); inside a code span,
    "`ADD attempts`" from "`…Z#<suffix>`". The sources break next to Japanese text instead."""
    bad = []
    for name, text in _japanese_sources():
        lines = text.split("\n")
        ticks = 0
        for before, after in zip(lines, lines[1:], strict=False):
            ticks = ticks + before.count("`") if before.strip() else 0
            first, last = after.strip()[:1], before.rstrip()[-1:]
            if first and last and (last + first).isascii() and (last + first).isalnum():
                bad.append(f"{name}: {before.strip()[-20:]!r} | {after.strip()[:20]!r}")
            elif first and ticks % 2 == 1:
                bad.append(f"{name}: code span broken at {before.strip()[-30:]!r}")
    assert not bad, "\n".join(bad)


def test_the_japanese_design_page_shows_identifiers_whole(unit_client: TestClient) -> None:
    page = unit_client.get("/design", headers=JA).text
    assert "TransactionConflict" in page
    assert "9f2c4e1a7b3d" in page
    assert "Tra nsactionConflict" not in page and "9f2c4e1a7 b3d" not in page
    assert "123456Z #&lt;suffix&gt;" not in page and "123456Z #<suffix>" not in page


def test_the_design_page_explains_capacity_modes_lsis_and_limits_in_both_languages(
    unit_client: TestClient,
) -> None:
    english = unit_client.get("/design").text
    for fact in (
        'id="capacity"',
        "read request units",
        "4,000 writes",
        "twice its previous peak",
        "40,000",
        "burst capacity",
        "Adaptive",
        "10 GB",
        "16 MB",
        "4 MB",
        "TransactionConflictException",
        "leaves open",
    ):
        assert fact in english, fact
    japanese = unit_client.get("/design", headers=JA).text
    for fact in (
        "オンデマンド",
        "項目コレクション",
        "アダプティブキャパシティ",
        "10 GB",
        "TransactionConflictException",
    ):
        assert fact in japanese, fact
