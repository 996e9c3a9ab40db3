"""Property tests of the diff on random trees and edits, and its algorithmic bound."""

from __future__ import annotations

import bisect
import copy
import json
from dataclasses import dataclass
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from combine_app.workflows import diff as diff_module
from combine_app.workflows.diff import content_hash, diff_definitions, drift, replay, snapshot

SETTINGS = settings(derandomize=True, max_examples=200, deadline=None)

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-2, 2)
    | st.sampled_from([0.0, -0.0, 1.0, 2.5])
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=3)
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=6,
)
STEP_FIELD_NAMES = [
    "role",
    "task_prompt",
    "produces",
    "scope",
    "inputs",
    "optional",
    "iterate_over",
]
METADATA_NAMES = ["name", "description", "tags", "pow_class", "derived_from", "schema_version"]
EDITS = ("move", "reparent", "remove", "modify", "retype", "metadata", "add")
# Python equates these, JSON text does not: the diff must see each change.
RETYPED = {bool: int, int: float, float: lambda v: -v if v == 0 else v}


@dataclass
class Tree:
    """A definition as flat tables, easy to edit: fields per step and children per parent."""

    metadata: dict[str, Any]
    fields: dict[str, dict[str, Any]]
    children: dict[str | None, list[str]]

    def parent_of(self, step_id: str) -> str | None:
        """Return the parent of a step."""
        return next(p for p, kids in self.children.items() if step_id in kids)

    def subtree(self, step_id: str) -> set[str]:
        """Return a step and all steps nested under it."""
        found, pending = set(), [step_id]
        while pending:
            current = pending.pop()
            found.add(current)
            pending.extend(self.children.get(current, []))
        return found

    def build(self) -> dict[str, Any]:
        """Materialize the nested definition."""

        def built(step_id: str) -> dict[str, Any]:
            result = {"step_id": step_id, **copy.deepcopy(self.fields[step_id])}
            if self.children.get(step_id):
                result["steps"] = [built(child) for child in self.children[step_id]]
            return result

        steps = [built(step_id) for step_id in self.children.get(None, [])]
        return {**copy.deepcopy(self.metadata), "steps": steps}


@st.composite
def step_fields(draw: st.DrawFn) -> dict[str, Any]:
    """Draw a step's own fields, sometimes with an empty `steps` list."""
    fields = draw(st.dictionaries(st.sampled_from(STEP_FIELD_NAMES), VALUES, max_size=4))
    if draw(st.booleans()) and draw(st.booleans()):
        fields["steps"] = []
    return fields


@st.composite
def trees(draw: st.DrawFn, max_steps: int = 14) -> Tree:
    """Draw a random tree of uniquely named steps with random fields and metadata."""
    step_ids = [f"s{i}" for i in range(draw(st.integers(0, max_steps)))]
    children: dict[str | None, list[str]] = {None: []}
    for i, step_id in enumerate(step_ids):
        parent = draw(st.sampled_from([None, *step_ids[: min(i, 4)]]))  # a few bushy parents
        siblings = children.setdefault(parent, [])
        siblings.insert(draw(st.integers(0, len(siblings))), step_id)
    fields = {step_id: draw(step_fields()) for step_id in step_ids}
    metadata = draw(st.dictionaries(st.sampled_from(METADATA_NAMES), VALUES, max_size=4))
    return Tree(metadata, fields, children)


