"""Session use cases. The only code that touches sessions.models.

Users belong to the blog context; this context owns what signing in takes: the password's
rules, its hash at sign-up and its check at sign-in (the blog hands over a user's stored hash
through `blog.service.stored_password`), the sign-in state and the rate limits.
"""

from __future__ import annotations

import functools
import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from fastapi import Request

from blog import service as blog_service
from sessions.models import AttemptCounter, Session
from shared.access_patterns import access_pattern
from shared.auth import SESSION_COOKIE, Viewer, token_hash
from shared.database import database
from shared.dynamo import conditional_write, utc_now
from shared.errors import Conflict, InvalidInput, NotAuthenticated, TooManyAttempts
from shared.i18n import N_, ngettext
from shared.i18n import gettext as _
from shared.passwords import hash_password, password_matches
from shared.settings import active_settings
from shared.text import check_text

SUBJECT_KEY_MAX = 64


def _idle() -> timedelta:
    return timedelta(minutes=active_settings().session_idle_minutes)


@access_pattern(
    name="Start a session at sign-in",
    model=Session,
    operation="PutItem",
    key="session_id = sha256(token), condition attribute_not_exists(session_id)",
    page="/login",
)
def start_session(*, viewer: Viewer, replacing: str | None = None) -> str:
    """Create a session for the viewer; returns the cookie token (never stored as is).

    A new id at every sign-in (and the old one deleted) defeats session fixation.
    """
    if replacing:
        end_session(token=replacing)
    now = utc_now()
    token = secrets.token_urlsafe(32)
    absolute = now + timedelta(hours=active_settings().session_absolute_hours)
    session = Session(
        token_hash(token),
        user_id=viewer.user_id,
        username=viewer.username,
        display_name=viewer.display_name,
        created_at=now,
        absolute_expiry=absolute,
        expires_at=min(now + _idle(), absolute),
    )
    with conditional_write() as write:
        session.save(condition=Session.session_id.does_not_exist())
    if write.refused:
        # Two tokens of 256 random bits with one hash: never in practice, but never silently.
        raise Conflict(_("Could not start a session; please try again."))
    return token


@access_pattern(
    name="Find the session of a request (and slide its expiry now and then)",
    model=Session,
    operation="GetItem",
    key="session_id = sha256(cookie token)",
    page="/",
    notes="Strongly consistent: the page right after sign-in must find the session just "
    "written. UpdateItem on expires_at only when less than half the idle window is left.",
    consistency="strong",
)
def viewer_for_token(*, token: str) -> Viewer | None:
    """The viewer of a cookie token, or None when absent or expired (even before TTL runs).

    A strongly consistent GetItem: the very next request after sign-in reads the session that
    sign-in has just written, and an eventually consistent read may be answered by a copy that
    has not applied that write yet, showing a signed-out visitor (on AWS as on the lagging
    engine). It costs 1 RCU instead of 0.5 for the small session item, on every request.
    """
    if not token:
        return None
    try:
        session = Session.get(token_hash(token), consistent_read=True)
    except Session.DoesNotExist:
        return None
    now = utc_now()
    if session.expires_at <= now or session.absolute_expiry <= now:
        return None
    if session.expires_at - now < _idle() / 2:
        new_expiry = min(now + _idle(), session.absolute_expiry)
        session.update(actions=[Session.expires_at.set(new_expiry)])
    return Viewer(
        user_id=session.user_id, username=session.username, display_name=session.display_name
    )


@access_pattern(
    name="End a session at sign-out",
    model=Session,
    operation="DeleteItem",
    key="session_id = sha256(cookie token)",
)
def end_session(*, token: str) -> None:
    """Sign-out deletes the item at once; TTL is only for the sessions nobody ends."""
    if not token:
        return
    # DeleteItem on a missing key succeeds: signing out twice is not an error.
    Session(token_hash(token)).delete()


def resolve_viewer(request: Request) -> Viewer | None:
    return viewer_for_token(token=request.cookies.get(SESSION_COOKIE, ""))


