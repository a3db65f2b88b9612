"""Domain exceptions, raised by services and mapped to HTTP once (in shared.web).

The `detail` is for the learner, so a service translates it when raising (`_()`, in the request's
language); a class's `title` is a msgid, translated when the error page is drawn.
"""

from __future__ import annotations

from shared.i18n import N_


class DomainError(Exception):
    status_code = 400
    title = N_("Bad request")

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field

    @property
    def headers(self) -> dict[str, str]:
        """Response headers the error's status calls for."""
        return {}


class InvalidInput(DomainError):
    status_code = 422
    title = N_("Please check your input")


class NotAuthenticated(DomainError):
    status_code = 401
    title = N_("Please sign in")


class Forbidden(DomainError):
    status_code = 403
    title = N_("Not allowed")


class NotFound(DomainError):
    status_code = 404
    title = N_("Not found")


class Conflict(DomainError):
    status_code = 409
    title = N_("Conflict")


class BadCursor(DomainError):
    status_code = 400
    title = N_("Bad cursor")


RETRY_AFTER_SECONDS = 5
"""What every 503 tells its client to wait (`Retry-After`) before trying again. Nobody knows when
an outage ends; a few seconds spares a store that is coming back from a flood of retries, and
is about as long as a restarting engine or a throttled partition needs."""


class ServiceUnavailable(DomainError):
    status_code = 503
    title = N_("A backing store is unavailable")


class DynamoDBUnavailable(ServiceUnavailable):
    title = N_("DynamoDB is unavailable")


class TooManyAttempts(DomainError):
    """A rate limit refused the request; `retry_after` seconds until the window ends."""

    status_code = 429
    title = N_("Too many attempts")

    def __init__(self, detail: str, *, retry_after: int, field: str | None = None) -> None:
        super().__init__(detail, field=field)
        self.retry_after = retry_after

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}
