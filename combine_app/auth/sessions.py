"""Browser sessions that sign-out really ends: each has a row, and the cookie must name it.

Flask's session cookie is signed, not stored: without a server-side record, a copy of the
cookie taken before Sign out would keep working. The cookie carries a random secret; the
``user_sessions`` row holds its hash. Signing out deletes the row; "sign out everywhere"
deletes every row of the user. The user loader reads user and session in one query, the same
number of statements as before.
"""

from __future__ import annotations

import hashlib
import secrets

from flask import session
from flask_login import login_user, logout_user
from sqlalchemy import delete, select

from combine_app.auth.models import User, UserSession
from combine_app.extensions import db

SESSION_KEY = "sid"


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "replace")).hexdigest()


def start(user: User) -> None:
    """Sign ``user`` in: a new session row, its secret in the cookie, then Flask-Login."""
    secret = secrets.token_urlsafe(32)
    db.session.add(UserSession(id=_hash(secret), user_id=user.id))
    db.session.flush()
    login_user(user)
    session[SESSION_KEY] = secret


def user_of_current_session(user_id: str) -> User | None:
    """The user whose live session the cookie names, or None (signed out, revoked, forged)."""
    secret = session.get(SESSION_KEY)
    if not isinstance(secret, str):
        return None
    try:
        wanted = int(user_id)
    except ValueError:
        return None
    return db.session.scalar(
        select(User)
        .join(UserSession, UserSession.user_id == User.id)
        .where(UserSession.id == _hash(secret), User.id == wanted)
    )


def end() -> None:
    """Sign out here: delete this session's row, then forget the cookie's contents."""
    secret = session.get(SESSION_KEY)
    if isinstance(secret, str):
        db.session.execute(delete(UserSession).where(UserSession.id == _hash(secret)))
    logout_user()
    session.pop(SESSION_KEY, None)


def end_all(user: User) -> int:
    """Sign ``user`` out of every browser; return how many sessions were ended."""
    result = db.session.execute(delete(UserSession).where(UserSession.user_id == user.id))
    logout_user()
    session.pop(SESSION_KEY, None)
    return result.rowcount or 0
