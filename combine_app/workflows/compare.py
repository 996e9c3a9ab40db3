"""Comparing two definitions in drift's words, and applying a comparison again: pure.

A comparison carries drift's step and metadata fields (ids in ``steps_added``, ``steps_removed``,
``steps_moved`` and ``steps_modified``; entries in ``step_moves``, ``step_changes`` and
``metadata_changes``) and, so that it can be applied, ``step_additions`` (each added step with
its place and fields) and ``step_removals`` (each removed step's place).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from combine_app.workflows.diff import WorkflowDiff, change_fields, diff_definitions


def comparison(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """What changed from ``old`` to ``new``, in the fields of a compare response."""
    diff = diff_definitions(old, new)
    return {
        **change_fields(diff),
        "step_additions": diff.steps_added,
        "step_removals": diff.steps_removed,
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
