"""The one walk of the step tree: every step once, in document order, with a pointer that
resolves to it; and the shared helpers every reader of steps uses."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from combine_app.definition import tree
from combine_app.definition.patterns import MAX_DEPTH


def resolve(definition: dict, pointer: str):
    """Follow a JSON pointer through plain dicts and lists."""
    value = definition
    for token in pointer.split("/")[1:]:
        value = value[int(token)] if isinstance(value, list) else value[token]
    return value


NESTED = {
    "steps": [
        {"step_id": "a"},
        {
            "step_id": "b",
            "steps": [{"step_id": "b1"}, {"step_id": "b2", "steps": [{"step_id": "x"}]}],
        },
        "not a step",
        {"step_id": "c", "steps": []},
    ]
}


def test_walk_visits_every_step_once_parents_first_in_document_order():
    visits = list(tree.walk(NESTED["steps"]))
    assert [visit.path for visit in visits] == [(0,), (1,), (1, 0), (1, 1), (1, 1, 0), (2,), (3,)]
    assert [visit.step["step_id"] for visit in visits if isinstance(visit.step, dict)] == [
        "a",
        "b",
        "b1",
        "b2",
        "x",
        "c",
    ]
    by_id = {visit.step["step_id"]: visit for visit in visits if isinstance(visit.step, dict)}
    assert by_id["x"].parent is by_id["b2"].step
    assert by_id["b"].parent is None
    assert (by_id["b2"].position, by_id["b2"].depth) == (1, 2)
    assert by_id["x"].pointer == "/steps/1/steps/1/steps/0"
    assert visits[5].step == "not a step"  # visited, for validation to report


def test_every_pointer_resolves_to_the_step_visited():
    for visit in tree.walk(NESTED["steps"]):
        assert resolve(NESTED, visit.pointer) is visit.step
        assert tree.step_at(NESTED, visit.path) is visit.step


def test_walk_stops_descending_at_the_depth_limit_unless_unlimited():
    deep: dict = {"step_id": "s0"}
    node = deep
    for level in range(1, MAX_DEPTH + 5):
        child = {"step_id": f"s{level}"}
        node["steps"] = [child]
        node = child
    assert max(visit.depth for visit in tree.walk([deep])) == MAX_DEPTH
    assert (
        max(visit.depth for visit in tree.walk([deep], max_depth=tree.UNLIMITED)) == MAX_DEPTH + 5
    )


@pytest.mark.parametrize("steps", [None, {}, "steps", 3])
def test_walk_of_something_that_is_not_a_list_visits_nothing(steps):
    assert list(tree.walk(steps)) == []


def test_own_fields_drop_nested_steps_but_keep_an_empty_list_as_a_field():
    assert tree.own_fields({"step_id": "b", "steps": [{"step_id": "b1"}]}) == {"step_id": "b"}
    assert tree.own_fields({"step_id": "c", "steps": []}) == {"step_id": "c", "steps": []}
    assert tree.nested_steps([]) == [] and tree.nested_steps("x") == []


def test_siblings_at_a_path_that_leads_nowhere_is_none():
    assert tree.siblings_at(NESTED, (1, 1, 0)) == [{"step_id": "x"}]
    for path in [(9,), (1, 5), (0, 0), (2, 0), ()]:
        assert tree.siblings_at(NESTED, path) is None
    with pytest.raises(LookupError):
        tree.step_at(NESTED, (1, 7))


def _steps(depth: int = 0):
    leaf = st.fixed_dictionaries({"step_id": st.text("abc", min_size=1, max_size=3)})
    if depth >= 3:
        return st.lists(leaf, max_size=3)
    branch = st.fixed_dictionaries(
        {
            "step_id": st.text("abc", min_size=1, max_size=3),
            "steps": st.deferred(lambda: _steps(depth + 1)),
        }
    )
    return st.lists(st.one_of(leaf, branch), max_size=4)


def _recursive(steps, path=()):
    """The walk written the obvious recursive way, to hold the iterative one to it."""
    for index, step in enumerate(steps):
        yield (*path, index), step
        yield from _recursive(tree.nested_steps(step.get("steps")), (*path, index))


@settings(max_examples=150, deadline=None)
@given(_steps())
def test_the_walk_agrees_with_a_plain_recursive_walk(steps):
    walked = [(visit.path, visit.step) for visit in tree.walk(steps)]
    assert walked == list(_recursive(steps))
    for visit in tree.walk(steps):
        assert resolve({"steps": steps}, visit.pointer) is visit.step


def _with_ids(steps, prefix="s"):
    """Give every step a unique step_id (placements keys by it), in place; the steps."""
    for number, visit in enumerate(tree.walk(steps, max_depth=tree.UNLIMITED)):
        visit.step["step_id"] = f"{prefix}{number}"
    return steps


@settings(max_examples=150, deadline=None)
@given(_steps())
def test_placements_agree_with_the_walk(steps):
    steps = _with_ids(steps)
    order, where = tree.placements(steps)
    visits = list(tree.walk(steps, max_depth=tree.UNLIMITED))
    assert order == [visit.step["step_id"] for visit in visits]
    for visit in visits:
        parent = None if visit.parent is None else visit.parent["step_id"]
        assert where[visit.step["step_id"]] == (parent, visit.position, visit.step)
