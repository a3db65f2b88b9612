"""DynamoDB outages: which errors mean "DynamoDB could not answer", and what a page does then.

Posts and users live in the RDB, so most pages do not need DynamoDB to exist; only their like
counts, comment threads and activity do. A request that meets an outage while drawing such a
part marks itself, and the page shows `NOTICE` instead of that part rather than failing whole.
What cannot be served at all without DynamoDB (the activity lists, liking, anything that must
know who is signed in) answers a styled 503 that names the store.

An outage is an unreachable or timed-out endpoint, throttling that outlasted the SDK's retries,
or a server-side failure. A refusal (a failed condition, a validation error, a missing table) is
not an outage: it is a bug or a conflict and keeps its own status.
"""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import Request
from markupsafe import Markup

from shared.dynamo import UnprocessedReads, UnprocessedWrites, is_unavailable
from shared.i18n import N_
from shared.i18n import gettext as _

NOTICE = N_("DynamoDB is unavailable: like counts and activity are not shown")


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """The error and those it was raised from (`raise ... from`: a context may wrap DynamoDB's
    error in its own). Not `__context__`: a bug while handling an outage is still a bug."""
    seen: set[int] = set()
    error: BaseException | None = exc
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        yield error
        error = error.__cause__


def dynamodb_unavailable(exc: BaseException) -> bool:
    """True when DynamoDB could not serve the call (`shared.dynamo.is_unavailable`: no answer,
    throttled, failing on its side) rather than refusing it, also when that error is wrapped."""
    return any(
        isinstance(error, UnprocessedReads | UnprocessedWrites) or is_unavailable(error)
        for error in _causes(exc)
    )


def mark_unavailable(request: Request) -> None:
    """This request met an outage; its page shows the notice."""
    request.state.dynamodb_unavailable = True


def marked_unavailable(request: Request) -> bool:
    return bool(getattr(request.state, "dynamodb_unavailable", False))


def page_notice_needed(request: Request) -> bool:
    """The request met an outage and no part of its page says so yet."""
    return marked_unavailable(request) and not getattr(request.state, "dynamodb_notice_shown", 0)


def notice(request: Request, *, message: str = NOTICE) -> Markup:
    """What a page shows in place of a part that lives in DynamoDB (the page then needs no
    notice of its own at the top); `message`, marked with `N_`, says which part."""
    mark_unavailable(request)
    request.state.dynamodb_notice_shown = True
    return Markup(
        '<p class="dynamodb-notice" role="status" data-testid="dynamodb-notice">{}</p>'
    ).format(_(message))
