"""Four-eyes: who may decide a deviation request, and the words a refusal says at every door.

Pure functions over plain dicts. "Made that difference" is read from the history a person saved
since the base: a save that added, removed or moved the step (step items), changed that field of
that step, or changed that workflow field (field items). A step the person added counts for
every field it holds, since its content is theirs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Any

from combine_app.workflows.drift_items import STEP_ADDED, STEP_MOVED, STEP_REMOVED

# The history change types a save writes that can make a difference from the source.
PLACEMENT_CHANGES = ("step_added", "step_removed", "step_reordered")
SAVE_CHANGES = (*PLACEMENT_CHANGES, "step_modified", "metadata_changed")
STEP_ITEM_KINDS = (STEP_ADDED, STEP_REMOVED, STEP_MOVED)

REQUESTED_IT = "You requested this acceptance; another approver must decide."
MADE_IT = "You made this change; another approver must decide."
REQUESTER_REJECTS = (
    "You requested this acceptance; another approver must decide. Withdraw it instead."
)


class Authorship:
    """What one person's saves touched: steps they placed, and step and workflow fields."""

    def __init__(self, saves: Iterable[tuple[str, Mapping[str, Any] | None]] = ()):
        self.placed: set[str] = set()
        self.added: set[str] = set()
        self.fields: set[tuple[str | None, str]] = set()
        for change_type, detail in saves:
            self.add(change_type, detail or {})

    def add(self, change_type: str, detail: Mapping[str, Any]) -> None:
        """Take in one history entry (change type and detail) the person saved."""
        if change_type in PLACEMENT_CHANGES:
            ids = {entry["step_id"] for entry in detail.get("steps", ())}
            self.placed |= ids
            if change_type == "step_added":
                self.added |= ids
        elif change_type == "step_modified":
            self.fields.update(
                (entry["step_id"], change["field"])
                for entry in detail.get("steps", ())
                for change in entry.get("changes", ())
            )
        elif change_type == "metadata_changed":
            self.fields.update((None, change["field"]) for change in detail.get("changes", ()))

    def made(self, item: Mapping[str, Any]) -> bool:
        """Whether the person made the drift item ``item`` (by its kind, step_id and field)."""
        step_id = item["step_id"]
        if item["kind"] in STEP_ITEM_KINDS:
            return step_id in self.placed
        return (step_id, item["field"]) in self.fields or step_id in self.added


def approval_refusal(
    username: str,
    acceptance: Mapping[str, Any],
    item: Mapping[str, Any] | None,
    authorship: Authorship,
    four_eyes: bool,
) -> str | None:
    """Why ``username`` may not approve this request under the policy, or None when they may.

    Only four-eyes refuses here (the role is checked before): the requester, and whoever made
    the difference, must leave the decision to someone else.
    """
    if not four_eyes:
        return None
    if acceptance["requested_by"] == username:
        return REQUESTED_IT
    if item is not None and authorship.made(item):
        return MADE_IT
    return None


def rejection_refusal(username: str, acceptance: Mapping[str, Any]) -> str | None:
    """Why ``username`` may not reject this request (they asked for it), or None."""
    return REQUESTER_REJECTS if acceptance["requested_by"] == username else None


def review_by_problem(review_by: date | None, today: date, review_days: int | None) -> str | None:
    """What is wrong with a review-by date on the UTC date ``today``, or None when it is fine.

    It is optional unless the policy sets ``review_days``; it may be today but never earlier,
    and with ``review_days`` at most that many days ahead.
    """
    latest = today + timedelta(days=review_days) if review_days is not None else None
    if review_by is None:
        if latest is None:
            return None
        return (
            f"This project's policy requires a review-by date, at most {review_days} days "
            f"ahead (by {latest.isoformat()})."
        )
    if review_by < today:
        return f"The review-by date cannot be in the past (today is {today.isoformat()}, UTC)."
    if latest is not None and review_by > latest:
        return (
            f"This project's policy allows at most {review_days} days ahead: "
            f"{latest.isoformat()} at the latest."
        )
    return None
