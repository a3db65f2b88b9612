"""The design page in both languages: every model class carries its Japanese twin."""

from __future__ import annotations

import sys

from fastapi.testclient import TestClient
from markupsafe import escape

from lens.design import describe_design, japanese_doc
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
    for table in design.tables:
        for item_type in table.item_types:
            assert str(escape(item_type.summary_ja.split("\n")[0])) in page
        assert str(escape(table.notes_ja.split("\n")[0])) in page
    assert "パーティションキー" in page and "ソートキー" in page
    english = unit_client.get("/design").text
    first = design.tables[0].item_types[0]
    assert str(escape(first.summary.split("\n")[0])) in english
    assert str(escape(first.summary_ja.split("\n")[0])) not in english
