"""Creating users and tokens, and finding who a request comes from."""

from __future__ import annotations

from sqlalchemy import bindparam, select

from combine_app.auth.models import ApiToken, User, hash_token, new_token_value
from combine_app.database import as_loaded
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


_users = User.__table__
_tokens = ApiToken.__table__
# Who a token belongs to: built once (a statement per request costs more than its execution),
# and run on the request session's connection as Core, so no ORM machinery is involved.
CALLER_COLUMNS = (_users.c.id, _users.c.username, _users.c.is_admin)
TOKEN_OWNER = (
    select(*CALLER_COLUMNS)
    .select_from(_tokens.join(_users, _users.c.id == _tokens.c.user_id))
    .where(_tokens.c.token_hash == bindparam("token_hash"))
)


def user_for_token(value: str) -> User | None:
    """The owner of a presented token, or None when it is unknown."""
    row = db.session.connection().execute(TOKEN_OWNER, {"token_hash": hash_token(value)}).first()
    return None if row is None else known_user(row.id, row.username, row.is_admin)


def known_user(user_id: int, username: str, is_admin: bool) -> User:
    """The User the database has just named, placed in the session without reading it again.

    Its other columns load when first used; a project's owner resolves to it without a query.
    """
    return as_loaded(User, {"id": user_id, "username": username, "is_admin": is_admin})


def authenticate(username: str, password: str) -> User | None:
    """The user when the password matches, else None."""
    if "\x00" in username:  # no stored name holds NUL, and PostgreSQL refuses it as a parameter
        return None
    user = find_user(username)
    if user is None or not user.check_password(password):
        return None
    return user