def apply_edit(tree: Tree, edit: str, draw: st.DrawFn, serial: int) -> None:
    """Apply one random edit of the given kind to the tree, in place."""
    step_ids = list(tree.fields)
    if edit == "metadata":
        name = draw(st.sampled_from(METADATA_NAMES))
        if name in tree.metadata and draw(st.booleans()):
            del tree.metadata[name]
        else:
            tree.metadata[name] = draw(VALUES)
        return
    if edit == "add" or not step_ids:
        new_id = f"n{serial}"
        parent = draw(st.sampled_from([None, *step_ids]))
        siblings = tree.children.setdefault(parent, [])
        siblings.insert(draw(st.integers(0, len(siblings))), new_id)
        tree.fields[new_id] = draw(step_fields())
        return
    step_id = draw(st.sampled_from(step_ids))
    fields = tree.fields[step_id]
    if edit == "modify":
        name = draw(st.sampled_from(STEP_FIELD_NAMES))
        if name in fields and draw(st.booleans()):
            del fields[name]
        else:
            fields[name] = draw(VALUES)
        return
    if edit == "retype":
        for name, value in fields.items():
            fields[name] = RETYPED.get(type(value), lambda v: v)(value)
        fields.setdefault("optional", True)
        return
    parent = tree.parent_of(step_id)
    siblings = tree.children[parent]
    index = siblings.index(step_id)
    siblings.remove(step_id)
    if edit == "remove":
        nested = tree.children.pop(step_id, [])
        if draw(st.booleans()):  # lift the nested steps into the removed step's place
            siblings[index:index] = nested
        else:
            for gone in set().union(*(tree.subtree(child) for child in nested)):
                tree.fields.pop(gone)
                tree.children.pop(gone, None)
        del tree.fields[step_id]
        return
    if edit == "reparent":
        outside = [s for s in step_ids if s not in tree.subtree(step_id)]
        parent = draw(st.sampled_from([None, *outside]))
    target = tree.children.setdefault(parent, [])
    target.insert(draw(st.integers(0, len(target))), step_id)


@st.composite
def edited_pairs(draw: st.DrawFn, edits: tuple[str, ...] = EDITS) -> tuple[dict, dict]:
    """Draw a definition and a copy changed by a few random edits of the given kinds."""
    tree = draw(trees())
    old = tree.build()
    for serial in range(draw(st.integers(1, 8))):
        apply_edit(tree, draw(st.sampled_from(edits)), draw, serial)
    return old, tree.build()


def deep_copy(value: Any) -> Any:
    """Copy through JSON, as a database round trip would."""
    return json.loads(json.dumps(value))


def ref_for(source: dict[str, Any]) -> dict[str, Any]:
    """Build a base_workflow_ref for a snapshot of source."""
    return {
        "workflow_id": "wf",
        "version": "1.0.0",
        "pow_class": "reference",
        "content_hash": content_hash(source),
    }


@SETTINGS
@given(edited_pairs())
def test_replaying_the_diff_rebuilds_the_new_definition(pair):
    old, new = pair
    diff = diff_definitions(old, new)
    assert replay(old, diff) == new
    assert replay(new, diff_definitions(new, old)) == old


@SETTINGS
@given(edited_pairs())
def test_diff_is_empty_exactly_when_the_content_hashes_match(pair):
    old, new = pair
    assert diff_definitions(old, new).is_empty == (content_hash(old) == content_hash(new))


@SETTINGS
@given(trees())
def test_a_definition_has_no_diff_with_itself_or_its_copy(tree):
    definition = tree.build()
    assert diff_definitions(definition, definition).is_empty
    assert diff_definitions(definition, deep_copy(definition)).is_empty


@SETTINGS
@given(trees())
def test_drift_of_a_snapshot_is_empty(tree):
    source = tree.build()
    effective, digest = snapshot(source)
    assert digest == content_hash(source)
    result = drift(effective, source, ref_for(source), "1.0.0")
    assert not result["is_drifted"] and not result["source_changed"]
    assert result["steps_added"] == result["steps_removed"] == result["steps_moved"] == []
    assert result["steps_modified"] == result["metadata_changes"] == []


@SETTINGS
@given(edited_pairs())
def test_drift_agrees_with_the_diff_and_without_source_with_the_hash(pair):
    source, effective = pair
    diff = diff_definitions(source, effective)
    result = drift(effective, source, ref_for(source), None)
    assert result["is_drifted"] == (not diff.is_empty)
    assert result["steps_reordered"] == diff.steps_reordered
    blind = drift(effective, None, ref_for(source), None)
    assert blind["is_drifted"] == result["is_drifted"]
    assert blind["steps_added"] == blind["steps_moved"] == [] and not blind["source_available"]


@SETTINGS
@given(edited_pairs(edits=("add", "modify", "metadata")))
def test_inserting_steps_never_moves_the_others(pair):
    assert diff_definitions(*pair).steps_moved == []


@SETTINGS
@given(st.data())
def test_deleting_steps_with_their_nested_steps_never_moves_the_others(data):
    tree = data.draw(trees())
    old = tree.build()
    for step_id in data.draw(st.lists(st.sampled_from(sorted(tree.fields) or ["-"]), max_size=4)):
        if step_id in tree.fields:
            tree.children[tree.parent_of(step_id)].remove(step_id)
            for gone in tree.subtree(step_id):
                tree.fields.pop(gone)
                tree.children.pop(gone, None)
    diff = diff_definitions(old, tree.build())
    assert diff.steps_moved == []
    assert replay(old, diff) == tree.build()


