"""The diff on the real revision series of TheCombine's release files, checked pair by pair."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from combine_app.workflows.diff import (
    WorkflowDiff,
    content_hash,
    diff_definitions,
    drift,
    replay,
    snapshot,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
SERIES_DIR = REPO_ROOT.parent / "shared" / "fixtures" / "thecombine"
SKIP_REASON = (
    "../shared/fixtures not found: tests on the real revision series are skipped in a clone "
    "without ../shared"
)
SPD = "software_product_development"
INTAKE = "intake_and_route"


@dataclass(frozen=True)
class Expected:
    """The hand-checked diff of one consecutive pair; positions are (parent, index)."""

    added: list[tuple[str, str | None, int]] = field(default_factory=list)
    removed: list[tuple[str, str | None, int]] = field(default_factory=list)
    moved: list[tuple[str, str | None, str | None, int, int]] = field(default_factory=list)
    modified: dict[str, dict[str, str]] = field(default_factory=dict)  # step -> field -> change
    metadata: dict[str, str] = field(default_factory=dict)  # field -> change


# Each pair read side by side in the JSON (sorted-key dumps, diffed by hand). NN orders revisions.
EXPECTED: dict[tuple[str, str, str], Expected] = {
    # POW classification fields arrive (schema v2), dates and revision bumped; steps untouched.
    (SPD, "01", "02"): Expected(
        metadata={
            "derived_from": "added",
            "effective_date": "changed",
            "pow_class": "added",
            "revision": "changed",
            "schema_version": "changed",
            "source_version": "added",
            "tags": "added",
        }
    ),
    # The primary plan's document type is renamed: its producer and its consumer change.
    (SPD, "02", "03"): Expected(
        modified={
            "primary_plan": {"produces": "changed"},
            "technical_architecture": {"inputs": "changed"},
        }
    ),
    # ... and renamed back (revision 06 has the same content as 02).
    (SPD, "03", "06"): Expected(
        modified={
            "primary_plan": {"produces": "changed"},
            "technical_architecture": {"inputs": "changed"},
        }
    ),
    # The reorder: implementation_plan now comes before technical_architecture, and their inputs
    # are rewired to match. One move explains the order.
    (SPD, "06", "08"): Expected(
        moved=[("implementation_plan", None, None, 3, 2)],
        modified={
            "implementation_plan": {"inputs": "changed"},
            "technical_architecture": {"inputs": "changed"},
        },
    ),
    # Epics become work packages: the iteration step is renamed with its nested step, so both
    # are removed and added (matching is by step_id); scopes and types sections are rewritten.
    (SPD, "08", "09"): Expected(
        added=[
            ("per_work_package", None, 4),
            ("work_statement_decomposition", "per_work_package", 0),
        ],
        removed=[("per_epic", None, 4), ("feature_decomposition", "per_epic", 0)],
        modified={"implementation_plan": {"creates_entities": "changed"}},
        metadata={
            "description": "changed",
            "document_types": "changed",
            "effective_date": "changed",
            "entity_types": "changed",
            "revision": "changed",
            "scopes": "changed",
        },
    ),
    # The primary plan's type is renamed again, in document_types and in every step using it.
    (SPD, "09", "10"): Expected(
        modified={
            "primary_plan": {"produces": "changed"},
            "implementation_plan": {"inputs": "changed"},
            "technical_architecture": {"inputs": "changed"},
        },
        metadata={"document_types": "changed"},
    ),
    # Only a display name inside document_types.
    (SPD, "10", "11"): Expected(metadata={"document_types": "changed"}),
    # Pipeline restructured: primary_plan removed, work_package_creation added before the loop,
    # execution_mode added on every remaining top-level step. Nobody else moves.
    (SPD, "11", "12"): Expected(
        added=[("work_package_creation", None, 3)],
        removed=[("primary_plan", None, 1)],
        modified={
            "discovery": {"execution_mode": "added"},
            "implementation_plan": {
                "creates_entities": "removed",
                "execution_mode": "added",
                "inputs": "changed",
            },
            "technical_architecture": {"execution_mode": "added", "inputs": "changed"},
            "per_work_package": {"execution_mode": "added", "iterate_over": "changed"},
        },
        metadata={
            "description": "changed",
            "document_types": "changed",
            "effective_date": "changed",
            "entity_types": "changed",
            "revision": "changed",
        },
    ),
    # document_types becomes produced_artifacts; validate_route and the end step are inserted
    # (inserting does not reorder the others); every original step is rewritten to artifacts.
    (INTAKE, "01", "02"): Expected(
        added=[("validate_route", None, 3), ("end", None, 5)],
        modified={
            "intake": {"description": "changed", "produces": "changed"},
            "route_selection": {"config": "changed", "inputs": "changed", "produces": "changed"},
            "confirm_route": {"condition": "changed", "inputs": "changed", "produces": "changed"},
            "spawn_pow": {
                "config": "changed",
                "description": "changed",
                "inputs": "changed",
                "produces": "changed",
            },
        },
        metadata={
            "document_types": "removed",
            "produced_artifacts": "added",
            "revision": "changed",
        },
    ),
    # The intake step's output becomes a plain name (key order in the file changes too: ignored).
    (INTAKE, "02", "03"): Expected(modified={"intake": {"produces": "changed"}}),
    # The intake artifact is renamed in produced_artifacts and in the steps that read it.
    (INTAKE, "03", "04"): Expected(
        modified={
            "route_selection": {"config": "changed", "inputs": "changed"},
            "spawn_pow": {"config": "changed", "inputs": "changed"},
        },
        metadata={"produced_artifacts": "changed", "revision": "changed"},
    ),
    # The intake step's output is emptied.
    (INTAKE, "04", "05"): Expected(modified={"intake": {"produces": "changed"}}),
}


def revisions(workflow: str) -> dict[str, Path]:
    """Map NN to the revision file of one workflow, in NN order (skip when the data is absent)."""
    if not SERIES_DIR.is_dir():
        pytest.skip(SKIP_REASON)
    files = {path.name.split("__")[2][:2]: path for path in SERIES_DIR.glob(f"{workflow}__*.json")}
    return dict(sorted(files.items(), key=lambda item: int(item[0])))


def load(workflow: str, number: str) -> dict[str, Any]:
    """Read one revision (some files start with a UTF-8 byte-order mark)."""
    return json.loads(revisions(workflow)[number].read_text(encoding="utf-8-sig"))


def summary(diff: WorkflowDiff) -> Expected:
    """Reduce a diff to what the hand-checked table states."""
    return Expected(
        added=[(e["step_id"], e["parent"], e["position"]) for e in diff.steps_added],
        removed=[(e["step_id"], e["parent"], e["position"]) for e in diff.steps_removed],
        moved=[
            (m["step_id"], m["from_parent"], m["to_parent"], m["from_position"], m["to_position"])
            for m in diff.steps_moved
        ],
        modified={
            e["step_id"]: {c["field"]: c["change"] for c in e["changes"]}
            for e in diff.steps_modified
        },
        metadata={c["field"]: c["change"] for c in diff.metadata_changes},
    )


PAIRS = sorted(EXPECTED)


@pytest.mark.parametrize("workflow", [SPD, INTAKE])
def test_every_consecutive_pair_of_the_series_has_a_hand_checked_expectation(workflow):
    numbers = list(revisions(workflow))
    consecutive = {(workflow, a, b) for a, b in itertools.pairwise(numbers)}
    assert consecutive == {pair for pair in EXPECTED if pair[0] == workflow}


@pytest.mark.parametrize(("workflow", "old_nn", "new_nn"), PAIRS, ids=["-".join(p) for p in PAIRS])
def test_real_revision_pair_diff_is_exactly_what_was_edited(workflow, old_nn, new_nn):
    old, new = load(workflow, old_nn), load(workflow, new_nn)
    diff = diff_definitions(old, new)
    actual = summary(diff)
    expected = EXPECTED[(workflow, old_nn, new_nn)]
    assert actual == expected
    # Order matters too: modified steps in new document order.
    assert list(actual.modified) == list(expected.modified)
    assert diff.steps_reordered == bool(expected.moved)


@pytest.mark.parametrize(("workflow", "old_nn", "new_nn"), PAIRS, ids=["-".join(p) for p in PAIRS])
def test_real_revision_pair_replays_exactly(workflow, old_nn, new_nn):
    old, new = load(workflow, old_nn), load(workflow, new_nn)
    assert replay(old, diff_definitions(old, new)) == new
    assert replay(new, diff_definitions(new, old)) == old


@pytest.mark.parametrize(("workflow", "old_nn", "new_nn"), PAIRS, ids=["-".join(p) for p in PAIRS])
def test_in_place_edit_of_a_release_shows_as_source_changed(workflow, old_nn, new_nn):
    # The series is one release file (same version) edited in place: an instance snapshotted
    # from the old content sees the source changed, and its drift is measured against the new.
    old, new = load(workflow, old_nn), load(workflow, new_nn)
    effective, digest = snapshot(old)
    ref = {
        "workflow_id": workflow,
        "version": "1.0.0",
        "pow_class": "reference",
        "content_hash": digest,
    }
    fresh = drift(effective, old, ref, "1.0.0")
    assert fresh["is_drifted"] is False and fresh["source_changed"] is False
    later = drift(effective, new, ref, "1.0.0")
    assert later["source_changed"] is True
    assert later["is_drifted"] is True
    expected = EXPECTED[(workflow, old_nn, new_nn)]  # source (new) -> instance (old): inverted
    assert later["steps_added"] == [step_id for step_id, *_ in expected.removed]
    assert sorted(later["steps_removed"]) == sorted(step_id for step_id, *_ in expected.added)
    assert sorted(later["steps_modified"]) == sorted(expected.modified)
    assert {c["field"] for c in later["metadata_changes"]} == set(expected.metadata)


def test_a_rename_and_its_revert_cancel_out():
    assert content_hash(load(SPD, "02")) == content_hash(load(SPD, "06"))
    forward = diff_definitions(load(SPD, "02"), load(SPD, "03"))
    back = diff_definitions(load(SPD, "03"), load(SPD, "06"))
    assert [
        {
            "step_id": e["step_id"],
            "changes": [{**c, "old": c["new"], "new": c["old"]} for c in e["changes"]],
        }
        for e in forward.steps_modified
    ] == back.steps_modified
    assert diff_definitions(load(SPD, "02"), load(SPD, "06")).is_empty


def test_the_whole_series_replays_from_its_first_revision():
    for workflow in (SPD, INTAKE):
        numbers = list(revisions(workflow))
        current = load(workflow, numbers[0])
        for number in numbers[1:]:
            target = load(workflow, number)
            current = replay(current, diff_definitions(current, target))
            assert current == target
