"""Creating users and tokens, and finding who a request comes from."""

from __future__ import annotations

import functools
import secrets

from flask import current_app
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from combine_app.auth.models import ApiToken, User, hash_token, new_token_value
from combine_app.errors import Conflict, ValidationFailed
from combine_app.extensions import db

MIN_PASSWORD_LENGTH = 8


def create_user(username: str, password: str, *, is_admin: bool = False) -> User:
    """Add a user; refuses a taken name or a short password."""
    username = username.strip()
    if not username or len(username) > 80:
        raise ValidationFailed("A username is 1 to 80 characters.", {"username": ["Invalid."]})
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            f"A password needs at least {MIN_PASSWORD_LENGTH} characters.",
            {"password": [f"At least {MIN_PASSWORD_LENGTH} characters."]},
        )
    if find_user(username) is not None:
        raise Conflict(f"A user named {username!r} already exists.")
    user = User(username=username, is_admin=is_admin)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def find_user(username: str) -> User | None:
    """The user with this name, if any."""
    return db.session.scalar(select(User).where(User.username == username))


def create_token(user: User, name: str) -> str:
    """Issue a token for ``user`` and return its value; only its hash is kept."""
    value = new_token_value()
    db.session.add(ApiToken(user=user, name=name, token_hash=hash_token(value)))
    db.session.flush()
    return value


def user_for_token(value: str) -> User | None:
    """The owner of a presented token, or None when it is unknown."""
    return db.session.scalar(
        select(User).join(ApiToken).where(ApiToken.token_hash == hash_token(value))
    )


def authenticate(username: str, password: str) -> User | None:
    """The user when the password matches, else None; as slow for an unknown name as a known.

    An unknown name is checked against a dummy hash of the same method, so the time of the
    answer does not tell which user names exist.
    """
    # No stored name holds NUL, and PostgreSQL refuses it as a parameter.
    user = None if "\x00" in username else find_user(username)
    if user is None:
        check_password_hash(_dummy_hash(current_app.config.get("PASSWORD_HASH_METHOD")), password)
        return None
    return user if user.check_password(password) else None


@functools.cache
def _dummy_hash(method: str | None) -> str:
    """A hash of a random password made with ``method``, made once per process and method."""
    return generate_password_hash(secrets.token_hex(16), method=method or "scrypt")
