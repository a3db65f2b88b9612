"""The learner's language: gettext catalogs, chosen per request, for pages, messages and the CLI.

Every string a learner reads goes through `gettext` (`_` in Python, `_()` and `{% trans %}` in
templates). The catalogs live in `locale/<language>/LC_MESSAGES/messages.po`; `make i18n`
extracts `locale/messages.pot` from the code and templates and updates them, and `make run` /
`make test` compile them to `.mo` files. A request's language comes from `?lang=` (which is then
remembered in a cookie), the cookie, or the browser's `Accept-Language`, in that order; the CLI
takes it from `LANG`. The language lives in a context variable, so a service raising
`NotFound(_("There is no post {post_id}.").format(...))` speaks the language of the request it
serves without knowing about requests, and a thread the request hands work to inherits it.
"""

from __future__ import annotations

import contextlib
import gettext as stdlib_gettext
import inspect
import io
import logging
import os
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import click
import jinja2
from babel import Locale, UnknownLocaleError
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from markupsafe import Markup
from starlette.datastructures import URL, MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.settings import PROJECT_ROOT

log = logging.getLogger(__name__)

LANGUAGES = ("en", "ja")
"""The first is the fallback when nothing the browser asks for is available."""
LANGUAGE_NAMES = {"en": "English", "ja": "日本語"}
DEFAULT_LANGUAGE = LANGUAGES[0]
LANGUAGE_COOKIE = "lab_lang"
LANGUAGE_PARAM = "lang"
COOKIE_MAX_AGE = 365 * 24 * 3600
LOCALE_DIR = PROJECT_ROOT / "locale"
DOMAIN = "messages"

_language: ContextVar[str] = ContextVar("language", default=DEFAULT_LANGUAGE)


def catalog_paths(language: str) -> tuple[Any, Any]:
    """(the .po kept in the repository, the .mo compiled from it)."""
    folder = LOCALE_DIR / language / "LC_MESSAGES"
    return folder / f"{DOMAIN}.po", folder / f"{DOMAIN}.mo"


