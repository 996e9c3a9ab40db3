"""Unit tests of the pure structural diff, replay, history entries and drift."""

from __future__ import annotations

import hashlib
import json
import re
import sys
from typing import Any

import pytest

from combine_app.workflows.diff import (
    WorkflowDiff,
    content_hash,
    diff_definitions,
    drift,
    history_changes,
    replay,
    snapshot,
)


def step(step_id: str, *nested: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """Build a step; nested steps become its `steps` list."""
    built = {"step_id": step_id, **fields}
    if nested:
        built["steps"] = list(nested)
    return built


def definition(*steps: dict[str, Any], **metadata: Any) -> dict[str, Any]:
    """Build a definition with default metadata and the given top-level steps."""
    return {"workflow_id": "wf", "name": "Workflow", **metadata, "steps": list(steps)}


def flat(*step_ids: str) -> dict[str, Any]:
    """Build a definition of top-level steps with a role each."""
    return definition(*(step(sid, role=f"role {sid}") for sid in step_ids))


def base_ref_for(source: dict[str, Any]) -> dict[str, Any]:
    """Build the base_workflow_ref an instance made from source would carry."""
    return {
        "workflow_id": source["workflow_id"],
        "version": "1.0.0",
        "pow_class": "reference",
        "content_hash": content_hash(source),
    }


def assert_replays(old: dict[str, Any], new: dict[str, Any]) -> WorkflowDiff:
    """Diff old to new, check that replaying the diff rebuilds new, return the diff."""
    diff = diff_definitions(old, new)
    assert replay(old, diff) == new
    return diff


# --- structure -------------------------------------------------------------------------------


def test_identical_definitions_give_an_empty_diff():
    old = definition(step("a", step("a1", role="x")), step("b"), tags=["t"])
    diff = diff_definitions(old, json.loads(json.dumps(old)))
    assert diff == WorkflowDiff()
    assert diff.is_empty
    assert not diff.steps_reordered
    assert history_changes(diff, 2) == []


def test_adding_a_step_alone_is_not_a_reorder():
    new = definition(step("z", role="new"), *flat("a", "b", "c", "d")["steps"])
    diff = assert_replays(flat("a", "b", "c", "d"), new)
    assert diff.steps_added == [
        {"step_id": "z", "parent": None, "position": 0, "step": {"step_id": "z", "role": "new"}}
    ]
    assert diff.steps_moved == []
    assert not diff.steps_reordered
    assert diff.steps_removed == diff.steps_modified == diff.metadata_changes == []


def test_removing_a_step_alone_is_not_a_reorder():
    diff = assert_replays(flat("a", "b", "c", "d"), flat("a", "c", "d"))
    assert diff.steps_removed == [{"step_id": "b", "parent": None, "position": 1}]
    assert diff.steps_moved == []
    assert not diff.steps_reordered


def test_adding_and_removing_at_once_is_still_not_a_reorder():
    diff = assert_replays(flat("a", "b", "c", "d", "e"), flat("x", "a", "c", "y", "e", "z"))
    assert [e["step_id"] for e in diff.steps_added] == ["x", "y", "z"]
    assert [e["step_id"] for e in diff.steps_removed] == ["b", "d"]
    assert diff.steps_moved == []


def test_swapping_two_adjacent_steps_moves_exactly_one():
    diff = assert_replays(flat("a", "b", "c", "d"), flat("a", "c", "b", "d"))
    assert len(diff.steps_moved) == 1
    (move,) = diff.steps_moved
    assert move["step_id"] in {"b", "c"}
    assert move["from_parent"] is None and move["to_parent"] is None
    assert diff.steps_reordered
    assert diff.steps_added == diff.steps_removed == diff.steps_modified == []


def test_moving_the_first_step_to_the_end_moves_only_that_step():
    diff = assert_replays(flat("a", "b", "c", "d", "e"), flat("b", "c", "d", "e", "a"))
    assert diff.steps_moved == [
        {
            "step_id": "a",
            "from_parent": None,
            "to_parent": None,
            "from_position": 0,
            "to_position": 4,
        }
    ]


def test_moving_the_last_step_to_the_front_moves_only_that_step():
    diff = assert_replays(flat("a", "b", "c", "d", "e"), flat("e", "a", "b", "c", "d"))
    assert [m["step_id"] for m in diff.steps_moved] == ["e"]


def test_reversing_a_list_keeps_one_step_and_moves_the_rest():
    diff = assert_replays(flat("a", "b", "c", "d"), flat("d", "c", "b", "a"))
    assert len(diff.steps_moved) == 3


def test_nested_step_moved_to_another_parent_reports_both_parents():
    old = definition(step("loop_a", step("x"), step("y")), step("loop_b", step("z")))
    new = definition(step("loop_a", step("x")), step("loop_b", step("z"), step("y")))
    diff = assert_replays(old, new)
    assert diff.steps_moved == [
        {
            "step_id": "y",
            "from_parent": "loop_a",
            "to_parent": "loop_b",
            "from_position": 1,
            "to_position": 1,
        }
    ]
    assert diff.steps_added == diff.steps_removed == diff.steps_modified == []


def test_step_lifted_to_top_level_is_moved_and_its_siblings_are_not():
    old = definition(step("a"), step("loop", step("x"), step("y"), step("z")))
    new = definition(step("a"), step("y"), step("loop", step("x"), step("z")))
    diff = assert_replays(old, new)
    assert [(m["step_id"], m["from_parent"], m["to_parent"]) for m in diff.steps_moved] == [
        ("y", "loop", None)
    ]


def test_parent_renamed_with_its_child_is_a_removal_and_an_addition_of_both():
    old = definition(step("a"), step("per_epic", step("decompose", role="BA"), scope="epic"))
    new = definition(step("a"), step("per_wp", step("decompose_ws", role="BA"), scope="wp"))
    diff = assert_replays(old, new)
    assert [(e["step_id"], e["parent"], e["position"]) for e in diff.steps_removed] == [
        ("per_epic", None, 1),
        ("decompose", "per_epic", 0),
    ]
    assert [(e["step_id"], e["parent"], e["position"]) for e in diff.steps_added] == [
        ("per_wp", None, 1),
        ("decompose_ws", "per_wp", 0),
    ]
    assert diff.steps_moved == []


def test_added_step_carries_its_own_fields_without_its_nested_steps():
    new = definition(step("loop", step("inner", role="r"), iterate_over={"doc_type": "plan"}))
    diff = assert_replays(definition(), new)
    assert diff.steps_added[0] == {
        "step_id": "loop",
        "parent": None,
        "position": 0,
        "step": {"step_id": "loop", "iterate_over": {"doc_type": "plan"}},
    }
    assert diff.steps_added[1]["parent"] == "loop"


def test_child_moved_into_a_new_parent_is_moved_and_the_parent_is_added():
    old = definition(step("a"), step("b"))
    new = definition(step("a"), step("loop", step("b")))
    diff = assert_replays(old, new)
    assert [e["step_id"] for e in diff.steps_added] == ["loop"]
    assert [(m["step_id"], m["from_parent"], m["to_parent"]) for m in diff.steps_moved] == [
        ("b", None, "loop")
    ]


# --- fields and metadata ---------------------------------------------------------------------


def test_field_only_edit_is_a_modification_with_old_and_new():
    old = definition(step("a", role="Architect", task_prompt="TA v1.0"), step("b"))
    new = definition(step("a", role="Architect", task_prompt="TA v1.1"), step("b"))
    diff = assert_replays(old, new)
    assert diff.steps_modified == [
        {
            "step_id": "a",
            "changes": [
                {"field": "task_prompt", "old": "TA v1.0", "new": "TA v1.1", "change": "changed"}
            ],
        }
    ]
    assert diff.steps_moved == diff.steps_added == diff.steps_removed == []


def test_field_added_and_removed_are_reported_sorted_by_field():
    old = definition(step("a", role="PM", creates_entities="epic"))
    new = definition(step("a", role="PM", execution_mode="auto"))
    diff = assert_replays(old, new)
    assert diff.steps_modified[0]["changes"] == [
        {"field": "creates_entities", "old": "epic", "new": None, "change": "removed"},
        {"field": "execution_mode", "old": None, "new": "auto", "change": "added"},
    ]


def test_nested_value_change_is_reported_on_the_top_field():
    old = definition(step("a", inputs=[{"doc_type": "discovery", "scope": "project"}]))
    new = definition(step("a", inputs=[{"doc_type": "discovery", "scope": "epic"}]))
    diff = assert_replays(old, new)
    assert [c["field"] for c in diff.steps_modified[0]["changes"]] == ["inputs"]


def test_key_order_inside_fields_is_not_a_change():
    old = definition(step("a", inputs=[{"doc_type": "d", "scope": "p"}]))
    new = definition(step("a", inputs=[{"scope": "p", "doc_type": "d"}]))
    assert diff_definitions(old, new).is_empty


def test_moved_and_edited_step_is_both_moved_and_modified():
    diff = assert_replays(flat("a", "b", "c"), definition(step("b"), step("a"), step("c")))
    assert {m["step_id"] for m in diff.steps_moved} <= {"a", "b"}
    assert len(diff.steps_moved) == 1
    assert {e["step_id"] for e in diff.steps_modified} == {"a", "b", "c"}  # roles dropped


def test_metadata_change_addition_and_removal():
    old = definition(description="old text", tags=["x"])
    new = definition(description="new text", pow_class="reference")
    diff = assert_replays(old, new)
    assert diff.metadata_changes == [
        {"field": "description", "old": "old text", "new": "new text", "change": "changed"},
        {"field": "pow_class", "old": None, "new": "reference", "change": "added"},
        {"field": "tags", "old": ["x"], "new": None, "change": "removed"},
    ]
    assert diff.steps_modified == diff.steps_moved == []


def test_steps_key_is_never_metadata():
    diff = diff_definitions(flat("a"), flat("a", "b"))
    assert diff.metadata_changes == []


@pytest.mark.parametrize(
    ("old_value", "new_value"),
    [
        (True, 1),
        (False, 0),
        (1, 1.0),
        (0.0, -0.0),
        ([True], [1]),
        ({"optional": False}, {"optional": 0}),
        ({"x": [1, {"y": True}]}, {"x": [1, {"y": 1}]}),
        ({"x": True, "y": "s"}, {"y": "s", "x": 1}),  # key order differs too
    ],
)
def test_bool_int_and_float_are_distinct_values_at_any_depth(old_value, new_value):
    # 1 and 1.0 (and 0.0 and -0.0) differ on purpose: values compare as their JSON text does,
    # so a diff is empty exactly when the content hashes are equal.
    old = definition(step("a", value=old_value), flag=old_value)
    new = definition(step("a", value=new_value), flag=new_value)
    diff = assert_replays(old, new)
    assert [c["field"] for c in diff.steps_modified[0]["changes"]] == ["value"]
    assert [c["field"] for c in diff.metadata_changes] == ["flag"]
    assert content_hash(old) != content_hash(new)


def test_empty_nested_steps_list_is_a_field_of_its_step():
    with_empty = definition(step("loop", steps=[], iterate_over="x"))
    without = definition(step("loop", iterate_over="x"))
    diff = assert_replays(without, with_empty)
    assert diff.steps_modified[0]["changes"] == [
        {"field": "steps", "old": None, "new": [], "change": "added"}
    ]
    assert_replays(with_empty, without)
    assert_replays(with_empty, definition(step("loop", step("child"), iterate_over="x")))


# --- content hash and snapshot ---------------------------------------------------------------


def test_content_hash_is_sha256_of_canonical_json_and_ignores_key_order():
    one = {"b": [1, {"y": "é", "x": None}], "a": True, "steps": []}
    other = {"steps": [], "a": True, "b": [1, {"x": None, "y": "é"}]}
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", content_hash(one))
    assert content_hash(one) == content_hash(other)
    assert content_hash(one) != content_hash({**one, "a": 1})


def test_content_hash_canonical_form_is_pinned():
    # The canonical form must never change, or every stored base_ref would look stale.
    canonical = '{"a":[1,2.5,null,false],"b":"é"}'.encode()
    expected = "sha256:" + hashlib.sha256(canonical).hexdigest()
    assert content_hash({"b": "é", "a": [1, 2.5, None, False]}) == expected


def test_snapshot_is_deep_independent_and_hashed():
    source = definition(step("loop", step("inner", inputs=[{"doc_type": "d"}])), tags=["a"])
    before = json.loads(json.dumps(source))
    copied, digest = snapshot(source)
    assert copied == source
    assert digest == content_hash(source)
    copied["tags"].append("b")
    copied["steps"][0]["steps"][0]["inputs"][0]["doc_type"] = "changed"
    assert source == before
    source["steps"][0]["steps"].append(step("other"))
    assert copied["steps"][0]["steps"][0]["inputs"] == [{"doc_type": "changed"}]
    assert len(copied["steps"][0]["steps"]) == 1


def test_replay_shares_nothing_with_its_inputs():
    old = definition(step("a", inputs=[{"d": 1}]), tags=["x"])
    new = definition(step("a", inputs=[{"d": 2}]), step("b", inputs=[{"d": 3}]), tags=["y"])
    diff = diff_definitions(old, new)
    rebuilt = replay(old, diff)
    rebuilt["tags"].append("z")
    rebuilt["steps"][0]["inputs"][0]["d"] = 9
    rebuilt["steps"][1]["inputs"].clear()
    assert new == definition(step("a", inputs=[{"d": 2}]), step("b", inputs=[{"d": 3}]), tags=["y"])
    assert replay(old, diff) == new


def test_replay_refuses_a_diff_that_does_not_apply():
    diff = diff_definitions(flat("a"), flat("a", "b"))
    unknown_step = {
        "step_id": "zz",
        "from_parent": None,
        "to_parent": None,
        "from_position": 0,
        "to_position": 0,
    }
    with pytest.raises(ValueError, match="does not apply"):
        replay(flat("a", "c"), WorkflowDiff(steps_moved=[unknown_step]))
    with pytest.raises(ValueError, match="does not apply"):
        replay(definition(), diff)  # position 1 of an empty list


# --- history ---------------------------------------------------------------------------------


def test_history_changes_come_one_per_kind_in_order_with_the_revision():
    old = definition(step("a", role="x"), step("b"), step("c"), step("d"), description="old")
    new = definition(step("b"), step("a", role="y"), step("new"), step("c"), description="new")
    diff = assert_replays(old, new)
    entries = history_changes(diff, 7)
    assert [kind for kind, _ in entries] == [
        "step_added",
        "step_removed",
        "step_reordered",
        "step_modified",
        "metadata_changed",
    ]
    assert all(detail["revision"] == 7 for _, detail in entries)
    details = dict(entries)
    assert details["step_added"]["steps"] == diff.steps_added
    assert details["step_removed"]["steps"] == diff.steps_removed
    assert details["step_reordered"]["steps"] == diff.steps_moved
    assert details["step_modified"]["steps"] == diff.steps_modified
    assert details["metadata_changed"]["changes"] == diff.metadata_changes


def test_history_changes_skip_kinds_that_did_not_happen():
    diff = diff_definitions(flat("a", "b"), flat("a"))
    assert history_changes(diff, 3) == [
        (
            "step_removed",
            {"revision": 3, "steps": [{"step_id": "b", "parent": None, "position": 1}]},
        )
    ]


# --- drift -----------------------------------------------------------------------------------

EMPTY_DRIFT = {
    "steps_added": [],
    "steps_removed": [],
    "steps_reordered": False,
    "steps_moved": [],
    "steps_modified": [],
    "step_moves": [],
    "step_changes": [],
    "metadata_changed": False,
    "metadata_changes": [],
}


def test_drift_of_a_fresh_snapshot_is_empty():
    source = definition(step("a", step("a1")), step("b"), description="d")
    effective, digest = snapshot(source)
    ref = {
        "workflow_id": "wf",
        "version": "1.0.0",
        "pow_class": "reference",
        "content_hash": digest,
    }
    assert drift(effective, source, ref, "1.0.0") == {
        "base_workflow_id": "wf",
        "base_version": "1.0.0",
        **EMPTY_DRIFT,
        "is_drifted": False,
        "source_available": True,
        "source_changed": False,
        "latest_version": "1.0.0",
    }


def test_drift_lists_step_ids_from_source_to_instance():
    source = definition(step("a"), step("b"), step("c"), step("gone"), description="d")
    effective = definition(
        step("c"), step("a", role="edited"), step("b"), step("mine"), description="e"
    )
    result = drift(effective, source, base_ref_for(source), "1.1.0")
    assert result["steps_added"] == ["mine"]
    assert result["steps_removed"] == ["gone"]
    assert result["steps_moved"] == ["c"]
    assert result["step_moves"] == [
        {
            "step_id": "c",
            "from_parent": None,
            "to_parent": None,
            "from_position": 2,
            "to_position": 0,
        }
    ]
    assert result["steps_reordered"] is True
    assert result["steps_modified"] == ["a"]
    assert result["step_changes"] == [
        {
            "step_id": "a",
            "changes": [{"field": "role", "old": None, "new": "edited", "change": "added"}],
        }
    ]
    assert result["metadata_changed"] is True
    assert result["metadata_changes"] == [
        {"field": "description", "old": "d", "new": "e", "change": "changed"}
    ]
    assert result["is_drifted"] is True
    assert result["source_changed"] is False
    assert result["latest_version"] == "1.1.0"
    json.dumps(result)  # the response is plain JSON


def test_drift_without_source_invents_nothing():
    source = definition(step("a"), step("b"))
    ref = base_ref_for(source)
    untouched = drift(snapshot(source)[0], None, ref, None)
    assert untouched == {
        "base_workflow_id": "wf",
        "base_version": "1.0.0",
        **EMPTY_DRIFT,
        "is_drifted": False,
        "source_available": False,
        "source_changed": False,
        "latest_version": None,
    }
    edited = drift(definition(step("b"), step("a")), None, ref, "2.0.0")
    assert edited == {**untouched, "is_drifted": True, "latest_version": "2.0.0"}


def test_drift_reports_a_source_edited_in_place_under_the_same_version():
    snapshotted = definition(step("a"), step("b"))
    effective, _ = snapshot(snapshotted)
    edited_source = definition(step("a"), step("b"), step("c"))
    result = drift(effective, edited_source, base_ref_for(snapshotted), "1.0.0")
    assert result["source_changed"] is True
    assert result["steps_removed"] == ["c"]  # measured against the source as it is now
    assert result["is_drifted"] is True


def test_drift_without_a_recorded_hash_claims_no_source_change():
    source = definition(step("a"))
    ref = {"workflow_id": "wf", "version": "1.0.0", "pow_class": "reference"}
    assert drift(source, definition(step("b")), ref, "1.0.0")["source_changed"] is False
    assert drift(definition(step("b")), None, ref, "1.0.0")["is_drifted"] is False


# --- iteration, not recursion ----------------------------------------------------------------


def chain(depth: int, leaf_field: str) -> dict[str, Any]:
    """Build a definition whose steps nest depth levels deep, built without recursion."""
    innermost = step(f"s{depth - 1}", note=leaf_field)
    for level in range(depth - 2, -1, -1):
        innermost = step(f"s{level}", innermost)
    return definition(innermost)


def test_diff_walks_deeper_trees_than_the_recursion_limit():
    depth = sys.getrecursionlimit() * 3
    old, new = chain(depth, "old"), chain(depth, "new")
    diff = diff_definitions(old, new)
    assert [e["step_id"] for e in diff.steps_modified] == [f"s{depth - 1}"]
    assert diff.steps_added == diff.steps_removed == diff.steps_moved == []
    # Re-nest the innermost step under the top one: one move, nothing else.
    innermost = new["steps"][0]
    while innermost["steps"][0].get("steps"):
        innermost = innermost["steps"][0]
    leaf = innermost.pop("steps")[0]
    new["steps"][0]["steps"].append(leaf)
    moved = diff_definitions(old, new).steps_moved
    assert [(m["step_id"], m["to_parent"], m["to_position"]) for m in moved] == [
        (f"s{depth - 1}", "s0", 1)
    ]
