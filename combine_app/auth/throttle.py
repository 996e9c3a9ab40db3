"""Throttling of failed sign-ins, per user name and per client address, kept in the database.

A table rather than Flask-Limiter: Limiter counts in process memory unless it is given redis,
memcached or MongoDB, and Combine runs on PostgreSQL alone; counting rows in one indexed table
holds across every gunicorn worker and replica. Only failures are written and read: a
successful bearer-token call never touches this table.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable
from datetime import timedelta

from flask import current_app
from sqlalchemy import and_, delete, func, or_, select

from combine_app.auth.models import SignInFailure
from combine_app.database import utcnow
from combine_app.errors import TooManyRequests
from combine_app.extensions import db

USER = "user"
ADDRESS = "address"

Key = tuple[str, str]


def _hash(scope: str, value: str) -> str:
    return hashlib.sha256(f"{scope}\x00{value}".encode("utf-8", "replace")).hexdigest()


def keys_for(username: str | None, address: str | None) -> list[Key]:
    """The counters a sign-in attempt falls under: its user name and its client address."""
    keys = []
    if username is not None:
        keys.append((USER, _hash(USER, username)))
    keys.append((ADDRESS, _hash(ADDRESS, address or "unknown")))
    return keys


def _limits() -> tuple[int, timedelta]:
    config = current_app.config
    return config["SIGN_IN_MAX_FAILURES"], timedelta(seconds=config["SIGN_IN_WINDOW_SECONDS"])


def retry_after(keys: Iterable[Key]) -> int | None:
    """Seconds until a throttled counter lets attempts through again; None when none is."""
    limit, window = _limits()
    now = utcnow()
    rows = db.session.execute(
        select(func.count(), func.min(SignInFailure.failed_at))
        .where(
            or_(
                *(
                    and_(SignInFailure.scope == scope, SignInFailure.key_hash == key_hash)
                    for scope, key_hash in keys
                )
            ),
            SignInFailure.failed_at > now - window,
        )
        .group_by(SignInFailure.scope, SignInFailure.key_hash)
    ).all()
    waits = [(oldest + window - now).total_seconds() for count, oldest in rows if count >= limit]
    return max(1, math.ceil(max(waits))) if waits else None


def refuse_if_throttled(keys: Iterable[Key]) -> None:
    """429 with Retry-After when any of the counters is at its limit."""
    wait = retry_after(keys)
    if wait is not None:
        minutes = math.ceil(wait / 60)
        raise TooManyRequests(
            "Too many failed sign-ins from here or for this user; try again in "
            f"{minutes} {'minute' if minutes == 1 else 'minutes'}.",
            headers={"Retry-After": str(wait)},
        )


def record_failure(keys: Iterable[Key]) -> None:
    """Count one failure against each key; drop failures older than the window."""
    _, window = _limits()
    now = utcnow()
    db.session.execute(delete(SignInFailure).where(SignInFailure.failed_at <= now - window))
    db.session.add_all(
        SignInFailure(scope=scope, key_hash=key_hash, failed_at=now) for scope, key_hash in keys
    )
    db.session.flush()


def forget_user(username: str) -> None:
    """A successful sign-in clears the user name's failures (not the address's)."""
    scope, key_hash = keys_for(username, None)[0]
    db.session.execute(
        delete(SignInFailure).where(
            SignInFailure.scope == scope, SignInFailure.key_hash == key_hash
        )
    )


def count_bad_token(address: str | None) -> None:
    """Before answering 401 to a bad API token: 429 if its address is throttled, else count it.

    Called only for a token that matched nothing, so valid bearer calls never pay for it.
    """
    keys = keys_for(None, address)
    refuse_if_throttled(keys)
    record_failure(keys)
