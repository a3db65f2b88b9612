"""Text at the edge: what every text field of a request may contain, decided in one place.

Two things are refused everywhere. A lone surrogate (`"\\ud800"` is valid JSON and Python
decodes it into a `str`) cannot be encoded as UTF-8, so SQLite, PostgreSQL and boto3 all fail on
it later, deep inside a request; a control character (NUL, ESC, the C1 range U+0080-U+009F...)
is refused by PostgreSQL (NUL) or rewrites a terminal that shows a log line (ESC). Multi-line
text keeps tab, line feed and carriage return.

`CleanLine` and `CleanText` are the types a request model declares, so a bad value is a 422
naming the field before any store is touched. `check_text` is the same rule for code that is
not a request model: a service refuses the value with a field-bound `InvalidInput`, so an HTML
form is shown again with the field marked instead of being replaced by an error page. Form
values cannot carry a lone surrogate (Starlette decodes them with replacement characters); the
services still check them for control characters.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Annotated

from pydantic import BeforeValidator, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError

from shared.errors import InvalidInput
from shared.i18n import N_
from shared.i18n import gettext as _

LINE_BREAKS = "\t\n\r"


FIELD_NAMES = {
    "username": N_("username"),
    "display_name": N_("display name"),
    "password": N_("password"),
    "title": N_("title"),
    "body": N_("body"),
}
"""How a message to the learner names a form field."""


def _refused_char(text: str, *, multiline: bool) -> tuple[str, int] | None:
    """The category ("Cs" or "Cc") and code point of the first refused character, if any."""
    allowed = LINE_BREAKS if multiline else ""
    for char in text:
        category = unicodedata.category(char)
        if category == "Cs" or (category == "Cc" and char not in allowed):
            return category, ord(char)
    return None


def text_problem(text: str, *, multiline: bool) -> str | None:
    """Why `text` is refused (a phrase that follows "The <field>"), or None when it is fine."""
    refused = _refused_char(text, multiline=multiline)
    if refused is None:
        return None
    category, code = refused
    if category == "Cs":
        return f"is not valid Unicode: it contains a lone surrogate (U+{code:04X})"
    return f"contains a control character (U+{code:04X})"


def check_text(text: str, *, field: str, multiline: bool = False) -> str:
    """`text` unchanged, or an `InvalidInput` bound to `field` saying what is wrong with it, in
    the learner's language."""
    refused = _refused_char(text, multiline=multiline)
    if refused is None:
        return text
    category, code = refused
    name = _(FIELD_NAMES[field]) if field in FIELD_NAMES else field.replace("_", " ")
    if category == "Cs":
        message = _(
            "The {field} is not valid Unicode: it contains a lone surrogate (U+{code:04X})."
        )
    else:
        message = _("The {field} contains a control character (U+{code:04X}).")
    raise InvalidInput(message.format(field=name, code=code), field=field)


def _validator(*, multiline: bool) -> BeforeValidator:
    """Runs before pydantic's own string checks, so a refused character is named first and a
    length limit still gets pydantic's plain "at most n characters"."""

    def validate(value: object) -> object:
        problem = text_problem(value, multiline=multiline) if isinstance(value, str) else None
        if problem is not None:
            message = problem[0].upper() + problem[1:] + "."
            raise PydanticCustomError("text_refused", message)
        return value

    return BeforeValidator(validate)


@dataclass(frozen=True)
class Pattern:
    """Publishes in the JSON schema (/openapi.json) a rule that a validator or the service
    enforces, as a `pattern`, so a client can tell a valid value from the schema alone."""

    pattern: str

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler(core_schema)
        schema["pattern"] = self.pattern
        return schema


_LINE = r"[^\u0000-\u001f\u007f-\u009f]"
_TEXT = r"[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]"
_VISIBLE = r"[^\s\u0000-\u001f\u007f-\u009f]"

ONE_LINE = _validator(multiline=False)
"""Refuses every control character (a 422 naming the field)."""
MANY_LINES = _validator(multiline=True)
"""Refuses every control character but tab, LF and CR."""
LINE_PATTERN = Pattern(f"^{_LINE}*$")
TEXT_PATTERN = Pattern(f"^{_TEXT}*$")
FILLED_LINE_PATTERN = Pattern(f"^{_LINE}*{_VISIBLE}{_LINE}*$")
"""One line with more than white space: the services refuse a blank title."""
FILLED_TEXT_PATTERN = Pattern(f"^{_TEXT}*{_VISIBLE}{_TEXT}*$")
"""Text with more than white space: the services refuse a blank body or comment."""

CleanLine = Annotated[str, ONE_LINE, LINE_PATTERN]
"""One line of text (a title, a name, a password): no control character at all."""
CleanText = Annotated[str, MANY_LINES, TEXT_PATTERN]
"""Text that may span lines (a body, a comment): tab, LF and CR allowed, no other control.

A length limit is added as `Annotated[str, StringConstraints(max_length=n), ONE_LINE,
LINE_PATTERN]`."""
