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
import re
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
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, JustifyMethod, OverflowMethod
from rich.containers import Lines
from rich.measure import Measurement
from rich.text import Text
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
    N_("Aborted!"),
    N_("[default: {}]"),
    N_("[env var: {}]"),
    N_("[required]"),
    N_("Try [blue]'{command_path} {help_option}'[/] for help."),
    # typer's own, looked up through Python's gettext as it runs (typer/core.py)
    N_("Missing command."),
    N_("No such command {name!r}."),
    N_("default: {default}"),
    N_("required"),
    N_("env var: {var}"),
    N_("(dynamic)"),
    N_("(deprecated) "),
)
"""What click and typer write around our help. typer looks most of them up through Python's
gettext: the panel titles once, when it is imported (so `localize_cli` sets typer's copies), the
rest as it runs. Its copy of click hard-codes "Usage:" and its error messages in English:
`translate_command_help` gives every command a context that writes "Usage:" from the catalog,
and `cli_error_message` says click's errors in the current language."""
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
    "DEPRECATED_STRING": "(deprecated) ",
}
CLI_WIDTH = 80
"""The CLI's help is laid out for this many columns at most (a wider terminal reads it as well)."""
TYPE_WORDS = {
    "int": N_("INTEGER"),
    "float": N_("NUMBER"),
    "str": N_("TEXT"),
    "Path": N_("PATH"),
}
"""What an option's value is, in words, where typer would show the Python type (`<int>`)."""
CLI_ERRORS = {
    "missing_option": N_("Missing option {name}."),
    "missing_argument": N_("Missing argument {name}."),
    "missing_parameter": N_("Missing parameter {name}."),
    "invalid_value": N_("Invalid value for {name}: {problem}"),
    "invalid": N_("Invalid value: {problem}"),
    "no_such_option": N_("No such option: {name}"),
    "possible_options": N_("{problem} (Possible options: {names})"),
    "extra_arguments": N_("Got unexpected extra arguments: {arguments}"),
}
"""click's error messages (hard-coded in typer's copy of click), said again from the catalog."""


def localize_cli(language: str) -> None:
    """The words click and typer put around our help (Usage, Options, Commands, "Show this
    message and exit.") in `language`: before the CLI is built, since typer looks some of its
    words up through Python's gettext as it runs, and others once, when it is imported (so its
    copies are set here). Then `translate_command_help` translates ours.

    In Japanese, typer's help text and click's errors are rich Text that rich wraps between
    BudouX phrases (`PhraseText`): rich itself breaks lines at spaces only, which a Japanese
    sentence has only around Latin words, so it would cut a word or leave one cell narrow."""
    os.environ["LANGUAGE"] = language  # Python's gettext, which typer uses, reads it first
    stdlib_gettext.bindtextdomain(DOMAIN, str(LOCALE_DIR))
    stdlib_gettext.textdomain(DOMAIN)
    from typer import rich_utils

    for name, text in _TYPER_TEXT.items():
        setattr(rich_utils, name, gettext(text))
    originals = _TYPER_ORIGINALS.setdefault(
        "typer", (rich_utils._make_rich_text, rich_utils.rich_format_error)
    )
    make_rich_text, format_error = originals
    rich_utils._make_rich_text = make_rich_text
    rich_utils.rich_format_error = format_error
    if language == DEFAULT_LANGUAGE:
        return

    def localized_error(error: Any) -> None:  # typer's rich_format_error, in the catalog's words
        usage_error = next((c for c in type(error).__mro__ if c.__name__ == "UsageError"), None)
        if usage_error is not None and type(error).__name__ != "NoArgsIsHelpError":
            error = usage_error(cli_error_message(error), ctx=getattr(error, "ctx", None))
        format_error(error)

    rich_utils.rich_format_error = localized_error  # type: ignore[assignment]
    if language == "ja":

        def phrase_text(**options: Any) -> Any:
            made = make_rich_text(**options)
            return PhraseText.of(made) if isinstance(made, Text) else made

        rich_utils._make_rich_text = phrase_text


_TYPER_ORIGINALS: dict[str, tuple[Any, ...]] = {}


def cli_width() -> int:
    return min(CLI_WIDTH, _terminal_width())


def _terminal_width() -> int:
    return Console().width


def translate_command_help(command: click.Command, *, width: int = CLI_WIDTH) -> None:
    """The CLI's help in the current language: a command's help (its docstring), its short
    help and each option's help are msgids, extracted from manage.py by
    `shared.catalogs.extract_cli_help`. Each paragraph is put on one line (`reflowed`), so
    rich wraps it at the terminal's width, between BudouX phrases in Japanese (see
    `localize_cli`). An option's value is named in words (`TYPE_WORDS`) and a flag's not at all
    (typer would show `<int>`, `<bool>`); "Usage:" is written from the catalog."""
    del width  # rich lays the help out at the terminal's width
    command.context_class = _localized_context(command.context_class)  # type: ignore[arg-type]
    if command.help:
        command.help = reflowed(gettext(inspect.cleandoc(command.help)))
    if command.short_help:
        command.short_help = gettext(command.short_help)
    for param in command.params:
        text = getattr(param, "help", None)
        if text:
            param.help = reflowed(gettext(text))
        _name_the_value(param)
    # click made (and keeps) the --help option while typer built the command.
    help_option = command.get_help_option(command.context_class(command))
    if help_option is not None:
        if help_option.help:
            help_option.help = gettext(help_option.help)
        _name_the_value(help_option)
    for sub in getattr(command, "commands", {}).values():
        translate_command_help(sub)


