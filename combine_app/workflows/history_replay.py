"""Rebuild an instance's definitions from its history entries, forwards and backwards: pure.

A save's history entries hold its whole diff (added steps with their fields and place, removed
steps by place, moves with both places, field changes with old and new values), so the entries
of one revision turn back into the ``WorkflowDiff`` that produced it, and ``diff.replay`` rebuilds
the definition after it from the one before. Undoing a save needs one thing more: the fields of
the steps it removed, which the entries do not hold; a caller names definitions that may hold
them, and a rebuilt definition is trusted only when its content hash matches a recorded one.

No session, no Flask, no models: the migrations import this module.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from combine_app.workflows.diff import (
    ADDED,
    REMOVED,
    STEP_ID,
    STEPS,
    Replay,
    WorkflowDiff,
    content_hash,
    replay,
)

# change_type -> (the detail's list key, the WorkflowDiff field it fills)
DIFF_ENTRY_KINDS: dict[str, tuple[str, str]] = {
    "step_added": ("steps", "steps_added"),
    "step_removed": ("steps", "steps_removed"),
    "step_reordered": ("steps", "steps_moved"),
    "step_modified": ("steps", "steps_modified"),
    "metadata_changed": ("changes", "metadata_changes"),
}

Entry = tuple[str, Mapping[str, Any] | None]  # (change_type, change_detail)


class UnknownStep(LookupError):
    """Undoing a save needs the fields of a step it removed, and no definition given has it."""


def diff_of_entries(entries: Iterable[Entry]) -> WorkflowDiff | None:
    """The diff one revision's entries record; None when they change no definition.

    ``created``, ``status_changed`` and any other kind of entry leave the definition as it was.
    """
    parts: dict[str, list[dict[str, Any]]] = {}
    for change_type, detail in entries:
        kind = DIFF_ENTRY_KINDS.get(change_type)
        if kind is None or not detail:
            continue
        key, diff_field = kind
        parts.setdefault(diff_field, []).extend(detail.get(key) or [])
    return WorkflowDiff(**parts) if parts else None


def inverted(diff: WorkflowDiff, removed_fields: Mapping[str, Mapping[str, Any]]) -> WorkflowDiff:
    """The diff that undoes ``diff``: applied to its result, it gives back what it started from.

    ``removed_fields`` maps step_id to the own fields (without nested steps) of the steps the
    diff removed; a removed step missing there raises ``UnknownStep``.
    """
    restored = []
    for entry in diff.steps_removed:
        step_id = entry[STEP_ID]
        if step_id not in removed_fields:
            raise UnknownStep(step_id)
        step = {key: value for key, value in removed_fields[step_id].items() if key != STEP_ID}
        restored.append(
            {
                STEP_ID: step_id,
                "parent": entry["parent"],
                "position": entry["position"],
                "step": step,
            }
        )
    return WorkflowDiff(
        steps_added=restored,
        steps_removed=[
            {STEP_ID: entry[STEP_ID], "parent": entry["parent"], "position": entry["position"]}
            for entry in diff.steps_added
        ],
        steps_moved=[
            {
                STEP_ID: entry[STEP_ID],
                "from_parent": entry["to_parent"],
                "to_parent": entry["from_parent"],
                "from_position": entry["to_position"],
                "to_position": entry["from_position"],
            }
            for entry in diff.steps_moved
        ],
        steps_modified=[
            {STEP_ID: entry[STEP_ID], "changes": _inverted_changes(entry["changes"])}
            for entry in diff.steps_modified
        ],
        metadata_changes=_inverted_changes(diff.metadata_changes),
    )


def replay_revisions(
    definition: Mapping[str, Any], revisions: Iterable[Sequence[Entry]]
) -> tuple[dict[str, Any], int]:
    """Apply each revision's entries in order; return the result and how many saves replayed.

    The result equals replaying each save with ``diff.replay`` (tests hold the two together),
    but the definition is copied once and each save touches only the steps and sibling lists
    it names: a save of a 1,000-step workflow costs microseconds, not a full rebuild.
    """
    working = Replay(definition)
    replayed = 0
    for entries in revisions:
        diff = diff_of_entries(entries)
        if diff is not None:
            working.apply(diff)
            replayed += 1
    return working.definition, replayed


def undo_to_base(
    current: Mapping[str, Any],
    revisions_newest_first: Iterable[Sequence[Entry]],
    base_hash: str,
    donors: Iterable[Mapping[str, Any]] = (),
) -> dict[str, Any] | None:
    """The definition before every given revision, or None when it cannot be known for certain.

    Undoes the saves from the newest back, taking removed steps' fields from ``donors`` (a step
    that one of the revisions added goes again when its addition is undone, so the fields it
    was added with serve as well as any). The result counts only when its content hash is
    ``base_hash``: anything else is a guess.
    """
    revisions = [list(entries) for entries in revisions_newest_first]
    fields = _own_fields_by_id(donors)
    for entries in revisions:
        for change_type, detail in entries:
            if change_type == "step_added" and detail:
                for added in detail.get("steps") or []:
                    fields.setdefault(added[STEP_ID], added["step"])
    definition = dict(current)
    try:
        for entries in revisions:
            diff = diff_of_entries(entries)
            if diff is not None:
                definition = replay(definition, inverted(diff, fields))
    except (UnknownStep, ValueError, KeyError, TypeError):
        return None  # the entries do not undo cleanly: the base cannot be known from them
    return definition if content_hash(definition) == base_hash else None


def _inverted_changes(changes: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    swapped = {ADDED: REMOVED, REMOVED: ADDED}
    return [
        {
            "field": change["field"],
            "old": change["new"],
            "new": change["old"],
            "change": swapped.get(change["change"], change["change"]),
        }
        for change in changes
    ]


def _own_fields_by_id(definitions: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Every step of the definitions by step_id, without its nested steps (first one wins)."""
    found: dict[str, dict[str, Any]] = {}
    for definition in definitions:
        pending = list(definition.get(STEPS) or [])
        while pending:
            step = pending.pop()
            if not isinstance(step, Mapping) or STEP_ID not in step:
                continue
            nested = step.get(STEPS)
            if isinstance(nested, list) and nested:
                pending.extend(nested)
                own = {key: value for key, value in step.items() if key != STEPS}
            else:
                own = dict(step)
            found.setdefault(step[STEP_ID], own)
    return found
