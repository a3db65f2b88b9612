"""/design and `manage.py describe` come from the classes: changing a class changes them."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pynamodb.attributes import TTLAttribute, UnicodeAttribute
from pynamodb.indexes import IncludeProjection
from pynamodb.models import Model
from typer.testing import CliRunner

import manage
from lens.design import describe_design
from lens.exports import cloudformation_template
from shared import dynamo
from shared.access_patterns import access_pattern, access_patterns
from shared.database import rdb_models

pytest_plugins = ["tests.unit.design_fixtures"]


def describe_json() -> dict[str, Any]:
    result = CliRunner().invoke(manage.cli, ["describe", "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def table_of(design: dict[str, Any], base_name: str) -> dict[str, Any]:
    return next(t for t in design["tables"] if t["base_name"] == base_name)


def test_design_page_shows_every_registered_table_index_and_pattern(
    unit_client: TestClient,
) -> None:
    page = unit_client.get("/design")
    assert page.status_code == 200 and page.text.startswith("<!doctype html>")
    for model in dynamo.registered_models():
        assert f'data-table="{dynamo.base_table_name(model)}"' in page.text
        for index in model._indexes:
            assert f"secondary index {index}" in page.text
    for pattern in access_patterns():
        assert pattern.function in page.text
    for model in rdb_models():
        assert f'data-rdb-table="{model._meta.table_name}"' in page.text


def test_design_page_names_keys_ttl_and_the_serving_function(unit_client: TestClient) -> None:
    section = (
        unit_client.get("/design").text.split('data-table="sessions"')[1].split("</section>")[0]
    )
    assert "partition key <code>session_id</code>" in section
    assert "TTL <code>expires_at</code>" in section
    assert "sessions.service.viewer_for_token" in section
    assert "sessions/service.py:" in section  # where the serving function is
    assert '<a href="/login">run it</a>' in section


def test_a_new_model_appears_on_the_page_in_describe_and_in_json(
    unit_client: TestClient, gadget_model: type[Model]
) -> None:
    page = unit_client.get("/design").text
    section = page.split('data-table="gadgets"')[1].split("</section>")[0]
    assert "version attribute <code>version</code>" in section
    assert "TTL <code>expires_at</code>" in section
    assert "projection KEYS_ONLY" in section
    assert "Gadgets of an owner" in section
    gadgets = table_of(describe_json(), "gadgets")
    assert gadgets["table_name"] == "unit-gadgets"
    assert gadgets["indexes"][0]["patterns"][0]["name"] == "Gadgets of an owner"
    assert unit_client.get("/api/v1/design").json() == describe_json()
    text = CliRunner().invoke(manage.cli, ["describe"], env={"COLUMNS": "200"})
    assert "gadgets" in text.stdout and "OwnerIndex" in text.stdout


def test_changing_a_projection_changes_design_and_describe(
    unit_client: TestClient, isolated_registries: None, make_gadget: Callable[..., type[Model]]
) -> None:
    model = dynamo.register_model(make_gadget(IncludeProjection(["weight"])))
    dynamo.bind_models(dynamo.bound_settings(), [model])
    index = table_of(describe_json(), "gadgets")["indexes"][0]
    assert (index["projection"], index["non_key_attributes"]) == ("INCLUDE", ["weight"])
    assert "projection INCLUDE (<code>weight</code>)" in unit_client.get("/design").text


def test_an_index_no_pattern_uses_is_a_warning(
    unit_client: TestClient, isolated_registries: None, make_gadget: Callable[..., type[Model]]
) -> None:
    model = dynamo.register_model(make_gadget())
    dynamo.bind_models(dynamo.bound_settings(), [model])
    problems = describe_design().all_problems
    unused = "No access pattern uses OwnerIndex: every write of an item that carries its key"
    assert f"{unused} still pays for it." in problems
    assert "No access pattern uses OwnerIndex" in unit_client.get("/design").text


def test_a_pattern_naming_an_undeclared_index_is_a_warning(
    unit_client: TestClient, gadget_model: type[Model]
) -> None:
    access_pattern(
        name="By colour", model=gadget_model, operation="Query", key="colour = :c", index="Colour"
    )(lambda: None)
    problems = describe_design().all_problems
    assert any("names index 'Colour', which the class does not declare" in p for p in problems)


def test_describe_lists_the_rdb_side_beside(unit_client: TestClient) -> None:
    design = describe_json()
    posts = next(t for t in design["rdb_tables"] if t["table_name"] == "posts")
    author = next(c for c in posts["columns"] if c["name"] == "author_id")
    assert author["references"] == "users" and author["indexed"]
    assert ["created_at", "id"] in posts["indexes"]


@pytest.mark.parametrize("page", ["javascript:alert(1)", "//evil.example/x"])
def test_only_local_pages_become_links(
    unit_client: TestClient, gadget_model: type[Model], page: str
) -> None:
    access_pattern(name="Odd page", model=gadget_model, operation="Scan", key="(none)", page=page)(
        lambda: None
    )
    html = unit_client.get("/design").text
    assert f'href="{page}"' not in html


def test_item_types_sharing_a_table_are_one_table_with_the_union_of_attributes(
    unit_client: TestClient, gadget_model: type[Model]
) -> None:
    class GadgetNote(Model):
        """A note on a gadget, stored in the gadget's partition (the single-table pattern)."""

        class Meta:
            table_name = "gadgets"

        gadget_id = UnicodeAttribute(hash_key=True)
        made_at = UnicodeAttribute(range_key=True)
        text = UnicodeAttribute()
        note_expires = TTLAttribute(null=True)

    dynamo.register_model(GadgetNote)
    dynamo.bind_models(dynamo.bound_settings(), [GadgetNote])
    gadgets = next(t for t in describe_design().tables if t.base_name == "gadgets")
    assert [item.model.rsplit(".", 1)[1] for item in gadgets.item_types] == ["Gadget", "GadgetNote"]
    assert gadgets.attribute("text").item_types == ("GadgetNote",)
    assert gadgets.attribute("gadget_id").item_types == ("Gadget", "GadgetNote")
    assert any("one TTL attribute" in problem for problem in gadgets.problems)
    template = cloudformation_template(describe_design(), default_prefix="unit-")
    assert list(template["Resources"]).count("GadgetsTable") == 1
    page = unit_client.get("/design").text
    assert page.count('data-table="gadgets"') == 1 and "GadgetNote" in page


