"""The pure history replay: a save's entries rebuild it forwards, and undo it backwards."""

from __future__ import annotations

import copy
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from combine_app.workflows.diff import content_hash, diff_definitions, history_changes, replay
from combine_app.workflows.history_replay import (
    diff_of_entries,
    inverted,
    replay_revisions,
    undo_to_base,
)

from .test_diff_properties import SETTINGS, apply_edit, edited_pairs, trees

EDITS = ("move", "reparent", "remove", "modify", "retype", "metadata", "add")


def entries_of(old: dict, new: dict, revision: int = 2) -> list[tuple[str, dict]]:
    """The history entries a save from old to new writes."""
    return history_changes(diff_definitions(old, new), revision)


@st.composite
def edit_series(draw: st.DrawFn) -> list[dict]:
    """A random definition and a few rounds of random edits: every definition in order."""
    tree = draw(trees(max_steps=10))
    definitions = [tree.build()]
    for round_number in range(draw(st.integers(1, 5))):
        for serial in range(draw(st.integers(1, 3))):
            apply_edit(tree, draw(st.sampled_from(EDITS)), draw, round_number * 10 + serial)
        definitions.append(tree.build())
    return definitions


def test_entries_that_change_no_definition_give_no_diff():
    assert diff_of_entries([("created", {"revision": 1})]) is None
    assert diff_of_entries([("status_changed", {"revision": 3, "from": "a", "to": "b"})]) is None
    assert diff_of_entries([]) is None


@SETTINGS
@given(edited_pairs())
def test_a_saves_entries_replay_it_and_undo_it(pair):
    old, new = pair
    entries = entries_of(old, new)
    forward, _ = replay_revisions(old, [entries])
    assert content_hash(forward) == content_hash(new)
    diff = diff_of_entries(entries) or diff_definitions(old, old)
    back, _ = replay_revisions(new, [history_changes(inverted(diff, _fields(old)), 2)])
    assert content_hash(back) == content_hash(old)


@SETTINGS
@given(edit_series())
def test_a_series_undoes_to_its_base_only_with_the_removed_steps_known(definitions):
    revisions = [
        entries_of(a, b, number + 2)
        for number, (a, b) in enumerate(itertools.pairwise(definitions))
    ]
    base, current = definitions[0], definitions[-1]
    replayed, _ = replay_revisions(base, revisions)
    assert content_hash(replayed) == content_hash(current)
    rebuilt = undo_to_base(current, reversed(revisions), content_hash(base), [base])
    assert rebuilt is not None and content_hash(rebuilt) == content_hash(base)
    base_ids = set(_fields(base))
    removed_from_base = any(
        step["step_id"] in base_ids
        for entries in revisions
        for change_type, detail in entries
        if change_type == "step_removed"
        for step in detail["steps"]
    )
    without_donor = undo_to_base(current, reversed(revisions), content_hash(base))
    if not removed_from_base:
        assert without_donor is not None
    # Never a guess: whatever comes back is the base itself.
    assert without_donor is None or content_hash(without_donor) == content_hash(base)


def test_a_removed_base_step_without_a_donor_leaves_the_base_unknown():
    base = {"name": "a", "steps": [{"step_id": "x", "role": "r"}, {"step_id": "y"}]}
    current = {"name": "a", "steps": [{"step_id": "y"}]}
    revisions = [entries_of(base, current)]
    assert undo_to_base(current, revisions, content_hash(base)) is None
    assert undo_to_base(current, revisions, content_hash(base), [base]) == base


def test_a_rebuilt_base_with_the_wrong_hash_is_refused():
    base = {"name": "a", "steps": [{"step_id": "x", "role": "r"}]}
    current = copy.deepcopy(base)
    current["name"] = "b"
    revisions = [entries_of(base, current)]
    assert undo_to_base(current, revisions, content_hash(base)) == base
    assert undo_to_base(current, revisions, content_hash(current)) is None


def _fields(definition: dict) -> dict[str, dict]:
    found, pending = {}, list(definition.get("steps") or [])
    while pending:
        step = pending.pop()
        nested = step.get("steps")
        if isinstance(nested, list) and nested:
            pending.extend(nested)
            step = {key: value for key, value in step.items() if key != "steps"}
        found[step["step_id"]] = step
    return found


@SETTINGS
@given(edit_series())
def test_replaying_in_place_equals_replaying_each_save_and_leaves_the_start_alone(definitions):
    revisions = [
        entries_of(a, b, number + 2)
        for number, (a, b) in enumerate(itertools.pairwise(definitions))
    ]
    start = copy.deepcopy(definitions[0])
    one_by_one = definitions[0]
    for entries in revisions:
        diff = diff_of_entries(entries)
        if diff is not None:
            one_by_one = replay(one_by_one, diff)
    in_place, count = replay_revisions(definitions[0], revisions)
    assert in_place == one_by_one
    assert content_hash(in_place) == content_hash(definitions[-1])
    assert count == sum(1 for entries in revisions if entries)
    assert definitions[0] == start


def test_a_diff_naming_a_missing_step_does_not_apply():
    base = {"name": "a", "steps": [{"step_id": "x"}]}
    entries = [
        (
            "step_removed",
            {"revision": 2, "steps": [{"step_id": "y", "parent": None, "position": 0}]},
        )
    ]
    with pytest.raises(ValueError, match="no step 'y'"):
        replay_revisions(base, [entries])
