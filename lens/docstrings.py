"""Docstrings shown as HTML on /design: the models' design notes, read as Markdown.

The docstrings are written for `help()` and editors first: a section is a heading line with its
text indented under it ("Keys" then four spaces in), which Markdown would read as a code block.
So the indentation is turned into what it means (a bold heading, then its text) before
markdown-it-py renders it. Raw HTML is off: a docstring's `<user_id>` is text, not a tag, and
only the link schemes markdown-it-py allows by default come through.
"""

from __future__ import annotations

import re
import textwrap

from markdown_it import MarkdownIt
from markupsafe import Markup

_markdown = MarkdownIt("commonmark", {"html": False})
_LIST_ITEM = re.compile(r"\s*([-*・]|\d+[.)]) ")


def docstring_html(text: str) -> Markup:
    """A docstring rendered as safe HTML (its sections as headings, lists as lists)."""
    return Markup(_markdown.render(docstring_markdown(text)))  # noqa: S704 - html is off


def markdown_inline(text: str) -> Markup:
    """One line of prose (an access pattern's notes) with its `code` spans and emphasis."""
    return Markup(_markdown.renderInline(text))  # noqa: S704 - html is off


def docstring_markdown(text: str) -> str:
    """A docstring's indented sections as Markdown: `**heading**` then its dedented text."""
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        end = _section_end(lines, i)
        if end == i + 1:
            out.append(line)
            i += 1
            continue
        body = textwrap.dedent("\n".join(lines[i + 1 : end]))
        out += [f"**{line.strip()}**", "", docstring_markdown(body), ""]
        i = end
    return "\n".join(_lists_closed(out)).strip("\n")


def _lists_closed(lines: list[str]) -> list[str]:
    """A blank line before a line back at a list's own indentation: in a docstring it ends the
    list, where Markdown would read it as the last item's continuation."""
    out: list[str] = []
    list_at: int | None = None
    for line in lines:
        if _LIST_ITEM.match(line):
            list_at = _indent(line)
        elif list_at is not None and line.strip() and _indent(line) <= list_at:
            if out and out[-1].strip():
                out.append("")
            list_at = None
        out.append(line)
    return out


def _section_end(lines: list[str], i: int) -> int:
    """Where the section headed by line i ends (i + 1 when line i heads no section): a heading
    is a line of its own, not a list item, with the lines after it indented further."""
    line = lines[i]
    starts_block = i == 0 or not lines[i - 1].strip()
    if not line.strip() or not starts_block or _LIST_ITEM.match(line):
        return i + 1
    depth = _indent(line)
    end = i + 1
    while end < len(lines) and (not lines[end].strip() or _indent(lines[end]) > depth):
        end += 1
    while end > i + 1 and not lines[end - 1].strip():
        end -= 1
    return end if any(lines[j].strip() for j in range(i + 1, end)) else i + 1


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())
