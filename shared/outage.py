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

from botocore.exceptions import BotoCoreError, ClientError
from fastapi import Request
from markupsafe import Markup
from pynamodb.exceptions import PynamoDBConnectionError, PynamoDBException

NOTICE = "DynamoDB is unavailable: like counts and activity are not shown"
UNAVAILABLE_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "InternalFailure",
        "ServiceUnavailable",
    }
)


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """The error and what it wraps (PynamoDB keeps botocore's error in `cause`)."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [exc]
    while pending:
        error = pending.pop()
        if error is None or id(error) in seen:
            continue
        seen.add(id(error))
        yield error
        cause = error.cause if isinstance(error, PynamoDBException) else None
        pending += [cause, error.__cause__, error.__context__]


def _client_error_is_outage(error: ClientError) -> bool:
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    return error.response.get("Error", {}).get("Code") in UNAVAILABLE_CODES or status >= 500


def dynamodb_unavailable(exc: BaseException) -> bool:
    """True when DynamoDB could not serve the call, as opposed to refusing it."""
    for error in _causes(exc):
        if isinstance(error, PynamoDBConnectionError | BotoCoreError):
            return True
        if isinstance(error, ClientError) and _client_error_is_outage(error):
            return True
    return False


def mark_unavailable(request: Request) -> None:
    """This request met an outage; its page shows the notice."""
    request.state.dynamodb_unavailable = True


def marked_unavailable(request: Request) -> bool:
    return bool(getattr(request.state, "dynamodb_unavailable", False))


def page_notice_needed(request: Request) -> bool:
    """The request met an outage and no part of its page says so yet."""
    return marked_unavailable(request) and not getattr(request.state, "dynamodb_notice_shown", 0)


def notice(request: Request) -> Markup:
    """What a page shows in place of a part that lives in DynamoDB (the page then needs no
    notice of its own at the top)."""
    mark_unavailable(request)
    request.state.dynamodb_notice_shown = True
    return Markup(
        '<p class="dynamodb-notice" role="status" data-testid="dynamodb-notice">{}</p>'
    ).format(NOTICE)
