"""The one description of an order change: neighbours swapped, long moves, nested moves."""

from __future__ import annotations

from combine_app.workflows.diff import diff_definitions
from combine_app.workflows.move_words import move_sentences, orders_before, sibling_orders


def steps(*ids, **nested):
    return [{"step_id": sid, **({"steps": nested[sid]} if sid in nested else {})} for sid in ids]


def top_level_move(step_id, old, new):
    return {
        "step_id": step_id,
        "from_parent": None,
        "to_parent": None,
        "from_position": old,
        "to_position": new,
    }


def words(old, new):
    """What every page says for the change from ``old`` to ``new``."""
    diff = diff_definitions(old, new)
    return move_sentences(diff.steps_moved, sibling_orders(old), sibling_orders(new))


def words_from_history(old, new):
    """The same, knowing only the new definition and the diff (a history entry)."""
    diff = diff_definitions(old, new)
    after = sibling_orders(new)
    before = orders_before(after, diff.steps_moved, diff.steps_added, diff.steps_removed)
    return move_sentences(diff.steps_moved, before, after)


def test_two_neighbours_swapping_names_both():
    old = {"steps": steps("a", "increment_planning", "solution_sketch", "d")}
    new = {"steps": steps("a", "solution_sketch", "increment_planning", "d")}
    expected = ["increment_planning and solution_sketch swapped places (positions 2 and 3)"]
    assert words(old, new) == expected
    assert words_from_history(old, new) == expected


def test_a_swap_told_from_either_step_reads_the_same():
    before = {None: ["a", "b", "c"]}
    after = {None: ["a", "c", "b"]}
    down = {"step_id": "b", "from_parent": None, "to_parent": None}
    up = {"step_id": "c", "from_parent": None, "to_parent": None}
    assert move_sentences([{**down, "from_position": 1, "to_position": 2}], before, after) == (
        move_sentences([{**up, "from_position": 2, "to_position": 1}], before, after)
    )


def test_a_swap_and_its_undoing_read_the_same():
    old = {"steps": steps("a", "b", "c")}
    new = {"steps": steps("a", "c", "b")}
    assert words(new, old) == words(old, new) == ["b and c swapped places (positions 2 and 3)"]


def test_a_long_move_names_the_moved_step():
    old = {"steps": steps("a", "b", "c", "d", "e", "f")}
    new = {"steps": steps("a", "c", "d", "e", "b", "f")}
    assert words(old, new) == ["b moved from position 2 to 5"]
    assert words_from_history(old, new) == ["b moved from position 2 to 5"]


def test_a_move_of_two_places_is_not_a_swap():
    old = {"steps": steps("a", "b", "c")}
    new = {"steps": steps("b", "c", "a")}
    assert words(old, new) == ["a moved from position 1 to 3"]


def test_nested_swap_and_a_move_between_parents():
    old = {"steps": steps("p", "x", p=steps("a", "b", "c"))}
    new = {"steps": [{"step_id": "p", "steps": steps("b", "a", "c", "x")}]}
    assert words(old, new) == [
        "a and b swapped places inside p (positions 1 and 2)",
        "x moved from the top level (position 2) into p (position 4)",
    ]
    assert words_from_history(old, new) == words(old, new)


def test_a_swap_beside_an_added_step_is_still_a_swap():
    old = {"steps": steps("a", "b", "c")}
    new = {"steps": steps("n", "a", "c", "b")}
    assert words(old, new) == ["b and c swapped places (positions 3 and 4)"]
    assert words_from_history(old, new) == words(old, new)


def test_a_removed_step_between_does_not_part_neighbours():
    old = {"steps": steps("a", "x", "b", "c")}
    new = {"steps": steps("b", "a", "c")}
    assert words(old, new) == ["a and b swapped places (positions 1 and 2)"]
    assert words_from_history(old, new) == words(old, new)


def test_without_orders_a_move_is_told_from_the_moved_step():
    move = top_level_move("b", 1, 0)
    assert move_sentences([move]) == ["b moved from position 2 to 1"]


def test_two_swaps_in_one_list():
    old = {"steps": steps("a", "b", "c", "d")}
    new = {"steps": steps("b", "a", "d", "c")}
    assert words(old, new) == [
        "a and b swapped places (positions 1 and 2)",
        "c and d swapped places (positions 3 and 4)",
    ]


def test_a_list_item_without_a_step_id_tells_moves_step_by_step():
    before = {None: ["a", "b", None]}
    after = {None: ["b", "a", None]}
    move = top_level_move("b", 1, 0)
    assert move_sentences([move], before, after) == ["b moved from position 2 to 1"]
