"""Password hashing: argon2id, slow on purpose, one hasher for every password the app stores.

Sign-up and sign-in (`sessions`) hash and check the learner's password; the blog's seed hashes
the demo users' one. The hash carries its own parameters, so a stronger hasher later still
checks the passwords stored before it.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_matches(stored_hash: str, password: str) -> bool:
    """Whether `password` is the one `stored_hash` was made from (a malformed hash: no)."""
    try:
        return _hasher.verify(stored_hash, password)
    except (VerifyMismatchError, InvalidHashError):
        return False
