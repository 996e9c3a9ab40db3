"""Two definitions side by side, the way a diff tool shows two files: pure (no Flask, no DB).

Each column is one side's steps in document order, every step exactly once: the left column
is the "from" definition, the right one the "to" definition. A row pairs a step with itself
where it kept its place; the structural diff (``diff.py``) decides what moved, so this view
agrees with drift and compare. A moved step shows twice, like a moved block in a diff tool: on
the left where it was and on the right where it is, each time with its nested steps. The rows
follow the "to" side; a step only the left holds (removed, or moved away) stands where it stood
among its neighbours, and in a gap between two paired rows what left comes before what arrived
(deletions before insertions, as in a diff).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from combine_app.definition.tree import STEP_ID, STEPS, UNLIMITED, Path, walk
from combine_app.workflows.diff import WorkflowDiff, diff_definitions
from combine_app.workflows.move_words import sentences_by_step

SAME, ADDED, REMOVED, MOVED, MODIFIED = "same", "added", "removed", "moved", "modified"
# Which columns a row fills.
LEFT, RIGHT, BOTH = "left", "right", "both"


class Cell(NamedTuple):
    """One column's step in a row, and where it sits on its side."""

    step: Mapping[str, Any]
    path: Path

    @property
    def number(self) -> str:
        """Its place for a reader: "5" at the top level, "5.2" for the second step in step 5."""
        return ".".join(str(index + 1) for index in self.path)


@dataclass(frozen=True)
class Row:
    """One line of the side-by-side view: a step on the left, the right, or both."""

    depth: int  # 1 at the top level, 2 inside a top-level step, ...
    left: Cell | None
    right: Cell | None
    # ("same",), or what differs, in this order: added, removed, moved, modified.
    marks: tuple[str, ...]
    # The diff's field changes of the step (field, old, new, change), on each row it shows on.
    changes: list[dict[str, Any]] = field(default_factory=list)
    move: str | None = None  # a moved step's move in words, as every page tells it
    moved_with: str | None = None  # a step that is not moved itself, inside this moved step

    @property
    def step_id(self) -> str:
        """The step_id the row is about."""
        return (self.left or self.right).step[STEP_ID]

    @property
    def side(self) -> str:
        """Which columns the row fills: ``left``, ``right`` or ``both``."""
        return BOTH if self.left and self.right else LEFT if self.left else RIGHT


@dataclass(frozen=True)
class SideBySide:
    """The rows of two definitions side by side, and the diff they were drawn from."""

    rows: list[Row]
    diff: WorkflowDiff

    @property
    def is_same(self) -> bool:
        """Whether both sides hold the same workflow."""
        return self.diff.is_empty


class _Side:
    """One definition's steps by step_id: where each is, its parent, its nested steps."""

    def __init__(self, definition: Mapping[str, Any]) -> None:
        self.cells: dict[str, Cell] = {}
        self.parent: dict[str, str | None] = {}
        self.children: dict[str | None, list[str]] = {None: []}
        for path, parent, step in walk(definition.get(STEPS), max_depth=UNLIMITED):
            step_id = step[STEP_ID]
            above = None if parent is None else parent[STEP_ID]
            self.cells[step_id] = Cell(step, path)
            self.parent[step_id] = above
            self.children.setdefault(above, []).append(step_id)

    def moved_ancestor(self, step_id: str, moved: set[str]) -> str | None:
        """The nearest step above ``step_id`` that moved, if any."""
        above = self.parent[step_id]
        while above is not None and above not in moved:
            above = self.parent[above]
        return above


def side_by_side(old: Mapping[str, Any], new: Mapping[str, Any]) -> SideBySide:
    """The rows of ``old`` (left, "from") and ``new`` (right, "to") side by side."""
    diff = diff_definitions(old, new)
    layout = _Layout(diff, _Side(old), _Side(new), sentences_by_step(diff.steps_moved, old, new))
    return SideBySide(list(layout.rows()), diff)


class _Layout:
    """The two sides merged into one tree of rows, walked in document order."""

    def __init__(self, diff: WorkflowDiff, left: _Side, right: _Side, words: dict[str, str]):
        self.left, self.right, self.words = left, right, words
        self.moved = {entry[STEP_ID] for entry in diff.steps_moved}
        self.changes = {entry[STEP_ID]: entry["changes"] for entry in diff.steps_modified}
        # A step that kept its place (not added, removed or moved) shares one row under a
        # shared parent; inside a moved step it shows on each of that step's two sides.
        self.paired = (left.cells.keys() & right.cells.keys()) - self.moved

    def rows(self) -> Iterator[Row]:
        """Every row, parents before their nested steps (iterative, as ``tree.walk`` is)."""
        stack = [iter(self.nested(BOTH, None))]
        while stack:
            for side, step_id in stack[-1]:
                yield self.row(len(stack), side, step_id)
                inside = self.nested(side, step_id)
                if inside:
                    stack.append(iter(inside))
                    break
            else:
                stack.pop()

    def nested(self, side: str, step_id: str | None) -> list[tuple[str, str]]:
        """The rows under a row: a paired step's nested steps of both sides merged, else the
        nested steps of the one side it is on."""
        if side == BOTH:
            return _merged(
                self.left.children.get(step_id, []),
                self.right.children.get(step_id, []),
                self.paired,
            )
        one = self.left if side == LEFT else self.right
        return [(side, child) for child in one.children.get(step_id, [])]

    def row(self, depth: int, side: str, step_id: str) -> Row:
        """The row of ``step_id`` on ``side``, with its marks."""
        on_left, on_right = step_id in self.left.cells, step_id in self.right.cells
        marks = [ADDED] if not on_left else [REMOVED] if not on_right else []
        marks += [MOVED] if step_id in self.moved else []
        marks += [MODIFIED] if step_id in self.changes else []
        carried = None
        if side != BOTH and on_left and on_right and step_id not in self.moved:
            one = self.left if side == LEFT else self.right
            carried = one.moved_ancestor(step_id, self.moved)  # it moves along with that step
        return Row(
            depth=depth,
            left=self.left.cells[step_id] if side != RIGHT else None,
            right=self.right.cells[step_id] if side != LEFT else None,
            marks=tuple(marks) or (SAME,),
            changes=self.changes.get(step_id, []),
            move=self.words.get(step_id),
            moved_with=carried,
        )


def _merged(left_ids: list[str], right_ids: list[str], paired: set[str]) -> list[tuple[str, str]]:
    """One parent's nested steps in one order: each paired step once, in the order both sides
    share; before each of them, the steps only the left holds, then those only the right holds."""
    merged: list[tuple[str, str]] = []
    index = 0
    for step_id in right_ids:
        # Flush what the left holds alone up to the next paired step (or up to this one).
        while index < len(left_ids) and left_ids[index] not in paired:
            merged.append((LEFT, left_ids[index]))
            index += 1
        if step_id in paired:
            merged.append((BOTH, step_id))
            index += 1  # the left's next paired step is this one: both sides keep one order
        else:
            merged.append((RIGHT, step_id))
    merged.extend((LEFT, step_id) for step_id in left_ids[index:])
    return merged
