"""Four-eyes rules as pure code: who made a difference, who may decide, which dates hold."""

from __future__ import annotations

from datetime import date

from combine_app.workflows.drift_items import item_key
from combine_app.workflows.four_eyes import (
    MADE_IT,
    REQUESTED_IT,
    REQUESTER_REJECTS,
    Authorship,
    approval_refusal,
    rejection_refusal,
    review_by_problem,
)

TODAY = date(2026, 12, 5)


def item(kind: str, step_id: str | None = None, field: str | None = None) -> dict:
    return {"key": item_key(kind, step_id, field), "kind": kind, "step_id": step_id, "field": field}


def save(change_type: str, **detail) -> tuple[str, dict]:
    return change_type, {"revision": 2, **detail}


def modified(step_id: str, *fields: str) -> tuple[str, dict]:
    changes = [{"field": name, "old": 1, "new": 2, "change": "changed"} for name in fields]
    return save("step_modified", steps=[{"step_id": step_id, "changes": changes}])


def test_a_save_that_placed_a_step_made_its_added_removed_and_moved_items():
    authorship = Authorship(
        [
            save("step_added", steps=[{"step_id": "retro", "parent": None, "position": 3}]),
            save("step_removed", steps=[{"step_id": "design", "parent": None, "position": 1}]),
            save("step_reordered", steps=[{"step_id": "build", "from_parent": None}]),
        ]
    )
    assert authorship.made(item("step_added", "retro"))
    assert authorship.made(item("step_removed", "design"))
    assert authorship.made(item("step_moved", "build"))
    assert not authorship.made(item("step_moved", "ship"))


def test_a_changed_field_is_made_only_for_that_step_and_that_field():
    authorship = Authorship([modified("design", "task_prompt")])
    assert authorship.made(item("step_modified", "design", "task_prompt"))
    assert not authorship.made(item("step_modified", "design", "role"))
    assert not authorship.made(item("step_modified", "build", "task_prompt"))
    # Changing a field of a step does not place it.
    assert not authorship.made(item("step_moved", "design"))


def test_a_workflow_field_is_told_apart_from_a_step_field_of_the_same_name():
    authorship = Authorship(
        [save("metadata_changed", changes=[{"field": "description", "old": "a", "new": "b"}])]
    )
    assert authorship.made(item("metadata_changed", None, "description"))
    assert not authorship.made(item("step_modified", "design", "description"))


def test_a_step_someone_added_makes_every_field_it_holds_theirs():
    authorship = Authorship([save("step_added", steps=[{"step_id": "design", "position": 0}])])
    assert authorship.made(item("step_modified", "design", "task_prompt"))


def test_saves_that_touch_nothing_relevant_make_nothing():
    authorship = Authorship([("status_changed", {"from": "active"}), ("created", None)])
    assert not authorship.made(item("metadata_changed", None, "name"))


REQUEST = {"requested_by": "bob"}
PROMPT = item("step_modified", "design", "task_prompt")


def test_with_four_eyes_the_requester_may_not_approve_and_hears_why():
    assert approval_refusal("bob", REQUEST, PROMPT, Authorship(), True) == REQUESTED_IT


def test_with_four_eyes_the_author_of_the_difference_may_not_approve_and_hears_why():
    made = Authorship([modified("design", "task_prompt")])
    assert approval_refusal("carol", REQUEST, PROMPT, made, True) == MADE_IT
    assert MADE_IT == "You made this change; another approver must decide."


def test_with_four_eyes_someone_else_may_approve():
    elsewhere = Authorship([modified("design", "role")])
    assert approval_refusal("carol", REQUEST, PROMPT, elsewhere, True) is None


def test_without_four_eyes_nobody_is_refused_by_the_policy():
    made = Authorship([modified("design", "task_prompt")])
    assert approval_refusal("bob", REQUEST, PROMPT, made, False) is None


def test_the_requester_may_never_reject_their_own_request():
    assert rejection_refusal("bob", REQUEST) == REQUESTER_REJECTS
    assert rejection_refusal("carol", REQUEST) is None


def test_review_by_is_optional_without_review_days_and_never_in_the_past():
    assert review_by_problem(None, TODAY, None) is None
    assert review_by_problem(TODAY, TODAY, None) is None
    assert "past" in review_by_problem(date(2026, 12, 4), TODAY, None)


def test_review_days_makes_review_by_required_and_bounds_it():
    assert "requires a review-by date" in review_by_problem(None, TODAY, 30)
    assert review_by_problem(date(2027, 1, 4), TODAY, 30) is None
    assert "2027-01-04 at the latest" in review_by_problem(date(2027, 1, 5), TODAY, 30)
    assert review_by_problem(TODAY, TODAY, 0) is None
