"""Domain exceptions, raised by services and mapped to HTTP once (in shared.web)."""

from __future__ import annotations


class DomainError(Exception):
    status_code = 400
    title = "Bad request"

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
    title = "Please check your input"


class NotAuthenticated(DomainError):
    status_code = 401
    title = "Please sign in"


class Forbidden(DomainError):
    status_code = 403
    title = "Not allowed"


class NotFound(DomainError):
    status_code = 404
    title = "Not found"


class Conflict(DomainError):
    status_code = 409
    title = "Conflict"


class BadCursor(DomainError):
    status_code = 400
    title = "Bad cursor"


class ServiceUnavailable(DomainError):
    status_code = 503
    title = "A backing store is unavailable"


class DynamoDBUnavailable(ServiceUnavailable):
    title = "DynamoDB is unavailable"


class TooManyAttempts(DomainError):
    """A rate limit refused the request; `retry_after` seconds until the window ends."""

    status_code = 429
    title = "Too many attempts"

    def __init__(self, detail: str, *, retry_after: int, field: str | None = None) -> None:
        super().__init__(detail, field=field)
        self.retry_after = retry_after

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}
