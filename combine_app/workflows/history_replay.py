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

import copy
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from combine_app.workflows.diff import (
    ADDED,
    REMOVED,
    STEP_ID,
    STEPS,
    WorkflowDiff,
    _fill,
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
    working = _Working(definition)
    replayed = 0
    for entries in revisions:
        diff = diff_of_entries(entries)
        if diff is not None:
            working.apply(diff)
            replayed += 1
    return working.definition, replayed


class _Working:
    """A private copy of a definition, indexed by step_id, that diffs are applied to in place."""

    def __init__(self, definition: Mapping[str, Any]) -> None:
        self.definition: dict[str, Any] = json.loads(json.dumps(definition, ensure_ascii=False))
        self.definition[STEPS] = self.definition.get(STEPS) or []
        # step_id -> (the step, its parent's step_id or None)
        self.at: dict[str, tuple[dict[str, Any], str | None]] = {}
        pending: list[tuple[str | None, list[Any]]] = [(None, self.definition[STEPS])]
        while pending:
            parent, steps = pending.pop()
            for step in steps:
                self.at[step[STEP_ID]] = (step, parent)
                nested = step.get(STEPS)
                if isinstance(nested, list) and nested:
                    pending.append((step[STEP_ID], nested))

    def children(self, parent: str | None) -> list[Any]:
        """The steps now under ``parent`` (the top level for None)."""
        if parent is None:
            return self.definition[STEPS]
        nested = self.at[parent][0].get(STEPS)
        return nested if isinstance(nested, list) else []

    def apply(self, diff: WorkflowDiff) -> None:
        """Apply one save's diff, as ``diff.replay`` would, touching only what it names."""
        leaving = {entry[STEP_ID] for entry in diff.steps_removed}
        leaving.update(entry[STEP_ID] for entry in diff.steps_moved)
        placed: dict[str | None, list[tuple[int, str]]] = {}
        for entry in diff.steps_added:
            placed.setdefault(entry["parent"], []).append((entry["position"], entry[STEP_ID]))
        for entry in diff.steps_moved:
            placed.setdefault(entry["to_parent"], []).append((entry["to_position"], entry[STEP_ID]))
        touched = set(placed)
        for step_id in leaving:
            if step_id not in self.at:
                raise ValueError(f"diff does not apply: no step {step_id!r}")
            touched.add(self.at[step_id][1])
        for entry in diff.steps_added:
            self.at[entry[STEP_ID]] = ({**entry["step"], STEP_ID: entry[STEP_ID]}, None)
        # New sibling lists of every parent the save touched, from the lists as they are now.
        layouts = {}
        for parent in touched:
            if parent is not None and parent not in self.at:
                raise ValueError(f"diff does not apply: no step {parent!r}")
            staying = [step[STEP_ID] for step in self.children(parent)]
            layouts[parent] = _fill(
                placed.get(parent, []), [sid for sid in staying if sid not in leaving]
            )
        for entry in diff.steps_removed:
            del self.at[entry[STEP_ID]]
        for parent, child_ids in layouts.items():
            if parent is not None and parent in self.at and not child_ids:
                node = self.at[parent][0]
                if _is_structure(node.get(STEPS)):
                    del node[STEPS]  # its nested steps all left (an empty list is a field)
        for entry in diff.steps_modified:
            _apply_field_changes(self._step(entry[STEP_ID]), entry["changes"])
        _apply_field_changes(self.definition, diff.metadata_changes)
        for parent, child_ids in layouts.items():
            if parent is not None and parent not in self.at:
                if child_ids:
                    raise ValueError(f"diff does not apply: no step {parent!r}")
                continue
            nodes = [self._step(child) for child in child_ids]
            for child in child_ids:
                self.at[child] = (self.at[child][0], parent)
            if parent is None:
                self.definition[STEPS] = nodes
            elif nodes:
                self.at[parent][0][STEPS] = nodes

    def _step(self, step_id: str) -> dict[str, Any]:
        try:
            return self.at[step_id][0]
        except KeyError:
            raise ValueError(f"diff does not apply: no step {step_id!r}") from None


def _is_structure(value: Any) -> bool:
    return isinstance(value, list) and bool(value)


def _apply_field_changes(target: dict[str, Any], changes: Iterable[Mapping[str, Any]]) -> None:
    """Set or drop fields as the changes say (values are not shared: the tree is private)."""
    for change in changes:
        if change["change"] == REMOVED:
            target.pop(change["field"], None)
        else:
            target[change["field"]] = copy.deepcopy(change["new"])


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
