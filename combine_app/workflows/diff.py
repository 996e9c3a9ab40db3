"""Structural diff, replay, history entries and drift of workflow definitions: pure functions."""

from __future__ import annotations

import copy
import hashlib
import json
import marshal
from bisect import bisect_left
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from combine_app.definition.tree import (
    STEP_ID,
    STEPS,
    UNLIMITED,
    nested_steps,
    own_fields,
    placements,
    walk,
)

# Values are compared the way their canonical JSON texts compare: key order never matters, and
# True != 1 and 1 != 1.0 at any depth. So a diff is empty exactly when the content hashes match.
# NaN is not JSON and is not supported (it never equals itself).
#
# Steps are matched by step_id across the whole tree. A non-empty `steps` list on a step is
# structure (its nested steps); an empty `steps` list carries no steps and is compared as an
# ordinary field of its step, so that replay can reproduce it exactly.

HASH_PREFIX = "sha256:"
CHANGED = "changed"
ADDED = "added"
REMOVED = "removed"
_NOT_METADATA = frozenset({STEPS})
_NOT_STEP_FIELDS = frozenset({STEP_ID})

Step = dict[str, Any]
# Where a step sits: its parent's step_id (None at top level), its index there, the step itself.
Placement = tuple[str | None, int, Mapping[str, Any]]


# Entries hold the compared definitions' own values, not copies: serialize them, do not mutate.
@dataclass(frozen=True)
class WorkflowDiff:
    """What changed from one definition to another, steps matched by step_id."""

    steps_added: list[dict[str, Any]] = field(default_factory=list)
    steps_removed: list[dict[str, Any]] = field(default_factory=list)
    steps_moved: list[dict[str, Any]] = field(default_factory=list)
    steps_modified: list[dict[str, Any]] = field(default_factory=list)
    metadata_changes: list[dict[str, Any]] = field(default_factory=list)

    @property
    def steps_reordered(self) -> bool:
        """Whether any step moved (to another parent or within its parent)."""
        return bool(self.steps_moved)

    @property
    def is_empty(self) -> bool:
        """Whether the two definitions are the same."""
        return not (
            self.steps_added
            or self.steps_removed
            or self.steps_moved
            or self.steps_modified
            or self.metadata_changes
        )


