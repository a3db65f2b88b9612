"""The learner's language: chosen per request, remembered, and complete in both catalogs."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from shared import catalogs
from shared.i18n import LANGUAGE_COOKIE, format_datetime, negotiate, use_language

JA = {"Accept-Language": "ja,en-US;q=0.8"}


def test_every_marked_string_is_translated_in_both_catalogs() -> None:
    gaps = catalogs.gaps()
    assert not gaps, "run `make i18n` and translate:\n" + "\n".join(map(str, gaps[:40]))


def test_a_template_string_missing_from_the_japanese_catalog_is_a_gap(monkeypatch) -> None:
    sources = {**catalogs.source_messages(), "A sentence nobody translated": "x.html:1"}
    monkeypatch.setattr(catalogs, "source_messages", lambda: sources)
    problems = {(gap.language, gap.problem) for gap in catalogs.gaps()}
    assert problems == {("en", "missing"), ("ja", "missing")}


def test_a_fuzzy_translation_is_a_gap(monkeypatch) -> None:
    original = catalogs.load

    def load_with_one_fuzzy(language: str):  # type: ignore[no-untyped-def]
        catalog = original(language)
        if language == "ja":
            catalog.get("Sign in").flags.add("fuzzy")
        return catalog

    monkeypatch.setattr(catalogs, "load", load_with_one_fuzzy)
    assert [(g.language, g.msgid, g.problem) for g in catalogs.gaps()] == [
        ("ja", "Sign in", "fuzzy")
    ]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("ja", "ja"),
        ("ja-JP,ja;q=0.9,en;q=0.8", "ja"),
        ("en-GB,ja;q=0.5", "en"),
        ("fr-FR,ja;q=0.7,en;q=0.3", "ja"),
        ("fr, de", None),
        ("", None),
        ("ja;q=0, en", "en"),
        ("ja;q=bogus, en", "en"),
    ],
)
def test_accept_language_picks_our_best_language(header: str, expected: str | None) -> None:
    assert negotiate(header) == expected


def test_dates_follow_the_language_and_say_utc_in_both() -> None:
    moment = datetime(2026, 11, 30, 5, 0, tzinfo=UTC)
    with use_language("ja"):
        assert format_datetime(moment) == "2026年11月30日 05:00 UTC"
    with use_language("en"):
        assert format_datetime(moment) == "2026-11-30 05:00 UTC"
    with use_language("en"):
        assert format_datetime(moment.replace(tzinfo=None)) == "2026-11-30 05:00 UTC"


def test_a_japanese_browser_gets_the_japanese_page(unit_client) -> None:
    page = unit_client.get("/", headers=JA)
    assert page.status_code == 200
    assert '<html lang="ja">' in page.text
    assert "<h1>投稿</h1>" in page.text
    assert page.headers["content-language"] == "ja"


def test_without_a_preference_the_page_is_english(unit_client) -> None:
    page = unit_client.get("/")
    assert '<html lang="en">' in page.text and "<h1>Posts</h1>" in page.text


def test_lang_parameter_wins_and_is_remembered_in_a_cookie(unit_client) -> None:
    page = unit_client.get("/login?lang=ja")
    assert "<h1>サインイン</h1>" in page.text
    assert unit_client.cookies.get(LANGUAGE_COOKIE) == "ja"
    again = unit_client.get("/login", headers={"Accept-Language": "en"})
    assert "<h1>サインイン</h1>" in again.text
    back = unit_client.get("/login?lang=en", headers=JA)
    assert "<h1>Sign in</h1>" in back.text
    assert unit_client.cookies.get(LANGUAGE_COOKIE) == "en"


def test_an_unknown_lang_parameter_is_ignored(unit_client) -> None:
    page = unit_client.get("/login?lang=xx", headers=JA)
    assert page.status_code == 200 and "<h1>サインイン</h1>" in page.text
    assert LANGUAGE_COOKIE not in unit_client.cookies


def test_the_header_links_to_this_page_in_the_other_language(unit_client) -> None:
    page = unit_client.get("/activity?type=view", headers=JA)
    switch = re.search(r'data-testid="language-switch">(.*?)</span>\s*</div>', page.text, re.S)
    assert switch is not None
    assert 'href="/activity?type=view&amp;lang=en"' in switch.group(1)
    assert 'aria-current="true">日本語' in switch.group(1)


def test_error_pages_speak_the_requests_language(unit_client) -> None:
    missing = unit_client.get("/posts/999", headers=JA)
    assert missing.status_code == 404
    assert "<h1>見つかりません</h1>" in missing.text
    assert "投稿 999 はありません。" in missing.text
    nowhere = unit_client.get("/no/such/page", headers=JA)
    assert nowhere.status_code == 404 and "このアドレスにはページがありません。" in nowhere.text


def test_api_errors_speak_the_clients_language_too(unit_client) -> None:
    api = unit_client.get("/api/v1/posts/999", headers=JA)
    assert api.json() == {"detail": "投稿 999 はありません。"}


def test_japanese_validation_messages_name_the_field(unit_client) -> None:
    page = unit_client.get("/?page=0", headers=JA)
    assert page.status_code == 422
    assert "page: 値が小さすぎます" in page.text


def test_dates_on_pages_follow_the_language(unit_client, make_user) -> None:
    author = make_user(unit_client, "kana")
    created = author.call("POST", "/api/v1/posts", json={"title": "t", "body": "b"})
    assert created.status_code == 201, created.text
    listing = unit_client.get("/", headers=JA).text
    assert re.search(
        r'<time datetime="[\d-]+T[\d:]+Z">\d{4}年\d{1,2}月\d{1,2}日 \d\d:\d\d UTC</time>', listing
    )
    english = unit_client.get("/").text
    assert re.search(
        r"<time datetime=\"[\d-]+T[\d:]+Z\">\d{4}-\d\d-\d\d \d\d:\d\d UTC</time>", english
    )


def test_the_cli_help_follows_lang(monkeypatch) -> None:
    from click.testing import CliRunner

    import manage
    from shared.i18n import set_language

    monkeypatch.setenv("COLUMNS", "200")
    try:
        monkeypatch.setenv("LANG", "ja_JP.UTF-8")
        japanese = CliRunner().invoke(manage.localized_cli(), ["--help"]).output
        monkeypatch.setenv("LANG", "C.UTF-8")
        english = CliRunner().invoke(manage.localized_cli(), ["seed", "--help"]).output
    finally:
        set_language("en")
    assert "DynamoDB Lab のコマンドライン" in japanese
    assert "デモデータを書き込みます" in japanese
    assert "Write demo data" in english


ENGLISH_RUN = re.compile(r"[A-Za-z][A-Za-z'’-]+(?:[ ,:]+[A-Za-z][A-Za-z'’-]+){2,}")
NAMES_KEPT_IN_ENGLISH = {"DynamoDB Lab", "Time to Live"}
"""AWS's Japanese guide keeps these in English too; table names are identifiers."""


