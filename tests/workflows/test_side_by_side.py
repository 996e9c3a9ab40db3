"""Two definitions side by side: rows aligned by step_id, marks that agree with the diff."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given

from combine_app.definition.tree import UNLIMITED, walk
from combine_app.workflows.diff import diff_definitions
from combine_app.workflows.side_by_side import Row, side_by_side
from tests.workflows.test_diff_properties import SETTINGS, edited_pairs
from tests.workflows.test_diff_real_revisions import INTAKE, SPD, load, revisions


def steps(*ids: str, **nested: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Steps named by their ids; ``nested`` gives a step its nested steps."""
    return [{"step_id": sid, **({"steps": nested[sid]} if sid in nested else {})} for sid in ids]


def table(old: dict, new: dict) -> list[tuple[str | None, str | None, int, tuple[str, ...]]]:
    """The rows in short: left number, right number, depth and marks."""
    return [
        (
            row.left.number if row.left else None,
            row.right.number if row.right else None,
            row.depth,
            row.marks,
        )
        for row in side_by_side(old, new).rows
    ]


def ids(rows: list[Row]) -> list[tuple[str, str]]:
    return [(row.side, row.step_id) for row in rows]


def test_the_same_definition_pairs_every_step_and_marks_nothing():
    definition = {"steps": steps("a", "p", "c", p=steps("x", "y"))}
    view = side_by_side(definition, definition)
    assert view.is_same
    assert table(definition, definition) == [
        ("1", "1", 1, ("same",)),
        ("2", "2", 1, ("same",)),
        ("2.1", "2.1", 2, ("same",)),
        ("2.2", "2.2", 2, ("same",)),
        ("3", "3", 1, ("same",)),
    ]


def test_a_removed_step_stands_where_it_was_before_the_step_that_took_its_place():
    old = {"steps": steps("a", "b", "c")}
    new = {"steps": steps("a", "x", "c")}
    rows = side_by_side(old, new).rows
    assert ids(rows) == [("both", "a"), ("left", "b"), ("right", "x"), ("both", "c")]
    assert [row.marks for row in rows] == [("same",), ("removed",), ("added",), ("same",)]


def test_a_removed_step_keeps_its_nested_steps_under_it_and_an_added_one_too():
    old = {"steps": steps("a", "per_epic", per_epic=steps("story"))}
    new = {"steps": steps("a", "per_package", per_package=steps("task"))}
    assert table(old, new) == [
        ("1", "1", 1, ("same",)),
        ("2", None, 1, ("removed",)),
        ("2.1", None, 2, ("removed",)),
        (None, "2", 1, ("added",)),
        (None, "2.1", 2, ("added",)),
    ]


def test_a_step_added_inside_a_kept_step_is_indented_under_it():
    old = {"steps": steps("a", "p", "c", p=steps("x"))}
    new = {"steps": steps("a", "p", "c", p=steps("x", "n"))}
    rows = side_by_side(old, new).rows
    assert ids(rows) == [
        ("both", "a"),
        ("both", "p"),
        ("both", "x"),
        ("right", "n"),
        ("both", "c"),
    ]
    assert rows[3].depth == 2 and rows[3].marks == ("added",)


def test_a_removed_step_after_a_kept_parent_does_not_look_nested_in_an_added_one():
    # A diff tool that put every insertion first would show b under n.
    old = {"steps": steps("a", "b", "c")}
    new = {"steps": steps("a", "c", a=steps("n"))}
    assert ids(side_by_side(old, new).rows) == [
        ("both", "a"),
        ("right", "n"),
        ("left", "b"),
        ("both", "c"),
    ]


def test_two_neighbours_that_swapped_show_the_moved_one_twice_in_the_words_of_every_page():
    old = {"steps": steps("a", "increment_planning", "solution_sketch", "d")}
    new = {"steps": steps("a", "solution_sketch", "increment_planning", "d")}
    rows = side_by_side(old, new).rows
    words = "increment_planning and solution_sketch swapped places (positions 2 and 3)"
    moved = [row for row in rows if "moved" in row.marks]
    assert [(row.side, row.step_id, row.move) for row in moved] == [
        ("right", "solution_sketch", words),
        ("left", "solution_sketch", words),
    ]
    assert ids(rows) == [
        ("both", "a"),
        ("right", "solution_sketch"),
        ("both", "increment_planning"),
        ("left", "solution_sketch"),
        ("both", "d"),
    ]


def test_a_moved_and_modified_step_carries_both_marks_and_its_field_changes_on_both_rows():
    old = {"steps": [{"step_id": "a", "role": "Analyst"}, {"step_id": "b"}, {"step_id": "c"}]}
    new = {"steps": [{"step_id": "b"}, {"step_id": "c"}, {"step_id": "a", "role": "Lead"}]}
    rows = [row for row in side_by_side(old, new).rows if row.step_id == "a"]
    assert [row.side for row in rows] == ["left", "right"]
    for row in rows:
        assert row.marks == ("moved", "modified")
        assert row.changes == [
            {"field": "role", "old": "Analyst", "new": "Lead", "change": "changed"}
        ]
        assert row.move == "a moved from position 1 to 3"


def test_a_modified_step_that_kept_its_place_shares_one_row_with_old_and_new_values():
    old = {"steps": [{"step_id": "a", "role": "Analyst", "scope": "project"}]}
    new = {"steps": [{"step_id": "a", "role": "Lead", "produces": "brief"}]}
    [row] = side_by_side(old, new).rows
    assert row.side == "both" and row.marks == ("modified",)
    assert [(c["field"], c["old"], c["new"], c["change"]) for c in row.changes] == [
        ("produces", None, "brief", "added"),
        ("role", "Analyst", "Lead", "changed"),
        ("scope", "project", None, "removed"),
    ]


