"""The single-table variant: its classes tell item types apart, and /design draws it."""

from __future__ import annotations

from fastapi.testclient import TestClient

from lens.single_table.design import describe_single_table, example_collection
from lens.single_table.models import (
    CommentItem,
    LikeCounterItem,
    SingleTableItem,
    UserLikeItem,
    comment_sk,
    post_pk,
)


def test_a_query_of_mixed_items_gives_each_its_own_class() -> None:
    raw = [
        LikeCounterItem(pk=post_pk(1), sk="COUNT", post_id=1, like_count=3).serialize(),
        CommentItem(
            pk=post_pk(1),
            sk=comment_sk("c1"),
            post_id=1,
            comment_id="c1",
            user_id="7",
            username="u7",
        ).serialize(),
    ]
    items = [SingleTableItem.from_raw_data(item) for item in raw]
    assert [type(item) for item in items] == [LikeCounterItem, CommentItem]
    assert raw[0]["type"] == {"S": "like_counter"}


def test_the_variant_is_one_table_with_two_overloaded_indexes_and_no_warnings() -> None:
    table = describe_single_table()
    assert (table.hash_key, table.range_key, table.ttl_attribute) == ("PK", "SK", "expires_at")
    assert [index.name for index in table.indexes] == ["GSI1", "GSI2"]
    assert len(table.item_types) == 5
    assert table.problems == ()
    gsi1 = {p.name for p in table.indexes[0].patterns}
    assert len(gsi1) == 2, "GSI1 serves two item types' questions: it is overloaded"


def test_the_aggregate_view_is_one_post_collection_of_several_types_sorted_by_sk() -> None:
    pk, rows = example_collection()
    assert pk == post_pk(1)
    assert [row.sk for row in rows] == sorted(row.sk for row in rows)
    assert {row.item_type for row in rows} >= {"like_counter", "comment", "user_like"}


def test_design_page_shows_the_single_table_variant_in_both_languages(
    unit_client: TestClient,
) -> None:
    page = unit_client.get("/design")
    assert page.status_code == 200
    assert 'data-testid="design-single-table"' in page.text
    assert "lens.single_table.models.UserLikeItem" in page.text
    assert 'data-testid="aggregate-view"' in page.text
    ja = unit_client.get("/design", headers={"Accept-Language": "ja"})
    assert "項目コレクション" in ja.text
    assert UserLikeItem.__name__ in ja.text