def english_sentences(html: str) -> set[str]:
    """Runs of three or more English words in what a reader sees (code and identifiers aside)."""
    body = html.split("<body", 1)[-1]
    body = re.sub(r"<(code|pre|script|style)\b.*?</\1>", " ", body, flags=re.S)
    body = re.sub(r"<(select)\b.*?</select>", " ", body, flags=re.S)  # identifiers to pick from
    body = re.sub(r"<nav class=\"(design-toc|explorer-views)\".*?</nav>", " ", body, flags=re.S)
    text = re.sub(r"&\w+;", " ", re.sub(r"<[^>]+>", " ", body))
    text = re.sub(r"`[^`]*`", " ", text)  # code quoted in a docstring
    return set(ENGLISH_RUN.findall(text)) - NAMES_KEPT_IN_ENGLISH


def test_japanese_pages_show_no_english_sentences(unit_client, make_user) -> None:
    author = make_user(unit_client, "kana")
    post_id = author.call("POST", "/api/v1/posts", json={"title": "投稿", "body": "本文"}).json()[
        "id"
    ]
    author.call("POST", f"/api/v1/posts/{post_id}/like")
    author.call("POST", f"/api/v1/posts/{post_id}/comments", json={"body": "コメント"})
    pages = [
        "/",
        "/login",
        "/signup",
        "/posts/new",
        "/tour",
        *(f"/tour/{n}" for n in range(1, 9)),
        "/design",
        "/design/code/activity.service.feed_by_scan",
        "/activity?type=like",
        "/feed",
        "/users/kana",
        f"/posts/{post_id}",
        f"/posts/{post_id}/comments",
        f"/posts/{post_id}/activity",
        "/posts/9999",
        "/no/such/page",
        "/tables",
        "/tables/unit-activities",
        "/tables/unit-activities?index=ActivityTypeIndex",
        "/tables/unit-likes?run=1&op=Query&pk=1",
        f"/tables/unit-comments/partitions/{post_id}",
        "/tables/unit-sessions?run=1&op=GetItem",
        "/labs",
        "/labs/counter",
        "/labs/query-vs-scan",
    ]
    found = {}
    for path in pages:
        page = author.client.get(path, headers=JA)
        assert '<html lang="ja">' in page.text, path
        if left := english_sentences(page.text):
            found[path] = sorted(left)
    assert not found, f"English left on Japanese pages: {found}"


def test_every_template_compiles_so_its_strings_can_be_extracted(unit_client) -> None:
    """Babel's Jinja2 extractor yields nothing for a template it cannot parse (a `{% trans %}`
    holds plain names only), so a broken template would hide its strings from the catalogs."""
    from shared.web import templates

    names = templates.env.list_templates(extensions=["html"])
    assert len(names) > 20
    for name in names:
        templates.env.get_template(name)


def test_a_japanese_phrase_too_long_for_its_cell_breaks_at_its_spaces_first() -> None:
    """BudouX keeps "スキャン + フィルター" as one phrase; in a cell narrower than it, the
    line breaks at a space, not inside フィルター."""
    from rich.console import Console

    from shared.i18n import PhraseText

    lines = PhraseText("スキャン + フィルター").wrap(Console(width=40), 11)
    assert [line.plain for line in lines] == ["スキャン +", "フィルター"]
    pieces = PhraseText("アクティビティ").wrap(Console(width=40), 6)
    assert "".join(line.plain for line in pieces) == "アクティビティ"