def longest_increasing_reference(values: list[int]) -> int:
    """Length of a longest strictly increasing subsequence, by the plain O(n^2) recurrence."""
    best = [1] * len(values)
    for i in range(len(values)):
        for j in range(i):
            if values[j] < values[i]:
                best[i] = max(best[i], best[j] + 1)
    return max(best, default=0)


@SETTINGS
@given(st.data())
def test_moves_in_a_flat_list_are_a_smallest_set(data):
    old_ids = [f"s{i}" for i in range(data.draw(st.integers(0, 30)))]
    kept = data.draw(st.permutations(old_ids).map(lambda p: p[: len(p) - len(p) // 3]))
    new_ids = list(kept)
    for serial in range(data.draw(st.integers(0, 5))):
        new_ids.insert(data.draw(st.integers(0, len(new_ids))), f"n{serial}")
    old = {"steps": [{"step_id": s} for s in old_ids]}
    new = {"steps": [{"step_id": s} for s in new_ids]}
    diff = diff_definitions(old, new)
    old_position = {s: i for i, s in enumerate(old_ids)}
    shared = [old_position[s] for s in new_ids if s in old_position]
    assert len(diff.steps_moved) == len(shared) - longest_increasing_reference(shared)
    moved = {m["step_id"] for m in diff.steps_moved}
    staying = [old_position[s] for s in new_ids if s in old_position and s not in moved]
    assert staying == sorted(staying)  # what stays is in old order, so the set is sufficient
    assert replay(old, diff) == new


# --- algorithmic bound: counted, not timed ---------------------------------------------------


class CountingId(str):
    """A step_id that counts how often it is compared for equality."""

    __slots__ = ()
    comparisons = 0

    def __eq__(self, other: object) -> bool:
        CountingId.comparisons += 1
        return str.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        CountingId.comparisons += 1
        return str.__ne__(self, other)

    __hash__ = str.__hash__


def big_definition(count: int, nested: bool) -> dict[str, Any]:
    """Build count steps (nested: a loop step and 5 children per group), fresh id objects."""
    steps: list[dict[str, Any]] = []
    for i in range(count):
        item = {"step_id": CountingId(f"step_{i}"), "role": "PM", "inputs": [{"doc_type": f"d{i}"}]}
        if nested and i % 6:
            steps[-1].setdefault("steps", []).append(item)
        else:
            steps.append(item)
    return {"name": "big", "steps": steps}


def reverse_everything(definition: dict[str, Any]) -> None:
    """Reverse every list of steps, in place (the worst case for moves)."""
    pending = [definition]
    while pending:
        current = pending.pop()
        current["steps"].reverse()
        pending.extend(s for s in current["steps"] if "steps" in s)


def test_diff_of_ten_thousand_steps_makes_a_linear_number_of_id_comparisons(monkeypatch):
    bisect_calls = 0

    def counting_bisect(values: list[int], value: int) -> int:
        nonlocal bisect_calls
        bisect_calls += 1
        return bisect.bisect_left(values, value)

    monkeypatch.setattr(diff_module, "bisect_left", counting_bisect)

    for nested in (False, True):
        count = 10_000
        # Two builds: equal ids are distinct objects, so every dict lookup compares them.
        old = big_definition(count, nested=nested)
        new = big_definition(count, nested=nested)
        reverse_everything(new)
        new["steps"][0]["role"] = "edited"
        del new["steps"][-1]
        CountingId.comparisons, bisect_calls = 0, 0
        diff = diff_definitions(old, new)
        removed = 1 + (5 if nested else 0)  # the last step, with its nested steps when nested
        shared = count - removed
        parents = len(new["steps"]) + 1 if nested else 1
        assert len(diff.steps_removed) == removed
        assert len(diff.steps_moved) == shared - parents  # each list keeps exactly one step
        assert bisect_calls == shared  # one binary search per kept step: O(n log n) moves
        # A list search or a pairwise comparison would cost ~n^2/2 = 5e7 comparisons here.
        assert CountingId.comparisons <= 10 * count
