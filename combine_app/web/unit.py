"""The pages' one write path: a change runs as one unit of work, and a refusal is answered
the way the page chooses, after everything the change did was rolled back.

    return page_change(
        lambda: service.complete_instance(project, user, reason),
        done=lambda _: back_to(panel, "The workflow is marked completed."),
        refused=flash_back(panel),
    )

Not found (404) and not allowed (403) are never a page's to answer: they go to the app's error
page, as on every other route. Services only flush; nothing below here commits.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import flash, redirect

from combine_app.database import transaction
from combine_app.errors import AppError, ConcurrentChange, Forbidden, NotFound, PreconditionFailed

Result = TypeVar("Result")


def page_change(
    change: Callable[[], Result],
    *,
    done: Callable[[Result], Any],
    refused: Callable[[AppError], Any],
):
    """Run ``change`` in one transaction; answer ``done(result)``, or ``refused(error)`` when
    the change raised an AppError (other than 403 and 404) and was rolled back."""
    try:
        with transaction():
            result = change()
    except (NotFound, Forbidden):
        raise
    except AppError as error:
        return refused(error)
    return done(result)


def message_of(error: AppError) -> str:
    """An error's detail, with its field messages when it names any."""
    if not error.errors:
        return error.detail
    fields = "; ".join(" ".join(messages) for messages in error.errors.values())
    return fields or error.detail


def back_to(url: str, message: str, category: str = "success"):
    """Say ``message`` on the next page and go to ``url``."""
    flash(message, category)
    return redirect(url)


def flash_back(url: str) -> Callable[[AppError], Any]:
    """A refusal shown above the page at ``url``."""
    return lambda error: back_to(url, message_of(error), "error")


def is_stale(error: AppError) -> bool:
    """Whether ``error`` means the page acted on a revision that is no longer current (If-Match
    refused, or a concurrent change won)."""
    return isinstance(error, PreconditionFailed | ConcurrentChange)


def stale_message(now: int, then: str) -> str:
    """What a stale page says: the revision the workflow is at ``now``, and what to do ``then``."""
    return f"This workflow was changed since you opened this page (now revision {now}). {then}"