def _name_the_value(param: Any) -> None:
    """An option's metavar in plain words: none for a flag, the choices for a choice, else
    what the value is (`INTEGER`, `整数`). An argument's metavar is its name: typer shows its
    type beside it, which is said in words here too."""
    if getattr(param, "param_type_name", "") == "argument":
        kind = getattr(getattr(param, "type_descriptor", None), "annotation", None)
        words = TYPE_WORDS.get(getattr(kind, "__name__", ""))
        if words and hasattr(param, "display_type_rich"):
            param.display_type_rich = lambda ctx: gettext(words)
        return
    if getattr(param, "param_type_name", "") != "option":
        return
    if getattr(param, "is_flag", False) or getattr(param, "count", False):
        param.metavar = ""
        return
    if param.metavar is not None:
        param.metavar = gettext(param.metavar)
        return
    descriptor = getattr(param, "type_descriptor", None)
    if descriptor is None:
        return
    if descriptor.is_choice:
        choices = [str(getattr(c, "value", c)) for c in descriptor.choices or ()]
        param.metavar = "|".join(choices) or None  # values a reader types, as they are
        return
    kind = descriptor.ranged_type_name if descriptor.is_ranged else None
    if kind is None:
        annotation = descriptor.annotation
        if getattr(descriptor, "is_list", False):
            annotation = (getattr(annotation, "__args__", None) or (str,))[0]
        kind = getattr(annotation, "__name__", "")
    if kind in TYPE_WORDS:
        param.metavar = gettext(TYPE_WORDS[kind])


@lru_cache(maxsize=4)
def _localized_context(context_class: type[Any]) -> type[Any]:
    """A command's context class whose help formatter writes "Usage:" from the catalog (typer's
    copy of click writes it in English)."""
    if getattr(context_class, "localized", False):
        return context_class

    class Formatter(context_class.formatter_class):  # type: ignore[name-defined,misc]
        def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
            super().write_usage(prog, args, f"{gettext('Usage:')} " if prefix is None else prefix)

    return type(
        "LocalizedContext", (context_class,), {"formatter_class": Formatter, "localized": True}
    )


def cli_error_message(error: Any) -> str:
    """A click usage error's message in the current language (typer's copy of click builds it
    in English, from parts it keeps on the exception)."""
    kind = type(error).__name__
    name = _error_hint(error)
    if kind == "MissingParameter":
        what = error.param_type or getattr(error.param, "param_type_name", None) or "parameter"
        key = f"missing_{what}" if f"missing_{what}" in CLI_ERRORS else "missing_parameter"
        return gettext(CLI_ERRORS[key]).format(name=name or "")
    if kind == "BadParameter":
        problem = _pydantic_problem(error.__cause__) or error.message
        if name is None:
            return gettext(CLI_ERRORS["invalid"]).format(problem=problem)
        return gettext(CLI_ERRORS["invalid_value"]).format(name=name, problem=problem)
    if kind == "NoSuchOption":
        message = gettext(CLI_ERRORS["no_such_option"]).format(name=error.option_name)
        if not error.possibilities:
            return message
        names = ", ".join(sorted(error.possibilities))
        return gettext(CLI_ERRORS["possible_options"]).format(problem=message, names=names)
    message = str(error.format_message())
    extra = "Got unexpected extra argument(s) ("
    if message.startswith(extra) and message.endswith(")"):
        arguments = message.removeprefix(extra).removesuffix(")")
        return gettext(CLI_ERRORS["extra_arguments"]).format(arguments=arguments)
    return gettext(message)


def _error_hint(error: Any) -> str | None:
    hint = getattr(error, "param_hint", None)
    if hint is None and getattr(error, "param", None) is not None:
        hint = error.param.get_error_hint()
    if hint is not None and not isinstance(hint, str):
        hint = " / ".join(repr(x) for x in hint)
    return hint


def _pydantic_problem(cause: BaseException | None) -> str | None:
    """What pydantic found wrong with a value, from the catalog for the common kinds (pydantic
    says it in English only)."""
    errors = getattr(cause, "errors", None)
    if not callable(errors) or current_language() == DEFAULT_LANGUAGE:
        return None
    from shared.web import VALIDATION_MESSAGES

    found = errors()
    kind = VALIDATION_MESSAGES.get(found[0].get("type", "")) if found else None
    return gettext(kind) if kind else None


_CLOSE_UP = frozenset("、。，．：（）「」『』")
_NO_LINE_START = frozenset("、。，．：）」』ー・ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ")
"""Characters a Japanese line does not start with (the rules of kinsoku shori)."""
_NO_LINE_END = frozenset("（「『")
"""Characters a Japanese line does not end with."""


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


