"""Today's date in UTC, the one clock deviation review dates are read against.

An app may set ``TODAY`` in its config to a callable answering a ``date``: tests move time that
way, without sleeping and without replacing any of our own code.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import current_app, has_app_context


def utc_today() -> date:
    """The current date in UTC."""
    return datetime.now(UTC).date()


def today() -> date:
    """The app's ``TODAY`` clock when it sets one, else the current UTC date."""
    if has_app_context():
        clock = current_app.config.get("TODAY")
        if clock is not None:
            return clock()
    return utc_today()
