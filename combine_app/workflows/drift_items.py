"""Drift items: every difference between source and instance, where it came from, and whether
an accepted deviation explains it. Pure functions over plain dicts, beside diff.py.

An item is one difference of ``diff_definitions(source, instance)``: a step added, removed or
moved, one field of a step, or one workflow field. Its ``key`` names it stably across reads
(``step_modified:design:task_prompt``); its ``origin`` says which side made it, by comparing
both sides with the base snapshot the instance started from; its ``fingerprint`` hashes both
sides' values, so an acceptance recorded against one fingerprint stops explaining the item as
soon as either side changes again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from combine_app.definition.tree import own_fields
from combine_app.workflows import diff as structural

STEP_ADDED = "step_added"
STEP_REMOVED = "step_removed"
STEP_MOVED = "step_moved"
STEP_MODIFIED = "step_modified"
METADATA_CHANGED = "metadata_changed"
KINDS = (STEP_ADDED, STEP_REMOVED, STEP_MOVED, STEP_MODIFIED, METADATA_CHANGED)

# Who made a difference, told by comparing each side with the base snapshot.
INSTANCE = "instance"  # the project changed it
SOURCE = "source"  # the source release was edited in place since the snapshot
BOTH = "both"
UNKNOWN = "unknown"  # no base snapshot: the two cannot be told apart
ORIGINS = (INSTANCE, SOURCE, BOTH, UNKNOWN)

# What an acceptance (or a request for one) is to the current items.
REQUESTED = "requested"  # asked for, not decided yet: the item stays unexplained
ACCEPTED = "accepted"  # it explains the item: both sides are as they were when it was accepted
EXPIRED = "expired"  # accepted, but its review_by date has passed: unexplained again
CHANGED_SINCE = "changed_since"  # asked for or accepted earlier, but a side changed since
NOT_A_DIFFERENCE = "not_a_difference"  # the difference it concerned is gone
ACCEPTANCE_STATUSES = (REQUESTED, ACCEPTED, EXPIRED, CHANGED_SINCE, NOT_A_DIFFERENCE)
REJECTED = "rejected"  # only in the answer to a rejection: the request itself is gone

# What a drift response amounts to, as the badge and the drift gate say it.
IN_SYNC = "in_sync"
DRIFTED = "drifted"  # at least one difference nobody has accepted (or the source is gone)
DEVIATIONS_ACCEPTED = "deviations_accepted"  # every difference accepted, each with its reason

Item = dict[str, Any]


def item_key(kind: str, step_id: str | None = None, field: str | None = None) -> str:
    """The stable key of an item: its kind, then its step_id and/or field, joined by ':'.

    Step ids never hold ':' (they match ^[a-z][a-z0-9_]*$), so a field name after them may.
    """
    return ":".join(part for part in (kind, step_id, field) if part is not None)


def fingerprint(item: Mapping[str, Any]) -> str:
    """A hash of the item's key, the kind of field change and both sides' values or places."""
    return structural.content_hash(
        {
            "key": item["key"],
            "change": item["change"],
            "source": item["source"],
            "instance": item["instance"],
        }
    )


def drift_items(
    source: Mapping[str, Any],
    instance: Mapping[str, Any],
    base: Mapping[str, Any] | None,
    diff: structural.WorkflowDiff | None = None,
) -> list[Item]:
    """One item per difference from ``source`` to ``instance``, each with key, origin, fingerprint.

    ``base`` is the definition the instance started from (None when it cannot be known: every
    origin is then ``unknown``). ``diff`` is ``diff_definitions(source, instance)`` when the caller
    has it already. Items come by kind (added, removed, moved, modified, workflow fields), each
    kind in the diff's order.
    """
    diff = diff if diff is not None else structural.diff_definitions(source, instance)
    items: list[Item] = []
    for entry in diff.steps_added:
        place = _place(entry["parent"], entry["position"])
        items.append(
            _item(STEP_ADDED, entry["step_id"], None, None, None, place | {"step": entry["step"]})
        )
    if diff.steps_removed:
        source_at = structural.step_placements(source)
        for entry in diff.steps_removed:
            fields = own_fields(source_at[entry["step_id"]][2])
            place = _place(entry["parent"], entry["position"]) | {"step": fields}
            items.append(_item(STEP_REMOVED, entry["step_id"], None, None, place, None))
    for move in diff.steps_moved:
        items.append(
            _item(
                STEP_MOVED,
                move["step_id"],
                None,
                None,
                _place(move["from_parent"], move["from_position"]),
                _place(move["to_parent"], move["to_position"]),
            )
        )
    for entry in diff.steps_modified:
        for change in entry["changes"]:
            items.append(_field_item(STEP_MODIFIED, entry["step_id"], change))
    for change in diff.metadata_changes:
        items.append(_field_item(METADATA_CHANGED, None, change))
    origins = _Origins(base, source, instance) if base is not None else None
    for item in items:
        item["origin"] = origins.of(item) if origins is not None else UNKNOWN
        item["fingerprint"] = fingerprint(item)
    return items


def explain(
    items: Iterable[Item], accepted: Mapping[str, Mapping[str, Any]], *, today: date
) -> list[Item]:
    """Attach to each item its acceptance (by key) and whether that acceptance explains it.

    Only a decided acceptance whose fingerprint matches and whose ``review_by`` date ``today``
    has not passed explains an item; otherwise the item is unexplained and carries the row with
    its status (``requested``, ``expired`` or ``changed_since``).
    """
    explained = []
    for item in items:
        acceptance = accepted.get(item["key"])
        if acceptance is None:
            explained.append({**item, "explained": False, "acceptance": None})
            continue
        status = acceptance_status(acceptance, {item["key"]: item}, today=today)
        explained.append(
            {
                **item,
                "explained": status == ACCEPTED,
                "acceptance": {**acceptance, "status": status},
            }
        )
    return explained


def acceptance_status(
    acceptance: Mapping[str, Any], items_by_key: Mapping[str, Mapping[str, Any]], *, today: date
) -> str:
    """What an acceptance or request is to the current items on the UTC date ``today``.

    ``not_a_difference`` when its item is gone, ``changed_since`` when a side changed since it
    was asked for, else ``requested`` while undecided, ``expired`` once ``today`` is past its
    ``review_by`` (ISO date text), and ``accepted`` otherwise.
    """
    item = items_by_key.get(acceptance["key"])
    if item is None:
        return NOT_A_DIFFERENCE
    if item["fingerprint"] != acceptance["fingerprint"]:
        return CHANGED_SINCE
    if acceptance["status"] == REQUESTED:
        return REQUESTED
    review_by = acceptance.get("review_by")
    return EXPIRED if review_by is not None and today.isoformat() > review_by else ACCEPTED


def explained_drift(
    effective: Mapping[str, Any],
    source: Mapping[str, Any] | None,
    base_ref: Mapping[str, Any],
    latest_version: str | None,
    base: Mapping[str, Any] | None,
    accepted: Mapping[str, Mapping[str, Any]],
    *,
    today: date,
) -> dict[str, Any]:
    """The DriftResponse of diff.drift, plus ``items``, ``unexplained_count`` and
    ``is_drifted_unexplained``; ``today`` (a UTC date) tells which acceptances expired.

    Without a loadable source no item can be named, so none can be accepted either: ``items`` is
    empty and ``is_drifted_unexplained`` equals ``is_drifted`` (known from the snapshot's hash).
    """
    computed = computed_drift(effective, source, base_ref, base)
    return with_acceptances(computed, latest_version, accepted, today=today)


def computed_drift(
    effective: Mapping[str, Any],
    source: Mapping[str, Any] | None,
    base_ref: Mapping[str, Any],
    base: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """What a drift is before acceptances and the active version are applied: diff.drift's
    response without ``latest_version``, and ``items`` without their acceptance.

    A function of the instance's revision (effective definition and base_ref), the source's
    content and the base snapshot only, so it can be kept under those three (drift_store.py).
    """
    if source is None:
        response = structural.drift(effective, None, base_ref, None)
        response["items"] = []
    else:
        diff = structural.diff_definitions(source, effective)
        response = structural.drift(effective, source, base_ref, None, diff=diff)
        response["items"] = drift_items(source, effective, base, diff)
    del response["latest_version"]
    return response


def with_acceptances(
    computed: Mapping[str, Any],
    latest_version: str | None,
    accepted: Mapping[str, Mapping[str, Any]],
    *,
    today: date,
) -> dict[str, Any]:
    """The DriftResponse of a ``computed_drift``: its items explained by ``accepted`` on
    ``today``, with ``unexplained_count``, ``is_drifted_unexplained`` and ``latest_version``."""
    items = explain(computed["items"], accepted, today=today)
    unexplained = sum(1 for item in items if not item["explained"])
    response = {**computed, "latest_version": latest_version, "items": items}
    response.update(
        unexplained_count=unexplained, is_drifted_unexplained=_unexplained(computed, unexplained)
    )
    return response


def drift_summary(computed: Mapping[str, Any]) -> dict[str, Any]:
    """What the badges need of a ``computed_drift``: its flags and each item's fingerprint."""
    return {
        "is_drifted": computed["is_drifted"],
        "source_available": computed["source_available"],
        "source_changed": computed["source_changed"],
        "fingerprints": {item["key"]: item["fingerprint"] for item in computed["items"]},
    }


def summary_with_acceptances(
    summary: Mapping[str, Any],
    latest_version: str | None,
    accepted: Mapping[str, Mapping[str, Any]],
    *,
    today: date,
) -> dict[str, Any]:
    """The badge's part of the DriftResponse from a ``drift_summary``, as ``with_acceptances``
    would answer it: the flags, ``latest_version``, ``unexplained_count`` and
    ``is_drifted_unexplained`` (no items)."""
    fingerprints = summary["fingerprints"]
    explained = sum(
        1
        for key, acceptance in accepted.items()
        if key in fingerprints
        and acceptance_status(acceptance, {key: {"fingerprint": fingerprints[key]}}, today=today)
        == ACCEPTED
    )
    unexplained = len(fingerprints) - explained
    return {
        "is_drifted": summary["is_drifted"],
        "source_available": summary["source_available"],
        "source_changed": summary["source_changed"],
        "latest_version": latest_version,
        "unexplained_count": unexplained,
        "is_drifted_unexplained": _unexplained(summary, unexplained),
    }


def _unexplained(computed: Mapping[str, Any], unexplained: int) -> bool:
    """Whether a drift is unexplained: an item nobody accepted, or no source to name items by."""
    if not computed["source_available"]:
        return computed["is_drifted"]
    return unexplained > 0


def drift_state(drift: Mapping[str, Any]) -> str:
    """``in_sync``, ``drifted`` or ``deviations_accepted`` for an explained drift response."""
    if drift["is_drifted_unexplained"]:
        return DRIFTED
    return DEVIATIONS_ACCEPTED if drift["is_drifted"] else IN_SYNC


def _place(parent: str | None, position: int) -> dict[str, Any]:
    return {"parent": parent, "position": position}


def _item(
    kind: str,
    step_id: str | None,
    field: str | None,
    change: str | None,
    source: Any,
    instance: Any,
) -> Item:
    return {
        "key": item_key(kind, step_id, field),
        "kind": kind,
        "step_id": step_id,
        "field": field,
        "change": change,
        "source": source,
        "instance": instance,
    }


def _field_item(kind: str, step_id: str | None, change: Mapping[str, Any]) -> Item:
    """An item for one field; ``change`` (added/removed/changed) tells a missing side from null."""
    return _item(kind, step_id, change["field"], change["change"], change["old"], change["new"])


class _Origins:
    """Which side changed what since the base: the diffs base -> instance and base -> source."""

    def __init__(
        self, base: Mapping[str, Any], source: Mapping[str, Any], instance: Mapping[str, Any]
    ):
        self.instance = _Changes(structural.diff_definitions(base, instance))
        self.source = _Changes(structural.diff_definitions(base, source))

    def of(self, item: Mapping[str, Any]) -> str:
        """The origin of one item."""
        kind, step_id, field = item["kind"], item["step_id"], item["field"]
        if kind == STEP_ADDED:  # in the instance, not in the source
            by_instance = step_id in self.instance.added
            by_source = step_id in self.source.removed
        elif kind == STEP_REMOVED:  # in the source, not in the instance
            by_instance = step_id in self.instance.removed
            by_source = step_id in self.source.added
        elif kind == STEP_MOVED:
            by_instance = self.instance.placed(step_id)
            by_source = self.source.placed(step_id)
            if not (by_instance or by_source):
                # The smallest move sets of the three diffs may name different steps for the
                # same reordering: then the side that reordered the step's parent made it.
                by_instance = item["instance"]["parent"] in self.instance.reordered_parents
                by_source = item["source"]["parent"] in self.source.reordered_parents
        else:  # a field of a step (or of the workflow when step_id is None)
            by_instance = self.instance.changed(step_id, field)
            by_source = self.source.changed(step_id, field)
        if by_instance and by_source:
            return BOTH
        if by_instance:
            return INSTANCE
        return SOURCE if by_source else UNKNOWN


class _Changes:
    """One side's changes since the base, indexed for the origin questions."""

    def __init__(self, diff: structural.WorkflowDiff):
        self.added = {entry["step_id"] for entry in diff.steps_added}
        self.removed = {entry["step_id"] for entry in diff.steps_removed}
        self.moved = {move["step_id"] for move in diff.steps_moved}
        self.reordered_parents = {move["to_parent"] for move in diff.steps_moved}
        self.fields = {
            (entry["step_id"], change["field"])
            for entry in diff.steps_modified
            for change in entry["changes"]
        }
        self.fields.update((None, change["field"]) for change in diff.metadata_changes)

    def placed(self, step_id: str) -> bool:
        """Whether this side put the step where it is (added or moved it)."""
        return step_id in self.moved or step_id in self.added

    def changed(self, step_id: str | None, field: str) -> bool:
        """Whether this side changed the field (or added the step that holds it)."""
        return (step_id, field) in self.fields or step_id in self.added