class PhraseText(Text):
    """Japanese text that rich wraps between the phrases BudouX finds (so never inside a word,
    and never before a closing 。 or ）), and at spaces around Latin words; a phrase longer than
    the line is cut into pieces that fit (`_fitting`), so that rich need not cut it short with
    an ellipsis. rich measures its narrowest width as its longest phrase, not its longest run
    without spaces (which in Japanese is a whole sentence)."""

    @classmethod
    def of(cls, text: Text) -> PhraseText:
        made = cls(
            text.plain,
            style=text.style,
            justify=text.justify,
            overflow=text.overflow,
            no_wrap=text.no_wrap,
            end=text.end,
            tab_size=text.tab_size,
        )
        made.spans[:] = text.spans
        return made

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        widest = super().__rich_measure__(console, options).maximum
        tokens = [cell_len(t.rstrip()) for line in self.plain.split("\n") for t in _tokens(line)]
        return Measurement(min(max(tokens, default=0), widest), widest)

    def wrap(
        self,
        console: Console,
        width: int,
        *,
        justify: JustifyMethod | None = None,
        overflow: OverflowMethod | None = None,
        tab_size: int = 8,
        no_wrap: bool | None = None,
    ) -> Lines:
        if no_wrap or self.no_wrap or overflow == "ignore":
            return super().wrap(
                console,
                width,
                justify=justify,
                overflow=overflow,
                tab_size=tab_size,
                no_wrap=no_wrap,
            )
        lines = Lines()
        for line in self.split(allow_blank=True):
            pieces = line.divide(_break_offsets(line.plain, width))
            for piece in pieces:
                piece.rstrip_end(width)
                piece.rstrip()
            pieces.justify(
                console,
                width,
                justify=justify or self.justify or "default",
                overflow=overflow or self.overflow or "fold",
            )
            for piece in pieces:
                piece.truncate(width, overflow=overflow or self.overflow or "fold")
            lines.extend(pieces)
        return lines


def _tokens(line: str) -> list[str]:
    """Where a Japanese line may break: BudouX's phrases, split again between Latin words,
    a piece that cannot start a line kept with the one before it."""
    if not line.strip():
        return [line] if line else []
    tokens: list[str] = []
    lead = line[: len(line) - len(line.lstrip())]
    for phrase in _japanese_phrases(line.strip()):
        # A space breaks the phrase only between Latin words: "1 つ" and "ADD と" stay whole.
        for token in re.split(r"(?<=[\x21-\x7e]\s)(?=[\x21-\x7e])", phrase):
            if tokens and token[:1].isspace():  # a space ends a line, never starts one
                space = token[: len(token) - len(token.lstrip())]
                tokens[-1] += space
                token = token[len(space) :]
            if not token:
                continue
            if tokens and (token[0] in _NO_LINE_START or tokens[-1][-1:] in _NO_LINE_END):
                tokens[-1] += token
            else:
                tokens.append(token)
    if tokens:
        tokens[0] = lead + tokens[0]
    return tokens


def _break_offsets(line: str, width: int) -> list[int]:
    """Offsets to break `line` at so each piece fits `width` cells (rich's `divide_line`, with
    phrases for words)."""
    offsets: list[int] = []
    used = start = 0
    for token in _tokens(line):
        if used + cell_len(token.rstrip()) <= width:
            used += cell_len(token)
        elif cell_len(token.rstrip()) > width:
            for piece in _fitting([token], width):
                if start and used:
                    offsets.append(start)
                start += len(piece)
                used = cell_len(piece)
            continue
        elif used and start:
            offsets.append(start)
            used = cell_len(token)
        start += len(token)
    return offsets


def _fitting(phrases: list[str], width: int) -> Iterator[str]:
    """The phrases, one longer than a line cut into pieces that fit (a piece never starts with
    closing punctuation), so that rich need not cut it short with an ellipsis: at its spaces
    first (a narrow table cell breaks "スキャン + フィルター" there), then between characters."""
    for phrase in (part for whole in phrases for part in _at_spaces(whole, width)):
        piece = ""
        for char in phrase:
            if cell_len((piece + char).rstrip()) > width and piece:
                # Characters that cannot start a line take the one before them along.
                keep = piece
                while len(keep) > 1 and (piece + char)[len(keep)] in _NO_LINE_START:
                    keep = keep[:-1]
                yield keep
                piece = piece[len(keep) :]
            piece += char
        yield piece


def _at_spaces(phrase: str, width: int) -> Iterator[str]:
    """`phrase` in pieces broken at its spaces, as many words to a piece as fit in `width`."""
    piece = ""
    for word in re.split(r"(?<=\s)(?=\S)", phrase):
        if piece and cell_len((piece + word).rstrip()) > width:
            yield piece
            piece = ""
        piece += word
    if piece:
        yield piece


@lru_cache(maxsize=1)
def _budoux_parser():  # type: ignore[no-untyped-def]
    import budoux

    return budoux.load_default_japanese_parser()


def _japanese_phrases(text: str) -> list[str]:
    return list(_budoux_parser().parse(text))