@lru_cache(maxsize=len(LANGUAGES))
def translations(language: str) -> stdlib_gettext.NullTranslations:
    """The compiled catalog; compiled in memory from the .po when the .mo is missing or older
    (a checkout where `make` has not run yet), so a page never shows msgids by accident."""
    po, mo = catalog_paths(language)
    if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as compiled:
            return Translations(compiled, domain=DOMAIN)
    if not po.exists():
        log.warning("no catalog for %r under %s", language, LOCALE_DIR)
        return stdlib_gettext.NullTranslations()
    log.info("%s is missing or stale: compiling %s in memory (make i18n-compile)", mo, po)
    with po.open("rb") as source:
        catalog = read_po(source, locale=language, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


def current_language() -> str:
    return _language.get()


def set_language(language: str) -> None:
    """Make `language` the current one for the rest of this request (or CLI run)."""
    _language.set(language if language in LANGUAGES else DEFAULT_LANGUAGE)


@contextlib.contextmanager
def use_language(language: str) -> Iterator[None]:
    token = _language.set(language if language in LANGUAGES else DEFAULT_LANGUAGE)
    try:
        yield
    finally:
        _language.reset(token)


def gettext(message: str) -> str:
    return translations(current_language()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(current_language()).ngettext(singular, plural, n)


_ = gettext


def N_(message: str) -> str:  # noqa: N802 - gettext's conventional name for "mark only"
    """Marks a string for extraction where it is defined (a class attribute, a module constant);
    whoever shows it translates it then, in the language of that moment."""
    return message


def negotiate(accept_language: str | None) -> str | None:
    """The best of our languages for an `Accept-Language` header, honouring its q-values."""
    if not accept_language:
        return None
    weighted = []
    for position, part in enumerate(accept_language.split(",")):
        tag, _sep, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        if tag and quality > 0:
            weighted.append((-quality, position, tag.strip()))
    for _quality, _position, tag in sorted(weighted):
        language = _language_of(tag)
        if language:
            return language
    return None


def _language_of(tag: str) -> str | None:
    if tag == "*":
        return DEFAULT_LANGUAGE
    try:
        language = Locale.parse(tag.replace("-", "_")).language
    except (ValueError, UnknownLocaleError):
        return None
    return language if language in LANGUAGES else None


def choose_language(*, param: str | None, cookie: str | None, accept: str | None) -> str:
    for candidate in (param, cookie):
        if candidate in LANGUAGES:
            return str(candidate)
    return negotiate(accept) or DEFAULT_LANGUAGE


def language_from_environment() -> str:
    """The CLI's language: the first of LC_ALL, LC_MESSAGES, LANG that names one of ours."""
    for variable in ("LC_ALL", "LC_MESSAGES", "LANG"):
        language = _language_of(os.environ.get(variable, "").split(".")[0] or "-")
        if language and os.environ.get(variable) not in ("C", "POSIX"):
            return language
    return DEFAULT_LANGUAGE


class LanguageMiddleware:
    """Sets the request's language before anything else runs; remembers `?lang=` in a cookie.

    Pure ASGI and never reset on the way out: the app's last-resort error handler runs outside
    every middleware, and its page must still speak the request's language.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        param = request.query_params.get(LANGUAGE_PARAM)
        language = choose_language(
            param=param,
            cookie=request.cookies.get(LANGUAGE_COOKIE),
            accept=request.headers.get("accept-language"),
        )
        set_language(language)
        remember = param in LANGUAGES and request.cookies.get(LANGUAGE_COOKIE) != param

        async def send_with_language(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Language", language)
                headers.add_vary_header("Accept-Language")
                if remember:
                    headers.append("Set-Cookie", _language_cookie(language))
            await send(message)

        await self.app(scope, receive, send_with_language)


def _language_cookie(language: str) -> str:
    return f"{LANGUAGE_COOKIE}={language}; Max-Age={COOKIE_MAX_AGE}; Path=/; SameSite=Lax"


def switch_language_url(request: Request, language: str) -> str:
    """This page in another language: same path and query, `lang` replaced."""
    url = URL(str(request.url)).include_query_params(**{LANGUAGE_PARAM: language})
    return f"{url.path}?{url.query}"


def format_datetime(value: datetime | None) -> str:
    """`2026年11月30日 05:00 UTC` in Japanese, `2026-11-30 05:00 UTC` in English: times are UTC
    in both (a naive datetime is taken as UTC, as the RDB stores it), and the zone is said in
    both, or a reader in Japan takes 05:00 for their own 05:00."""
    if value is None:
        return ""
    moment = value.astimezone(UTC) if value.tzinfo else value
    if current_language() == "ja":
        return f"{moment.year}年{moment.month}月{moment.day}日 {moment:%H:%M} UTC"
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def time_tag(value: datetime | None) -> Markup:
    """`<time datetime="...Z">` with the language's text: machines read the instant, people the
    text."""
    if value is None:
        return Markup("")
    moment = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    machine = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    return Markup('<time datetime="{}">{}</time>').format(machine, format_datetime(moment))


def install_template_i18n(env: jinja2.Environment) -> None:
    """`_()`, `ngettext()` and `{% trans %}` in every template, with autoescaping kept: the
    translated text is trusted, the values put into it are escaped."""
    env.add_extension("jinja2.ext.i18n")
    env.policies["ext.i18n.trimmed"] = True
    env.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals["current_language"] = current_language
    env.globals["languages"] = LANGUAGE_NAMES
    env.globals["switch_language_url"] = switch_language_url
    env.filters["translated"] = gettext  # text from code (an msgid marked elsewhere), escaped
    env.filters["datetime"] = format_datetime
    env.filters["time_tag"] = time_tag


CLI_FRAMEWORK_TEXT = (
    N_("Usage:"),
    N_("Show this message and exit."),
    N_("Arguments"),
    N_("Options"),
    N_("Commands"),
    N_("Error"),
    N_("Aborted."),
    N_("[default: {}]"),
    N_("[env var: {}]"),
    N_("[required]"),
    N_("Try [blue]'{command_path} {help_option}'[/] for help."),
)
"""What click and typer write around our help: click looks each up through Python's gettext
when it writes it, typer once, when it is imported (so `localize_cli` sets typer's copies)."""
_TYPER_TEXT = {
    "ARGUMENTS_PANEL_TITLE": "Arguments",
    "OPTIONS_PANEL_TITLE": "Options",
    "COMMANDS_PANEL_TITLE": "Commands",
    "ERRORS_PANEL_TITLE": "Error",
    "ABORTED_TEXT": "Aborted.",
    "DEFAULT_STRING": "[default: {}]",
    "ENVVAR_STRING": "[env var: {}]",
    "REQUIRED_LONG_STRING": "[required]",
    "RICH_HELP": "Try [blue]'{command_path} {help_option}'[/] for help.",
}
CLI_WIDTH = 80
"""The CLI's help is laid out for this many columns at most (a wider terminal reads it as well)."""


def localize_cli(language: str) -> None:
    """The words click and typer put around our help (Usage, Options, Commands, "Show this
    message and exit.") in `language`: before the CLI is built, since click looks its words up
    through Python's gettext as it builds a command, and typer once, when it is imported (so
    its copies are set here). Then `translate_command_help` translates ours."""
    os.environ["LANGUAGE"] = language  # Python's gettext, which click uses, reads it first
    stdlib_gettext.bindtextdomain(DOMAIN, str(LOCALE_DIR))
    stdlib_gettext.textdomain(DOMAIN)
    from typer import rich_utils

    for name, text in _TYPER_TEXT.items():
        setattr(rich_utils, name, gettext(text))


def cli_width() -> int:
    return min(CLI_WIDTH, _terminal_width())


def _terminal_width() -> int:
    from rich.console import Console

    return Console().width


def translate_command_help(command: click.Command, *, width: int = CLI_WIDTH) -> None:
    """The CLI's help in the current language: a command's help (its docstring), its short
    help and each option's help are msgids, extracted from manage.py by
    `shared.catalogs.extract_cli_help`. Japanese is broken into lines between phrases here,
    before rich lays it out: rich breaks lines at spaces only, and a Japanese sentence has
    spaces only around Latin words, so it would break there ("2 / 回目") or cut a word."""
    if command.help:
        command.help = wrap_japanese(reflowed(gettext(inspect.cleandoc(command.help))), width - 4)
    if command.short_help:
        command.short_help = gettext(command.short_help)
    for param in command.params:
        text = getattr(param, "help", None)
        if text:
            # The option's help shares the line with its names, type and range: at 80 columns
            # its cell can be a little narrower than a fifth of the line.
            param.help = _kept_lines(wrap_japanese(reflowed(gettext(text)), _option_width(width)))
    # click made (and keeps) the --help option while typer built the command.
    help_option = command.get_help_option(click.Context(command))
    if help_option is not None and help_option.help:
        help_option.help = _kept_lines(
            wrap_japanese(gettext(help_option.help), _option_width(width))
        )
    for sub in getattr(command, "commands", {}).values():
        translate_command_help(sub, width=width)


_CLOSE_UP = frozenset("、。，．：（）「」『』")
_NO_LINE_START = frozenset("、。，．：）」』ー・ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ")
"""Characters a Japanese line does not start with (the rules of kinsoku shori)."""


def reflowed(text: str) -> str:
    """Each paragraph on one line: the line breaks that keep a docstring (or its translation)
    under 100 columns are not the terminal's, whose own wrapping would then break the line
    again a few words later. A space where Latin text meets the break, none between two
    Japanese characters."""
    paragraphs = []
    for paragraph in text.split("\n\n"):
        lines = [line.strip() for line in paragraph.split("\n")]
        joined = lines[0]
        for line in lines[1:]:
            before, after = joined[-1:], line[:1]
            spaced = (before.isascii() or after.isascii()) and not {before, after} & _CLOSE_UP
            joined += (" " if spaced else "") + line
        paragraphs.append(joined)
    return "\n\n".join(paragraphs)


def _option_width(width: int) -> int:
    return max(14, width // 5 - 2)


def _kept_lines(text: str) -> str:
    """Click's mark for "do not rewrap this paragraph" (a leading \\b line), on text broken into
    lines here: rich would join the lines again with spaces, which Japanese does not have."""
    return f"\b\n{text}" if "\n" in text else text


def wrap_japanese(text: str, width: int) -> str:
    """Japanese text in lines of at most `width` terminal cells, broken between the phrases
    BudouX finds (so never inside a word, and never before a closing 。 or ）); other
    languages, and lines that fit, are left as they are."""
    if current_language() != "ja":
        return text
    from rich.cells import cell_len

    lines: list[str] = []
    for line in text.split("\n"):
        if cell_len(line) <= width:
            lines.append(line)
            continue
        indent = line[: len(line) - len(line.lstrip())]
        current = indent
        for phrase in _fitting(_japanese_phrases(line.strip()), width):
            if cell_len(current + phrase) > width and current.strip():
                lines.append(current.rstrip())
                current = indent + phrase.lstrip()
            else:
                current += phrase
        lines.append(current.rstrip())
    return "\n".join(lines)


def _fitting(phrases: list[str], width: int) -> Iterator[str]:
    """The phrases, one longer than a line cut into pieces that fit (a piece never starts with
    closing punctuation), so that rich need not cut it short with an ellipsis."""
    from rich.cells import cell_len

    for phrase in phrases:
        piece = ""
        for char in phrase:
            if cell_len(piece + char) > width and piece:
                # A character that cannot start a line takes the one before it along.
                keep = piece[:-1] if char in _NO_LINE_START and len(piece) > 1 else piece
                yield keep
                piece = piece[len(keep) :]
            piece += char
        yield piece


@lru_cache(maxsize=1)
def _budoux_parser():  # type: ignore[no-untyped-def]
    import budoux

    return budoux.load_default_japanese_parser()


def _japanese_phrases(text: str) -> list[str]:
    return list(_budoux_parser().parse(text))
