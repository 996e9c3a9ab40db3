"""Comparing two definitions in drift's words, and applying a comparison again: pure.

A comparison carries drift's step and metadata fields (ids in ``steps_added``, ``steps_removed``,
``steps_moved`` and ``steps_modified``; entries in ``step_moves``, ``step_changes`` and
``metadata_changes``) and, so that it can be applied, ``step_additions`` (each added step with
its place and fields) and ``step_removals`` (each removed step's place).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from combine_app.workflows.diff import STEP_ID, WorkflowDiff, diff_definitions


def comparison(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """What changed from ``old`` to ``new``, in the fields of a compare response."""
    diff = diff_definitions(old, new)
    return {
        "steps_added": [entry[STEP_ID] for entry in diff.steps_added],
        "step_additions": diff.steps_added,
        "steps_removed": [entry[STEP_ID] for entry in diff.steps_removed],
        "step_removals": diff.steps_removed,
        "steps_reordered": diff.steps_reordered,
        "steps_moved": [entry[STEP_ID] for entry in diff.steps_moved],
        "step_moves": diff.steps_moved,
        "steps_modified": [entry[STEP_ID] for entry in diff.steps_modified],
        "step_changes": diff.steps_modified,
        "metadata_changed": bool(diff.metadata_changes),
        "metadata_changes": diff.metadata_changes,
        "is_same": diff.is_empty,
    }


def diff_of_comparison(fields: Mapping[str, Any]) -> WorkflowDiff:
    """The diff a comparison describes, ready for ``diff.replay``."""
    return WorkflowDiff(
        steps_added=list(fields["step_additions"]),
        steps_removed=list(fields["step_removals"]),
        steps_moved=list(fields["step_moves"]),
        steps_modified=list(fields["step_changes"]),
        metadata_changes=list(fields["metadata_changes"]),
    )
