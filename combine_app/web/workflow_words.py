"""History entries and pending changes in plain words: "alice moved step X from position 2 to 4".

Positions in the stored details count from 0; people count from 1, so every position shown
here is one more than the stored one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from combine_app.web.workflow_view import compact, field_words, quoted
from combine_app.workflows.move_words import Orders, move_sentences

Detail = Mapping[str, Any]


def describe_entry(
    change_type: str,
    detail: Detail | None,
    actor: str | None,
    orders: tuple[Orders, Orders] | None = None,
) -> list[str]:
    """One sentence per thing a history entry records, each starting with who did it.

    ``orders`` (the sibling orders before and after the change) let a move of one place be told
    as the swap of two neighbours it is (see ``combine_app.workflows.move_words``)."""
    who = actor or "Someone"
    detail = detail or {}
    if change_type == "step_reordered":
        moves = move_sentences(_items(detail, "steps"), *(orders or (None, None)))
        return [f"{who} reordered the steps: {sentence}" for sentence in moves]
    describe = _DESCRIBERS.get(change_type)
    if describe is None:
        return [f"{who} made a change ({compact(change_type, 40)})"]
    return [f"{who} {phrase}" for phrase in describe(detail)]


def _created(detail: Detail) -> list[str]:
    source = f"{detail.get('workflow_id', '?')} {detail.get('version', '?')}"
    pow_class = detail.get("pow_class")
    return [f"created the workflow from {source}" + (f" ({pow_class})" if pow_class else "")]


def _added(detail: Detail) -> list[str]:
    return [
        f"added step {entry.get('step_id')}{_place(entry.get('parent'), entry.get('position'))}"
        for entry in _items(detail, "steps")
    ]


def _removed(detail: Detail) -> list[str]:
    phrases = []
    for entry in _items(detail, "steps"):
        parent = entry.get("parent")
        phrases.append(
            f"removed step {entry.get('step_id')}" + (f" from {parent}" if parent else "")
        )
    return phrases


def _modified(detail: Detail) -> list[str]:
    phrases = []
    for entry in _items(detail, "steps"):
        for change in entry.get("changes") or []:
            phrases.append(field_change(change, f"step {entry.get('step_id')}"))
    return phrases


def _metadata(detail: Detail) -> list[str]:
    return [field_change(change, "the workflow") for change in _items(detail, "changes")]


def _status(detail: Detail) -> list[str]:
    new, old = detail.get("to"), detail.get("from")
    if new == "completed":
        return ["marked the workflow completed"]
    if new == "archived":
        return ["archived the workflow"]
    return [f"changed the workflow's status from {old} to {new}"]


def field_change(change: Mapping[str, Any], owner: str) -> str:
    """A field change as a phrase: "changed task prompt of step Y: 'A' → 'B'"."""
    name = field_words(change.get("field"))
    kind = change.get("change")
    if kind == "added":
        return f"set {name} of {owner} to {quoted(change.get('new'))}"
    if kind == "removed":
        return f"removed {name} from {owner} (was {quoted(change.get('old'))})"
    return f"changed {name} of {owner}: {quoted(change.get('old'))} → {quoted(change.get('new'))}"


def field_change_short(change: Mapping[str, Any]) -> str:
    """A field change without its owner: "task prompt: 'A' → 'B'"."""
    name = field_words(change.get("field"))
    kind = change.get("change")
    if kind == "added":
        return f"{name}: added, {quoted(change.get('new'))}"
    if kind == "removed":
        return f"{name}: removed (was {quoted(change.get('old'))})"
    return f"{name}: {quoted(change.get('old'))} → {quoted(change.get('new'))}"


def _items(detail: Detail, key: str) -> list[Mapping[str, Any]]:
    items = detail.get(key)
    return [item for item in items if isinstance(item, Mapping)] if isinstance(items, list) else []


def _position(value: Any) -> str:
    return str(value + 1) if isinstance(value, int) else "?"


def _place(parent: Any, position: Any) -> str:
    where = f" inside {parent}" if parent else ""
    return f"{where} at position {_position(position)}"


def _deviation_requested(detail: Detail) -> list[str]:
    phrase = f"asked to accept the difference {compact(detail.get('key'), 120)}"
    return [phrase + _review_by(detail)]


def _deviation_accepted(detail: Detail) -> list[str]:
    phrase = f"accepted the difference {compact(detail.get('key'), 120)}"
    asked = detail.get("requested_by")
    if asked and "note" in detail:  # approved a request (an immediate acceptance has no note)
        phrase += f", requested by {compact(asked, 80)}"
    note = detail.get("note")
    tail = f", noting “{compact(note, 200)}”" if note else ""
    return [phrase + _review_by(detail) + tail]


def _deviation_rejected(detail: Detail) -> list[str]:
    key = compact(detail.get("key"), 120)
    asked = detail.get("requested_by")
    return [
        f"rejected the request to accept {key}" + (f" by {compact(asked, 80)}" if asked else "")
    ]


def _deviation_withdrawn(detail: Detail) -> list[str]:
    what = "request to accept" if detail.get("status") == "requested" else "acceptance of"
    return [f"withdrew the {what} {compact(detail.get('key'), 120)}"]


def _review_by(detail: Detail) -> str:
    review_by = detail.get("review_by")
    return f" (review by {compact(review_by, 20)})" if review_by else ""


# The drift summary's groups: who made a difference, then what kind of difference it is.
ORIGIN_TITLES = (
    ("instance", "Changed in this project"),
    ("source", "Changed in the source release since it was assigned (not by this project)"),
    ("both", "Changed on both sides"),
    ("unknown", "Origin unknown (the starting point of this workflow is not known)"),
)
ORIGIN_WORDS = {
    "instance": "changed in this project",
    "source": "changed in the source release",
    "both": "changed on both sides",
    "unknown": "origin unknown",
}
KIND_TITLES = (
    ("step_added", "Steps added"),
    ("step_removed", "Steps removed"),
    ("step_moved", "Steps moved"),
    ("step_modified", "Steps modified"),
    ("metadata_changed", "Workflow fields changed"),
)

_DESCRIBERS: dict[str, Callable[[Detail], list[str]]] = {
    "created": _created,
    "step_added": _added,
    "step_removed": _removed,
    "step_modified": _modified,
    "metadata_changed": _metadata,
    "status_changed": _status,
    "deviation_requested": _deviation_requested,
    "deviation_accepted": _deviation_accepted,
    "deviation_rejected": _deviation_rejected,
    "deviation_withdrawn": _deviation_withdrawn,
}