def sign_up(
    *,
    username: str,
    password: str,
    display_name: str = "",
    replacing: str | None = None,
    client_address: str,
) -> tuple[Viewer, str]:
    """Create the account and its first session, together or not at all.

    The account's row commits only once its session is stored: when DynamoDB is down or
    throttling, the sign-up fails as a whole (503) and the same sign-up succeeds later, instead
    of leaving an account whose retry would be refused as a taken username. Every attempt
    counts against the client's address first.
    """
    count_attempt(limit=sign_up_per_address(), subject=client_address)
    new_user = blog_service.prepare_user(username=username, display_name=display_name)
    password_hash = hash_password(_check_password(password))
    with database.atomic():
        user = blog_service.add_user(new_user=new_user, password_hash=password_hash)
        viewer = blog_service.viewer_of(user)
        return viewer, start_session(viewer=viewer, replacing=replacing)


def sign_in(
    *, username: str, password: str, replacing: str | None = None, client_address: str
) -> tuple[Viewer, str]:
    """Every attempt counts against the pair of the client's address and the username, and
    against the address, before the password is checked: a guesser learns nothing more once
    refused. A pair that keeps failing is slowed down (`pace_attempt`), never the username
    everywhere: a stranger's wrong guesses cannot refuse the owner's right password from
    another address. A success takes back what it counted, so only failures add up."""
    pair = _pair_subject(username, client_address)
    failures = pace_attempt(subject=pair)
    count_attempt(limit=sign_in_per_address(), subject=client_address)
    try:
        viewer = _viewer_with_password(username=username, password=password)
    except NotAuthenticated:
        delay_next_attempt(subject=pair, failures=failures)
        raise
    forget_attempts(subject=pair, address=client_address)
    return viewer, start_session(viewer=viewer, replacing=replacing)


# -- passwords ---------------------------------------------------------------------------------

PASSWORD_MIN, PASSWORD_MAX = 8, 128


def _check_password(password: str) -> str:
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise InvalidInput(
            _("A password is {min} to {max} characters.").format(
                min=PASSWORD_MIN, max=PASSWORD_MAX
            ),
            field="password",
        )
    return check_text(password, field="password")


@functools.cache
def _unknown_user_hash() -> str:
    """A hash of a password nobody knows, with the hasher's current parameters."""
    return hash_password(secrets.token_urlsafe(32))


def _viewer_with_password(*, username: str, password: str) -> Viewer:
    """The user whose password this is; the same error whether the name or password is wrong.

    An unknown username is checked against a hash too, so both answers take one argon2 check:
    without it an unknown name answers about a hundred times sooner, which tells a guesser
    which usernames exist.
    """
    stored = blog_service.stored_password(username=username)
    stored_hash = stored.password_hash if stored is not None else _unknown_user_hash()
    if not password_matches(stored_hash, password) or stored is None:
        raise NotAuthenticated(_("Wrong username or password."))
    return stored.viewer


# -- rate limits -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RateLimit:
    """At most `attempts` per subject in each fixed window of `window_seconds`."""

    name: str
    attempts: int
    window_seconds: int
    refusal: str


def _window_seconds() -> int:
    return active_settings().attempt_window_minutes * 60


PAIR_LIMIT_NAME = "sign-in-pair"
PAIR_REFUSAL = N_("Too many failed sign-ins for this username from your network.")


def _pair_subject(username: str, client_address: str) -> str:
    return f"{username.strip().lower()}@{client_address}"


def sign_in_per_address() -> RateLimit:
    return RateLimit(
        "sign-in-address",
        active_settings().sign_in_attempts_per_address,
        _window_seconds(),
        N_("Too many failed sign-ins from your network."),
    )


def sign_up_per_address() -> RateLimit:
    return RateLimit(
        "sign-up-address",
        active_settings().sign_up_attempts_per_address,
        _window_seconds(),
        N_("Too many sign-ups from your network."),
    )


def _subject_key(subject: str) -> str:
    if len(subject) <= SUBJECT_KEY_MAX and subject.isprintable():
        return subject
    return "sha256:" + hashlib.sha256(subject.encode("utf-8", "replace")).hexdigest()[:32]