def test_classes_sharing_a_table_must_agree_on_indexes() -> None:
    from pynamodb.attributes import UnicodeAttribute
    from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
    from pynamodb.models import Model

    from shared.dynamo import _shared_table_ttl

    class ByColour(GlobalSecondaryIndex):  # type: ignore[type-arg]
        class Meta:
            index_name = "ByColour"
            projection = AllProjection()

        colour = UnicodeAttribute(hash_key=True)

    class Owner(Model):
        class Meta:
            table_name = "shared_things"

        pk = UnicodeAttribute(hash_key=True)

    class Latecomer(Model):
        class Meta:
            table_name = "shared_things"

        pk = UnicodeAttribute(hash_key=True)
        colour = UnicodeAttribute()
        by_colour = ByColour()

    assert _shared_table_ttl([Owner]) is None
    with pytest.raises(RuntimeError, match="declare every index on the first registered class"):
        _shared_table_ttl([Owner, Latecomer])


def test_the_code_behind_an_access_pattern_is_one_click_away(unit_client) -> None:
    design = unit_client.get("/design").text
    assert 'href="/design/code/sessions.service.viewer_for_token"' in design
    page = unit_client.get("/design/code/sessions.service.viewer_for_token")
    assert page.status_code == 200
    assert "def viewer_for_token(" in page.text
    assert "sessions/service.py:" in page.text


def test_only_access_pattern_functions_can_be_shown(unit_client) -> None:
    for name in ("shared.settings.Settings", "os.system", "sessions.service.sign_in"):
        response = unit_client.get(f"/design/code/{name}")
        assert response.status_code == 404
        assert "No declared access pattern" in response.text


