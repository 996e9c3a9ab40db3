"""The editor's operations on a working copy, without a page or a database."""

from __future__ import annotations

import copy

import pytest

from combine_app.definition import editing
from combine_app.definition.patterns import IDENTIFIER_WORDS

BASE = {
    "workflow_id": "w",
    "steps": [
        {"step_id": "a", "name": "A"},
        {"step_id": "b", "steps": [{"step_id": "b1"}, {"step_id": "b2"}]},
        {"step_id": "c"},
    ],
}


@pytest.fixture
def working() -> dict:
    return copy.deepcopy(BASE)


def ids(definition: dict) -> list[str]:
    return [step["step_id"] for _, step in editing.walk(definition)]


def test_move_swaps_with_the_neighbour_and_names_the_step_moved(working):
    path, notice = editing.move(working, (0,), +1)
    assert path == (1,)
    assert ids(working) == ["b", "b1", "b2", "a", "c"]
    assert notice == "Moved step a down to position 2."
    path, notice = editing.move(working, (0, 1), -1)
    assert (path, ids(working)[:3]) == ((0, 0), ["b", "b2", "b1"])


@pytest.mark.parametrize(("path", "delta", "where"), [((0,), -1, "first"), ((2,), 1, "last")])
def test_move_past_either_end_is_refused_and_changes_nothing(working, path, delta, where):
    with pytest.raises(editing.EditError, match=f"already {where}"):
        editing.move(working, path, delta)
    assert working == BASE


def test_remove_takes_the_nested_steps_along_and_says_how_many(working):
    focus, notice = editing.remove(working, (1,))
    assert ids(working) == ["a", "c"]
    assert focus == (1,)
    assert notice == "Removed step b and the 2 steps inside it."
    focus, _ = editing.remove(working, (1,))
    assert focus == (0,)


def test_removing_the_last_nested_step_focuses_its_parent(working):
    editing.remove(working, (1, 0))
    focus, _ = editing.remove(working, (1, 0))
    assert focus == (1,)
    assert working["steps"][1]["steps"] == []


@pytest.mark.parametrize("path", [(7,), (1, 9), (0, 0)])
def test_a_path_that_leads_nowhere_is_an_edit_error(working, path):
    with pytest.raises(editing.EditError, match="no longer on the page"):
        editing.remove(working, path)


@pytest.mark.parametrize(
    ("place", "expected_path", "order"),
    [
        ("end:", (3,), ["a", "b", "b1", "b2", "c", "new"]),
        ("before:0", (0,), ["new", "a", "b", "b1", "b2", "c"]),
        ("end:1", (1, 2), ["a", "b", "b1", "b2", "new", "c"]),
        ("end:0", (0, 0), ["a", "new", "b", "b1", "b2", "c"]),
    ],
)
def test_add_step_puts_it_where_asked(working, place, expected_path, order):
    path = editing.add_step(working, {"step_id": "new", "name": " New "}, place)
    assert path == expected_path
    assert ids(working) == order
    assert editing.step_or_none(working, path) == {"step_id": "new", "name": "New"}


@pytest.mark.parametrize(
    ("fields", "place", "words", "field"),
    [
        ({"step_id": ""}, "end:", "Give the new step a step_id.", "step_id"),
        ({"step_id": "Bad-Id"}, "end:", IDENTIFIER_WORDS, "step_id"),
        ({"step_id": "a"}, "end:", "There is already a step a.", "step_id"),
        ({"step_id": "n", "name": "x\x00"}, "end:", "NUL", "name"),
        ({"step_id": "n"}, "sideways:0", "Choose where the new step goes.", "place"),
    ],
)
def test_add_step_refusals_name_the_field_and_change_nothing(working, fields, place, words, field):
    with pytest.raises(editing.EditError) as refused:
        editing.add_step(working, fields, place)
    assert words in refused.value.message
    assert (refused.value.where, refused.value.field) == (editing.ADD_FORM, field)
    assert working == BASE


def test_field_edits_apply_text_and_json_and_report_bad_json_per_field(working):
    errors = editing.apply_field_edits(
        working,
        {
            "f:0:name": "Renamed",
            "j:1.0:step_id": '"b1"',
            "nf-name:2": "scope",
            "nf-value:2": "epic",
        },
    )
    assert errors == {}
    assert working["steps"][0]["name"] == "Renamed"
    assert working["steps"][2]["scope"] == "epic"
    errors = editing.apply_field_edits(
        working, {"nf-name:0": "tags", "nf-value:0": "[1,", "nf-json:0": "1"}
    )
    assert list(errors) == [("0", editing.NEW_FIELD)]
    assert "tags" not in working["steps"][0]


def test_drop_field_keeps_the_step_id(working):
    assert editing.drop_field(working, (0,), "name") == "Removed field name from step a."
    with pytest.raises(editing.EditError):
        editing.drop_field(working, (0,), "step_id")


def test_locate_and_place_options_name_paths_as_the_page_does(working):
    assert editing.locate("/effective_workflow/steps/1/steps/0/step_id") == ((1, 0), "step_id")
    assert editing.locate("/name") == (None, "name")
    options = dict(editing.place_options(working))
    assert options["before:1.1"] == "Before 2.2 b2"
    assert "end:1" in options and "end:" in options
