"""Keeping the catalogs whole: what `make i18n` runs after `pybabel update`, and what the tests ask.

English is the source language, so the English catalog's translations are the msgids themselves;
`fill-source` writes them, so both catalogs are complete files that a reviewer can read. `gaps`
lists every string in the code or the templates that a catalog lacks, has untranslated or has
fuzzy (pybabel's guess after a msgid changed, which a person must check): `make i18n` ends by
printing them, and a test fails while there is one.

    python -m shared.catalogs fill-source   # the English catalog: msgstr = msgid
    python -m shared.catalogs gaps          # exit 1 while a catalog has a gap
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir, extract_python
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

from shared.i18n import DEFAULT_LANGUAGE, DOMAIN, LANGUAGES, catalog_paths
from shared.settings import PROJECT_ROOT

MAPPING = PROJECT_ROOT / "babel.cfg"


@dataclass(frozen=True)
class Gap:
    language: str
    msgid: str
    problem: str  # "missing", "untranslated" or "fuzzy"
    where: str

    def __str__(self) -> str:
        return f"{self.language}: {self.problem} {self.msgid!r} ({self.where})"


def source_messages() -> dict[str, str]:
    """Every msgid marked in the code and templates, with the first place it appears."""
    with MAPPING.open() as config:
        method_map, options_map = parse_mapping_cfg(config, filename=str(MAPPING))
    found: dict[str, str] = {}
    for path, line, message, _comments, _context in extract_from_dir(
        str(PROJECT_ROOT), method_map, options_map, keywords=DEFAULT_KEYWORDS
    ):
        for msgid in message if isinstance(message, tuple) else (message,):
            if msgid:
                found.setdefault(msgid, f"{path}:{line}")
    return found


def extract_cli_help(
    fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: dict[str, Any]
) -> Iterator[Any]:
    """A Babel extractor for the typer CLI (see babel.cfg): its `_()` strings, plus what its help
    shows: the module docstring, the docstring of every `@....command` function and every
    `help="..."` and `short_help="..."`. `shared.i18n.translate_command_help` looks them up
    when the CLI starts."""
    source = fileobj.read()
    fileobj.seek(0)
    yield from extract_python(fileobj, keywords, comment_tags, options)  # type: ignore[arg-type]
    tree = ast.parse(source)
    if module_doc := ast.get_docstring(tree):
        yield 1, None, module_doc, []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and any(map(_is_command, node.decorator_list)):
            if doc := ast.get_docstring(node):
                yield node.lineno, None, doc, []
        elif isinstance(node, ast.keyword) and node.arg in ("help", "short_help"):
            text = getattr(node.value, "value", None)
            if isinstance(text, str) and text:
                yield node.value.lineno, None, text, []


def _is_command(decorator: ast.expr) -> bool:
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    return isinstance(target, ast.Attribute) and target.attr in ("command", "callback")


def load(language: str) -> Catalog:
    po, _mo = catalog_paths(language)
    with po.open("rb") as source:
        return read_po(source, locale=language, domain=DOMAIN)


def gaps(languages: tuple[str, ...] = LANGUAGES) -> list[Gap]:
    sources = source_messages()
    return [gap for language in languages for gap in _gaps_of(load(language), sources)]


def _gaps_of(catalog: Catalog, sources: dict[str, str]) -> Iterator[Gap]:
    language = str(catalog.locale)
    plurals = {m.id[1]: m for m in catalog if isinstance(m.id, tuple)}
    for msgid, where in sources.items():
        message = catalog.get(msgid) or plurals.get(msgid)
        if message is None:
            yield Gap(language, msgid, "missing", where)
        elif message.fuzzy:
            yield Gap(language, msgid, "fuzzy", where)
        elif not all(message.string) if isinstance(message.string, tuple) else not message.string:
            yield Gap(language, msgid, "untranslated", where)


def fill_source_catalog() -> int:
    """The source language translates every msgid to itself; returns how many it filled."""
    catalog = load(DEFAULT_LANGUAGE)
    filled = 0
    for message in catalog:
        if not message.id:
            continue
        if message.string != message.id or message.fuzzy:
            message.string = message.id
            message.flags.discard("fuzzy")
            filled += 1
    po, _mo = catalog_paths(DEFAULT_LANGUAGE)
    with po.open("wb") as target:
        write_po(target, catalog, width=100, omit_header=False, include_previous=False)
    return filled


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "gaps"
    if command == "fill-source":
        print(f"{DEFAULT_LANGUAGE}: {fill_source_catalog()} entries set to their msgid")
        return 0
    if command == "gaps":
        found = gaps()
        for gap in found:
            print(gap)
        print(f"{len(found)} gap(s) in {', '.join(LANGUAGES)}")
        return 1 if found else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