def content_hash(definition: Mapping[str, Any]) -> str:
    """Return "sha256:" and the hex digest of the definition's canonical JSON."""
    canonical = json.dumps(definition, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return HASH_PREFIX + hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def snapshot(definition: Mapping[str, Any]) -> tuple[dict[str, Any], str]:
    """Return a deep copy of the definition, independent of it, and the copy's content hash."""
    copied = json.loads(json.dumps(definition, ensure_ascii=False))
    return copied, content_hash(copied)


def diff_definitions(old: Mapping[str, Any], new: Mapping[str, Any]) -> WorkflowDiff:
    """Compare two definitions in O(n log n) steps: added, removed, moved, modified, metadata."""
    old_order, old_at = _index(old)
    new_order, new_at = _index(new)
    return WorkflowDiff(
        steps_added=[_added_entry(sid, new_at[sid]) for sid in new_order if sid not in old_at],
        steps_removed=[_removed_entry(sid, old_at[sid]) for sid in old_order if sid not in new_at],
        steps_moved=_moves(new_order, old_at, new_at),
        steps_modified=_modifications(new_order, old_at, new_at),
        metadata_changes=_field_changes(old, new, _NOT_METADATA),
    )


def replay(old: Mapping[str, Any], diff: WorkflowDiff) -> dict[str, Any]:
    """Apply a diff to the old definition and return the new one, sharing nothing with either."""
    working = Replay(old)
    working.apply(diff)
    return working.definition


def history_changes(diff: WorkflowDiff, revision: int) -> list[tuple[str, dict[str, Any]]]:
    """Return one (change_type, change_detail) per kind of change in the diff, in a fixed order."""
    kinds = (
        ("step_added", "steps", diff.steps_added),
        ("step_removed", "steps", diff.steps_removed),
        ("step_reordered", "steps", diff.steps_moved),
        ("step_modified", "steps", diff.steps_modified),
        ("metadata_changed", "changes", diff.metadata_changes),
    )
    return [(kind, {"revision": revision, key: items}) for kind, key, items in kinds if items]


def drift(
    effective: Mapping[str, Any],
    source: Mapping[str, Any] | None,
    base_ref: Mapping[str, Any],
    latest_version: str | None,
    *,
    diff: WorkflowDiff | None = None,
) -> dict[str, Any]:
    """Build the DriftResponse of an instance against its source (None: source not loadable).

    ``diff`` is ``diff_definitions(source, effective)`` when the caller has computed it already.
    """
    # A base_ref without a recorded hash cannot tell whether anything changed: report no change.
    recorded = base_ref.get("content_hash")
    if source is None:
        diff = WorkflowDiff()
        is_drifted = recorded is not None and content_hash(effective) != recorded
        source_changed = False
    else:
        diff = diff if diff is not None else diff_definitions(source, effective)
        is_drifted = not diff.is_empty
        source_changed = recorded is not None and content_hash(source) != recorded
    return {
        "base_workflow_id": base_ref["workflow_id"],
        "base_version": base_ref["version"],
        **change_fields(diff),
        "is_drifted": is_drifted,
        "source_available": source is not None,
        "source_changed": source_changed,
        "latest_version": latest_version,
    }


def change_fields(diff: WorkflowDiff) -> dict[str, Any]:
    """A diff in the fields drift and compare both answer with: the step_ids of each kind of
    change, the moves and field changes in full, and the metadata changes."""
    return {
        "steps_added": _step_ids(diff.steps_added),
        "steps_removed": _step_ids(diff.steps_removed),
        "steps_reordered": diff.steps_reordered,
        "steps_moved": _step_ids(diff.steps_moved),
        "step_moves": diff.steps_moved,
        "steps_modified": _step_ids(diff.steps_modified),
        "step_changes": diff.steps_modified,
        "metadata_changed": bool(diff.metadata_changes),
        "metadata_changes": diff.metadata_changes,
    }


def step_placements(definition: Mapping[str, Any]) -> dict[str, Placement]:
    """Where every step of the definition sits, by step_id (the diff's own walk of the tree)."""
    return _index(definition)[1]


def _index(definition: Mapping[str, Any]) -> tuple[list[str], dict[str, Placement]]:
    """The step_ids in document order and where each sits (``tree.placements``)."""
    return placements(definition.get(STEPS))


def _compared_fields(step: Mapping[str, Any]) -> Mapping[str, Any]:
    """Return the step's own fields for comparison, without a copy when it has no nested steps."""
    return own_fields(step) if nested_steps(step.get(STEPS)) else step


def _added_entry(step_id: str, placement: Placement) -> dict[str, Any]:
    """Describe an added step: where it sits in the new definition and its own fields."""
    parent, position, step = placement
    return {"step_id": step_id, "parent": parent, "position": position, "step": own_fields(step)}


def _removed_entry(step_id: str, placement: Placement) -> dict[str, Any]:
    """Describe a removed step by where it sat in the old definition."""
    parent, position, _ = placement
    return {"step_id": step_id, "parent": parent, "position": position}


def _moves(
    new_order: list[str], old_at: dict[str, Placement], new_at: dict[str, Placement]
) -> list[dict[str, Any]]:
    """Find a smallest set of moved steps, in new document order."""
    moved: set[str] = set()
    siblings: dict[str | None, tuple[list[str], list[int]]] = {}
    for step_id in new_order:
        before = old_at.get(step_id)
        if before is None:
            continue
        parent = new_at[step_id][0]
        if before[0] != parent:
            moved.add(step_id)
            continue
        ids, old_positions = siblings.setdefault(parent, ([], []))
        ids.append(step_id)
        old_positions.append(before[1])
    for ids, old_positions in siblings.values():
        if old_positions == sorted(old_positions):  # the usual case, at C speed: no move here
            continue
        kept = _longest_increasing(old_positions)
        moved.update(step_id for step_id, keep in zip(ids, kept, strict=True) if not keep)
    return [_move_entry(sid, old_at[sid], new_at[sid]) for sid in new_order if sid in moved]


def _longest_increasing(values: list[int]) -> list[bool]:
    """Mark one longest strictly increasing subsequence of values (patience sorting)."""
    # Ties go to the run with the smallest tails: in a swap of two neighbours, the step that
    # went forward is the one reported as moved.
    tails: list[int] = []  # tails[k]: smallest last value of an increasing run of length k + 1
    tail_index: list[int] = []  # where in values that last value is
    previous = [-1] * len(values)
    for i, value in enumerate(values):
        length = bisect_left(tails, value)
        if length == len(tails):
            tails.append(value)
            tail_index.append(i)
        else:
            tails[length] = value
            tail_index[length] = i
        previous[i] = tail_index[length - 1] if length else -1
    kept = [False] * len(values)
    i = tail_index[-1] if tail_index else -1
    while i >= 0:
        kept[i] = True
        i = previous[i]
    return kept


def _move_entry(step_id: str, before: Placement, after: Placement) -> dict[str, Any]:
    """Describe a moved step by its old and new parent and position."""
    return {
        "step_id": step_id,
        "from_parent": before[0],
        "to_parent": after[0],
        "from_position": before[1],
        "to_position": after[1],
    }


def _modifications(
    new_order: list[str], old_at: dict[str, Placement], new_at: dict[str, Placement]
) -> list[dict[str, Any]]:
    """List the kept steps whose own fields changed, in new document order."""
    suspects: dict[str, tuple[Mapping[str, Any], Mapping[str, Any]]] = {}
    equal: list[tuple[str, Mapping[str, Any], Mapping[str, Any]]] = []
    for step_id in new_order:
        before = old_at.get(step_id)
        if before is None:
            continue
        old_step, new_step = before[2], new_at[step_id][2]
        if STEPS in old_step or STEPS in new_step:  # compare own fields, not the children
            old_step, new_step = _compared_fields(old_step), _compared_fields(new_step)
        # Most steps are untouched: one C-speed comparison settles them...
        if old_step == new_step:
            equal.append((step_id, old_step, new_step))
        else:
            suspects[step_id] = (old_step, new_step)
    # ...except that == takes True for 1 and 1 for 1.0: one pass over all of them tells.
    if equal and not _same_text([pair[1] for pair in equal], [pair[2] for pair in equal]):
        for step_id, old_step, new_step in equal:
            if not _same_text(old_step, new_step):
                suspects[step_id] = (old_step, new_step)
    modified = []
    for step_id in new_order:
        if step_id in suspects:
            changes = _field_changes(*suspects[step_id], _NOT_STEP_FIELDS)
            if changes:
                modified.append({"step_id": step_id, "changes": changes})
    return modified


def _field_changes(
    old: Mapping[str, Any], new: Mapping[str, Any], skip: frozenset[str]
) -> list[dict[str, Any]]:
    """Compare two mappings field by field, sorted by field name."""
    changes = []
    for name, value in old.items():
        if name in skip:
            continue
        if name not in new:
            changes.append({"field": name, "old": value, "new": None, "change": REMOVED})
        elif not _same(value, new[name]):
            changes.append({"field": name, "old": value, "new": new[name], "change": CHANGED})
    for name, value in new.items():
        if name not in old and name not in skip:
            changes.append({"field": name, "old": None, "new": value, "change": ADDED})
    if len(changes) > 1:
        changes.sort(key=itemgetter("field"))
    return changes


def _same(a: Any, b: Any) -> bool:
    """Tell whether two JSON values have the same canonical JSON text."""
    if a is b:
        return True
    if a != b:
        return False
    return type(a) is str or _same_text(a, b)


def _same_text(a: Any, b: Any) -> bool:
    """Given a == b, tell whether the canonical JSON texts are equal too.

    marshal (C speed) tells True from 1, 1 from 1.0 and 0.0 from -0.0; its bytes differ also
    when only key order differs, and then the walk decides. Format 2 writes no back-references,
    so equal values built separately give equal bytes.
    """
    try:
        if marshal.dumps(a, 2) == marshal.dumps(b, 2):
            return True
    except ValueError:  # nested deeper than marshal goes: the walk has no depth limit
        pass
    return _same_kinds(a, b)


def _same_kinds(a: Any, b: Any) -> bool:
    """Given a == b, check that no bool, int or float was equated with another kind inside."""
    pending = [(a, b)]
    while pending:
        x, y = pending.pop()
        if isinstance(x, dict):
            pending.extend((x[key], y[key]) for key in x)
        elif isinstance(x, list):
            pending.extend(zip(x, y, strict=True))
        elif type(x) is not type(y) or (type(x) is float and repr(x) != repr(y)):
            return False  # True == 1, 1 == 1.0 and 0.0 == -0.0 in Python, not in JSON text
    return True


class Replay:
    """A private copy of a definition, indexed by step_id, that diffs are applied to in place.

    The one replay: ``replay`` applies one diff with it, and the history applies a run of
    saves to one copy (``history_replay``)."""

    def __init__(self, definition: Mapping[str, Any]) -> None:
        self.definition: dict[str, Any] = json.loads(json.dumps(definition, ensure_ascii=False))
        self.definition[STEPS] = self.definition.get(STEPS) or []
        # step_id -> (the step, its parent's step_id or None)
        self.at: dict[str, tuple[dict[str, Any], str | None]] = {
            step[STEP_ID]: (step, None if parent is None else parent[STEP_ID])
            for _, parent, step in walk(self.definition[STEPS], max_depth=UNLIMITED)
        }

    def children(self, parent: str | None) -> list[Any]:
        """The steps now under ``parent`` (the top level for None)."""
        if parent is None:
            return self.definition[STEPS]
        nested = self.at[parent][0].get(STEPS)
        return nested if isinstance(nested, list) else []

    def apply(self, diff: WorkflowDiff) -> None:
        """Apply one diff in place, touching only the steps and parents it names."""
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
            self.at[entry[STEP_ID]] = (
                {**copy.deepcopy(entry["step"]), STEP_ID: entry[STEP_ID]},
                None,
            )
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


def _fill(placed: list[tuple[int, str]], staying: list[str]) -> list[str]:
    """Put placed steps at their positions and fill the other slots with staying steps in order."""
    slots: list[str | None] = [None] * (len(placed) + len(staying))
    for position, step_id in placed:
        if not 0 <= position < len(slots) or slots[position] is not None:
            raise ValueError(f"diff does not apply: step {step_id!r} at position {position}")
        slots[position] = step_id
    rest = iter(staying)
    return [step_id if step_id is not None else next(rest) for step_id in slots]


def _step_ids(entries: list[dict[str, Any]]) -> list[str]:
    """Return the step_id of each entry, in order."""
    return [entry[STEP_ID] for entry in entries]