def test_run_it_links_fill_placeholders_with_real_examples(unit_client, make_user) -> None:
    user = make_user(unit_client, "linda")
    post_id = user.call("POST", "/api/v1/posts", json={"title": "t", "body": "b"}).json()["id"]
    design = unit_client.get("/design").text
    assert f'<a href="/posts/{post_id}" title="/posts/{{post_id}}">run it</a>' in design
    assert '<a href="/users/linda" title="/users/{username}">run it</a>' in design
    assert "run it on <code>/posts/{post_id}/comments/{comment_id}/edit</code>" in design


def test_runnable_url_needs_every_placeholder_and_quotes_values() -> None:
    from lens.links import runnable_url

    assert runnable_url("/posts/{post_id}", {"post_id": "7"}) == "/posts/7"
    assert runnable_url("/users/{username}", {"username": "a/b?c"}) == "/users/a%2Fb%3Fc"
    assert runnable_url("/posts/{post_id}/comments/{comment_id}", {"post_id": "7"}) is None
    assert runnable_url("//evil.example/{x}", {"x": "1"}) is None
    assert runnable_url("/feed", {}) == "/feed"


def test_design_page_shows_the_house_contexts_kernel_lens_and_engine(unit_client) -> None:
    html = unit_client.get("/design").text
    section = html[html.index('id="layout"') :]
    for name, kind in [("blog/", "context"), ("activity/", "context"), ("shared/", "kernel")]:
        assert f"<code>{name}</code></td><td>{kind}" in section
    assert "<code>lens/</code></td><td>lens" in section
    assert "<code>engine/</code></td><td>engine" in section


def test_design_page_opens_with_contents_and_folds_each_table(unit_client: TestClient) -> None:
    page = unit_client.get("/design").text
    contents = page.split('data-testid="design-toc"')[1].split("</nav>")[0]
    for model in dynamo.registered_models():
        name = dynamo.base_table_name(model)
        assert f'href="#table-{name}"' in contents
        section = page.split(f'data-table="{name}"')[1].split("</section>")[0]
        assert section.lstrip(">\n").startswith('<details class="design-fold"')
        assert f'id="table-{name}"' in section  # inside the fold: a link to it unfolds it
    for model in rdb_models():
        assert f'href="#rdb-{model._meta.table_name}"' in contents
    assert page.count('data-testid="design-fold"') == len(
        {dynamo.base_table_name(m) for m in dynamo.registered_models()}
    ) + len(rdb_models())


def test_docstrings_are_rendered_as_markdown_and_raw_html_stays_text(
    unit_client: TestClient,
) -> None:
    section = unit_client.get("/design").text.split('data-table="likes"')[1].split("</section>")[0]
    assert "<strong>Keys</strong>" in section and "<li>" in section
    assert "<code>like_count</code>" in section and "`" not in section
    assert "<pre" not in section  # an indented section is text, not a code block
    assert "USER#&lt;user_id&gt;" in section
    japanese = unit_client.get("/design?lang=ja").text.split('data-table="likes"')[1]
    assert "<strong>キー</strong>" in japanese.split("</section>")[0]


def test_a_docstring_cannot_inject_html() -> None:
    from lens.docstrings import docstring_html

    rendered = docstring_html(
        'Title\n\nKeys\n    <script>alert(1)</script> [x](javascript:alert(1)) <b onclick="x">'
    )
    assert "<script" not in rendered and "<b " not in rendered
    assert 'href="javascript' not in rendered
    assert "<strong>Keys</strong>" in rendered and "&lt;script&gt;" in rendered


def test_the_architect_s_tools_are_reachable_from_the_design_page(unit_client: TestClient) -> None:
    """The advisor, the cost model and the contributor insights have no place in the site's
    menu: the design page's contents lead to them."""
    page = unit_client.get("/design").text
    tools = page.split('data-testid="architect-tools"')[1].split("</ol>")[0]
    for url in ("/design/advice", "/cost", "/insights"):
        assert f'href="{url}"' in tools
        assert unit_client.get(url).status_code == 200