def test_a_step_moved_into_another_step_shows_at_both_depths():
    old = {"steps": steps("a", "p", p=steps("c"))}
    new = {"steps": steps("p", p=steps("c", "a"))}
    assert table(old, new) == [
        ("1", None, 1, ("moved",)),
        ("2", "1", 1, ("same",)),
        ("2.1", "1.1", 2, ("same",)),
        (None, "1.2", 2, ("moved",)),
    ]
    [row] = [row for row in side_by_side(old, new).rows if row.side == "left"]
    assert row.move == "a moved from the top level (position 1) into p (position 2)"


def test_the_steps_inside_a_moved_step_move_along_with_it():
    old = {"steps": steps("a", "p", p=steps("c"))}
    new = {"steps": steps("p", "a", p=steps("c"))}
    rows = side_by_side(old, new).rows
    assert [(row.side, row.step_id, row.marks, row.moved_with) for row in rows] == [
        ("right", "p", ("moved",), None),
        ("right", "c", ("same",), "p"),
        ("both", "a", ("same",), None),
        ("left", "p", ("moved",), None),
        ("left", "c", ("same",), "p"),
    ]


def test_workflow_fields_are_left_to_the_diff_and_no_steps_give_no_rows():
    view = side_by_side({"name": "Old", "steps": []}, {"name": "New"})
    assert view.rows == []
    assert view.diff.metadata_changes[0]["field"] == "name"
    assert not view.is_same


# Properties on random trees and edits (the diff's own generator).


def document_order(definition: dict) -> list[str]:
    return [step["step_id"] for _, _, step in walk(definition.get("steps"), max_depth=UNLIMITED)]


def check_rows(old: dict, new: dict) -> None:
    """What holds of any two definitions side by side."""
    view = side_by_side(old, new)
    rows = view.rows
    # Each column is its side's steps in document order, every step exactly once.
    assert [row.step_id for row in rows if row.left] == document_order(old)
    assert [row.step_id for row in rows if row.right] == document_order(new)
    # Marks agree with the diff.
    diff = diff_definitions(old, new)
    marked = {
        mark: {row.step_id for row in rows if mark in row.marks}
        for mark in ("added", "removed", "moved", "modified")
    }
    assert marked["added"] == {entry["step_id"] for entry in diff.steps_added}
    assert marked["removed"] == {entry["step_id"] for entry in diff.steps_removed}
    assert marked["moved"] == {entry["step_id"] for entry in diff.steps_moved}
    assert marked["modified"] == {entry["step_id"] for entry in diff.steps_modified}
    for row in rows:
        cells = [cell for cell in (row.left, row.right) if cell]
        assert all(len(cell.path) == row.depth for cell in cells)
        assert all(cell.step["step_id"] == row.step_id for cell in cells)
        # A kept step shares a row unless it moved, itself or inside a moved step.
        kept = row.step_id not in marked["added"] | marked["removed"]
        assert (row.side == "both") == (kept and "moved" not in row.marks and not row.moved_with)
    # A nested step sits under its parent: the nearest row above at one level less holds it.
    for index, row in enumerate(rows):
        for column in ("left", "right"):
            cell = getattr(row, column)
            if cell is None or row.depth == 1:
                continue
            above = next(r for r in reversed(rows[:index]) if r.depth == row.depth - 1)
            parent_path = getattr(above, column).path
            assert parent_path == cell.path[:-1]


@SETTINGS
@given(edited_pairs())
def test_random_edits_side_by_side_keep_both_orders_and_agree_with_the_diff(pair):
    old, new = pair
    check_rows(old, new)
    check_rows(new, old)


# The real revision series of TheCombine's release files.

SERIES = [SPD, INTAKE]


@pytest.mark.parametrize("workflow", SERIES)
def test_every_pair_of_real_revisions_side_by_side_keeps_both_orders(workflow):
    numbers = list(revisions(workflow))
    for old_nn, new_nn in zip(numbers, numbers[1:], strict=False):
        check_rows(load(workflow, old_nn), load(workflow, new_nn))
    check_rows(load(workflow, numbers[0]), load(workflow, numbers[-1]))


def test_the_real_reorder_shows_the_swap_of_implementation_plan_and_technical_architecture():
    rows = side_by_side(load(SPD, "06"), load(SPD, "08")).rows
    words = "implementation_plan and technical_architecture swapped places (positions 3 and 4)"
    assert [(row.side, row.step_id, row.marks, row.move) for row in rows] == [
        ("both", "discovery", ("same",), None),
        ("both", "primary_plan", ("same",), None),
        ("right", "implementation_plan", ("moved", "modified"), words),
        ("both", "technical_architecture", ("modified",), None),
        ("left", "implementation_plan", ("moved", "modified"), words),
        ("both", "per_epic", ("same",), None),
        ("both", "feature_decomposition", ("same",), None),
    ]


def test_the_real_rename_of_the_iteration_removes_and_adds_it_with_its_nested_step():
    rows = side_by_side(load(SPD, "08"), load(SPD, "09")).rows
    assert [(row.side, row.step_id, row.depth, row.marks) for row in rows[4:]] == [
        ("left", "per_epic", 1, ("removed",)),
        ("left", "feature_decomposition", 2, ("removed",)),
        ("right", "per_work_package", 1, ("added",)),
        ("right", "work_statement_decomposition", 2, ("added",)),
    ]
