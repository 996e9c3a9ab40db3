"""An order change in words, the same on every page: pure (no Flask, no session).

The diff reports a smallest set of moved steps (``steps_moved``: each with its old and new
parent and position). When two neighbours swap places that smallest set is not unique: moving
either one explains the change, and the diff names only one of them, which need not be the step
the person moved. So a move of one place, within one parent, whose vacated place the other
neighbour now holds (and which that neighbour held before the moved step came), is told as
"A and B swapped places": both steps named (by step_id, so that a swap and its undoing read
the same), with the two positions. Any
other move is told from the moved step: "X moved from position 2 to 5", "X moved from the top
level (position 1) into P (position 3)". Positions count from 1 here; the JSON counts from 0.

The sibling orders (step_ids under each parent, None for the top level) tell who the neighbour
is. They come from the definitions on both sides (``sibling_orders``), or, when only the new
definition is at hand (a history entry), from the new one and the diff (``orders_before``).
Without them a move is told from the moved step alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from combine_app.definition.tree import STEP_ID, STEPS, UNLIMITED, walk

# The step_ids under each parent (None: the top level); None where a list item is not a step.
Orders = Mapping[str | None, Sequence[str | None]]


def move_sentences(
    moves: Iterable[Mapping[str, Any]],
    before: Orders | None = None,
    after: Orders | None = None,
) -> list[str]:
    """One sentence per move item, in their order: a swap of neighbours names both steps."""
    moves = [move for move in moves if isinstance(move, Mapping)]
    moved = {move.get(STEP_ID) for move in moves}
    kept: dict[str | None, _Kept] = {}
    return [_sentence(move, _swapped_with(move, moved, before, after, kept)) for move in moves]


def sentences_by_step(
    moves: Iterable[Mapping[str, Any]],
    old: Mapping[str, Any] | None,
    new: Mapping[str, Any] | None,
) -> dict[str, str]:
    """Each move of the change from definition ``old`` to ``new`` in words, by step_id (told
    move by move when either definition is missing)."""
    moves = [move for move in moves if isinstance(move, Mapping)]
    orders = (sibling_orders(old), sibling_orders(new)) if old and new else (None, None)
    sentences = move_sentences(moves, *orders)
    return {move[STEP_ID]: sentence for move, sentence in zip(moves, sentences, strict=True)}


def sibling_orders(definition: Mapping[str, Any] | None) -> dict[str | None, list[str | None]]:
    """The step_ids under each parent of the definition, in document order."""
    orders: dict[str | None, list[str | None]] = {None: []}
    if not isinstance(definition, Mapping):
        return orders
    for path, parent, step in walk(definition.get(STEPS), max_depth=UNLIMITED):
        key = _step_id(parent)
        siblings = orders.setdefault(key, [])
        siblings.extend([None] * (path[-1] + 1 - len(siblings)))
        siblings[path[-1]] = _step_id(step)
    return orders


def orders_before(
    after: Orders,
    moves: Iterable[Mapping[str, Any]],
    added: Iterable[Mapping[str, Any]] = (),
    removed: Iterable[Mapping[str, Any]] = (),
) -> dict[str | None, list[str | None]]:
    """The sibling orders before a change, from those after it and the change's items.

    Each touched parent's list is the steps that stayed (in their order) with the removed and
    moved-away steps put back at their old positions; None when the items do not fit.
    """
    moves, added, removed = list(moves), list(added), list(removed)
    placed: dict[str | None, list[tuple[int, str]]] = {}
    for entry in removed:
        placed.setdefault(entry.get("parent"), []).append((entry["position"], entry[STEP_ID]))
    for entry in moves:
        placed.setdefault(entry.get("from_parent"), []).append(
            (entry["from_position"], entry[STEP_ID])
        )
    arrived = {entry[STEP_ID] for entry in added} | {entry[STEP_ID] for entry in moves}
    touched = set(placed) | {entry.get("to_parent") for entry in moves}
    touched |= {entry.get("parent") for entry in added}
    orders = {parent: list(ids) for parent, ids in after.items()}
    for parent in touched:
        staying = [sid for sid in after.get(parent, []) if sid not in arrived]
        slots: list[str | None] = [None] * (len(staying) + len(placed.get(parent, [])))
        for position, step_id in placed.get(parent, []):
            if 0 <= position < len(slots):
                slots[position] = step_id
        rest = iter(staying)
        orders[parent] = [sid if sid is not None else next(rest, None) for sid in slots]
    return orders


class _Kept:
    """One parent's steps that it holds on both sides, in their order before and after, with
    where each step is (so that every move is told in constant time)."""

    def __init__(self, then: Sequence[str | None], now: Sequence[str | None]) -> None:
        both = set(now) & set(then)
        self.usable = None not in both  # a list item without a step_id: no swap is told there
        self.now = [sid for sid in now if sid in both]
        self.then = [sid for sid in then if sid in both]
        self.index_now = {sid: index for index, sid in enumerate(self.now)}
        self.index_then = {sid: index for index, sid in enumerate(self.then)}
        self.position = {sid: index + 1 for index, sid in enumerate(now)}


def _swapped_with(
    move: Mapping[str, Any],
    moved: set,
    before: Orders | None,
    after: Orders | None,
    kept: dict[str | None, _Kept],
) -> tuple[str, int, int] | None:
    """The neighbour the move swapped with and the two positions now, when the orders show a
    swap; else None. Neighbours are counted among the steps in the parent on both sides (a step
    added or removed beside them does not part them)."""
    step_id, parent = move.get(STEP_ID), move.get("to_parent")
    if before is None or after is None or move.get("from_parent") != parent:
        return None
    if parent not in kept:
        kept[parent] = _Kept(before.get(parent) or [], after.get(parent) or [])
    lists = kept[parent]
    if not lists.usable or step_id not in lists.index_now:
        return None
    was, is_ = lists.index_then[step_id], lists.index_now[step_id]
    if abs(was - is_) != 1:
        return None
    other = lists.now[was]
    if other in moved or lists.then[is_] != other:
        return None
    return other, lists.position[step_id], lists.position[other]


def _sentence(move: Mapping[str, Any], swap: tuple[str, int, int] | None) -> str:
    step_id = move.get(STEP_ID)
    old, new = _position(move.get("from_position")), _position(move.get("to_position"))
    before, after = move.get("from_parent"), move.get("to_parent")
    if swap is not None:
        other, here, there = swap
        first, second = sorted((step_id, other))  # the same words for a swap and its undoing
        low, high = sorted((here, there))
        return f"{first} and {second} swapped places{_inside(after)} (positions {low} and {high})"
    if before == after:
        return f"{step_id} moved{_inside(after)} from position {old} to {new}"
    leaving = f"out of {before}" if before else "from the top level"
    arriving = f"into {after}" if after else "to the top level"
    return f"{step_id} moved {leaving} (position {old}) {arriving} (position {new})"


def _step_id(step: Any) -> str | None:
    value = step.get(STEP_ID) if isinstance(step, Mapping) else None
    return value if isinstance(value, str) else None


def _position(value: Any) -> int | str:
    return value + 1 if isinstance(value, int) else "?"


def _inside(parent: Any) -> str:
    return f" inside {parent}" if parent else ""