@access_pattern(
    name="Count a sign-in or sign-up attempt, refused past the window's limit",
    model=AttemptCounter,
    operation="UpdateItem",
    key="counter_id = limit#subject#window, ADD attempts 1 if attempts < limit",
    page="/login",
    notes="ConditionalCheckFailed = over the limit: 429 with Retry-After (the window's end).",
)
def count_attempt(*, limit: RateLimit, subject: str) -> int:
    """Count one attempt of `subject` in the current window; returns the count so far.

    Raises TooManyAttempts (429, Retry-After) once the window holds `limit.attempts`.
    """
    now = utc_now().timestamp()
    window = int(now // limit.window_seconds)
    window_end = (window + 1) * limit.window_seconds
    counter = AttemptCounter(f"{limit.name}#{_subject_key(subject)}#{window}")
    with conditional_write() as write:
        counter.update(
            actions=[
                AttemptCounter.attempts.add(1),
                AttemptCounter.expires_at.set(datetime.fromtimestamp(window_end, UTC)),
            ],
            condition=AttemptCounter.attempts.does_not_exist()
            | (AttemptCounter.attempts < limit.attempts),
        )
    if write.refused:
        raise _refused(limit.refusal, max(1, math.ceil(window_end - now)))
    return int(counter.attempts)


def _pair_counter(subject: str, now: float) -> AttemptCounter:
    window = int(now // _window_seconds())
    return AttemptCounter(f"{PAIR_LIMIT_NAME}#{_subject_key(subject)}#{window}")


def _refused(refusal: str, retry_after: int) -> TooManyAttempts:
    """The 429 of a limit: its refusal (a msgid) and when to try again."""
    return TooManyAttempts(
        _("{refusal} Try again in {wait}.").format(refusal=_(refusal), wait=_wait(retry_after)),
        retry_after=retry_after,
    )


@access_pattern(
    name="Pace sign-in attempts of one username from one address (backoff after failures)",
    model=AttemptCounter,
    operation="UpdateItem",
    key="counter_id = sign-in-pair#username@address#window, ADD attempts 1 "
    "if blocked_until is absent or past",
    page="/login",
    notes="ConditionalCheckFailed = too soon after a failure: 429, Retry-After the delay left "
    "(one GetItem reads it). A failure past the free ones sets blocked_until (UpdateItem); "
    "a success deletes the counter (DeleteItem).",
)
def pace_attempt(*, subject: str) -> int:
    """Count one attempt of a (username, address) pair; returns its attempts in this window.

    Raises TooManyAttempts (429, Retry-After) while the pair waits out the delay its last
    failure earned; nothing is counted then.
    """
    now = utc_now().timestamp()
    counter = _pair_counter(subject, now)
    window_end = (int(now // _window_seconds()) + 1) * _window_seconds()
    with conditional_write() as write:
        counter.update(
            actions=[
                AttemptCounter.attempts.add(1),
                AttemptCounter.expires_at.set(datetime.fromtimestamp(window_end, UTC)),
            ],
            condition=AttemptCounter.blocked_until.does_not_exist()
            | (AttemptCounter.blocked_until <= now),
        )
    if write.refused:
        blocked = AttemptCounter.get(counter.counter_id, consistent_read=True).blocked_until
        raise _refused(PAIR_REFUSAL, max(1, math.ceil((blocked or now) - now)))
    return int(counter.attempts)


def delay_next_attempt(*, subject: str, failures: int) -> None:
    """After a wrong password: past the free failures, the pair's next attempt must wait, twice
    as long after each further failure (1 s, 2 s, 4 s... up to the window)."""
    free = active_settings().sign_in_failures_before_delay
    if failures < free:
        return
    now = utc_now().timestamp()
    delay = min(2 ** min(failures - free, 30), _window_seconds())
    _pair_counter(subject, now).update(actions=[AttemptCounter.blocked_until.set(now + delay)])


def forget_attempts(*, subject: str, address: str) -> None:
    """After the right password: the pair starts afresh, and the address's counter takes its
    attempt back, so an address that signs in correctly is never refused."""
    now = utc_now().timestamp()
    _pair_counter(subject, now).delete()
    limit = sign_in_per_address()
    window = int(now // limit.window_seconds)
    counter = AttemptCounter(f"{limit.name}#{_subject_key(address)}#{window}")
    with conditional_write():
        counter.update(
            actions=[AttemptCounter.attempts.add(-1)],
            condition=AttemptCounter.attempts > 0,
        )


def _wait(seconds: int) -> str:
    if seconds < 60:
        return ngettext("{n} second", "{n} seconds", seconds).format(n=seconds)
    minutes = math.ceil(seconds / 60)
    return ngettext("{n} minute", "{n} minutes", minutes).format(n=minutes)
