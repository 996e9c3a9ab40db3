"""The one walk of a definition's step tree, and the helpers every reader of steps shares.

A step may hold nested steps in ``steps`` (an iteration's body). ``walk`` visits every step in
document order, parents before their nested steps, each with its path of positions; a JSON
pointer, the parent and the position follow from it. Validation, the diff, replay, the editor
and the views all walk with it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from itertools import repeat
from typing import Any, NamedTuple

from combine_app.definition.patterns import MAX_DEPTH

STEPS = "steps"
STEP_ID = "step_id"

# The fields a reader looks for first, in the order they are shown; any others follow by name.
STEP_FIELD_ORDER = (
    "step_id",
    "name",
    "role",
    "task_prompt",
    "produces",
    "scope",
    "execution_mode",
    "inputs",
    "iterate_over",
)

Path = tuple[int, ...]
# For the diff and replay, which must follow any tree they are given (validation bounds depth).
UNLIMITED = sys.maxsize


class Visit(NamedTuple):
    """One step met by the walk: where it is and what it is."""

    path: Path
    parent: Any  # the step that holds it (None at the top level)
    step: Any

    @property
    def position(self) -> int:
        """Its index among its siblings."""
        return self.path[-1]

    @property
    def depth(self) -> int:
        """1 at the top level, 2 inside a top-level step, ..."""
        return len(self.path)

    @property
    def pointer(self) -> str:
        """Its JSON pointer in the definition, e.g. ``/steps/4/steps/0``."""
        return pointer_of(self.path)


def nested_steps(value: Any) -> list[Any]:
    """The steps a ``steps`` value holds: the list itself when it is a non-empty list."""
    return value if isinstance(value, list) and value else []


def own_fields(step: Mapping[str, Any]) -> dict[str, Any]:
    """A step's fields without its nested steps (an empty ``steps`` list stays a field)."""
    return {key: value for key, value in step.items() if key != STEPS or not nested_steps(value)}


def pointer_of(path: Path) -> str:
    """The JSON pointer of the step at ``path``."""
    return "".join(f"/steps/{index}" for index in path)


def walk(steps: Any, *, max_depth: int = MAX_DEPTH) -> Iterator[Visit]:
    """Every step under ``steps`` (a definition's ``steps`` value) in document order.

    Anything in a list is visited, a mapping or not (validation reports what is not a step);
    only a mapping's non-empty ``steps`` list is walked into, and not below ``max_depth``
    levels. Iterative: a deep tree cannot exhaust the stack.
    """
    if not isinstance(steps, list):
        return
    # The diff walks both sides of every comparison: this loop is its hot path, so it builds
    # each Visit without NamedTuple's keyword handling and resumes a parent's list where it
    # left off rather than pushing every step.
    make = tuple.__new__
    stack: list[tuple[Iterator[tuple[int, Any]], Path, Any]] = [(iter(enumerate(steps)), (), None)]
    while stack:
        items, base, parent = stack[-1]
        for index, step in items:
            path = (*base, index)
            yield make(Visit, (path, parent, step))
            if (type(step) is dict or isinstance(step, Mapping)) and len(path) < max_depth:
                children = step.get(STEPS)
                if children and isinstance(children, list):
                    stack.append((iter(enumerate(children)), path, step))
                    break
        else:
            stack.pop()


Placement = tuple  # (the parent's step_id or None, the position among its siblings, the step)


def placements(steps: Any) -> tuple[list[str], dict[str, Placement]]:
    """The step_ids of a valid definition's steps in document order, and where each sits.

    The same visits as ``walk`` (any depth), keyed by step_id: the diff indexes both sides of
    every comparison with it, so it is built with C-level iteration (zip, reversed) rather
    than a generator; ``tests/definition/test_tree.py`` holds it to ``walk``.
    """
    stack: list[Placement] = _placed(None, nested_steps(steps))
    order: list[str] = []
    where: dict[str, Placement] = {}
    while stack:
        placement = stack.pop()
        step = placement[2]
        step_id = step[STEP_ID]
        order.append(step_id)
        where[step_id] = placement
        nested = step.get(STEPS)
        if nested and isinstance(nested, list):
            stack.extend(_placed(step_id, nested))
    return order, where


def _placed(parent: str | None, steps: list[Any]) -> list[Placement]:
    """A parent's steps as placements, last first (the order the stack pops them in)."""
    count = len(steps)
    return list(zip(repeat(parent, count), range(count - 1, -1, -1), reversed(steps), strict=True))


def iter_steps(steps: Any) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """``(json_pointer, step)`` for every step that is a mapping, in document order."""
    for path, _, step in walk(steps):
        if isinstance(step, Mapping):
            yield pointer_of(path), step


def siblings_at(definition: Mapping[str, Any], path: Path) -> list[Any] | None:
    """The list that holds the step at ``path``, or None when the path leads nowhere."""
    steps = definition.get(STEPS)
    for index in path[:-1]:
        if not isinstance(steps, list) or not 0 <= index < len(steps):
            return None
        parent = steps[index]
        steps = parent.get(STEPS) if isinstance(parent, Mapping) else None
    if isinstance(steps, list) and path and 0 <= path[-1] < len(steps):
        return steps
    return None


def step_at(definition: Mapping[str, Any], path: Path) -> Any:
    """The step at ``path``; LookupError when there is none."""
    siblings = siblings_at(definition, path)
    if siblings is None:
        raise LookupError(f"no step at {pointer_of(path)}")
    return siblings[path[-1]]


def ordered(mapping: Mapping[str, Any], first: tuple[str, ...] = STEP_FIELD_ORDER) -> list:
    """``mapping``'s items: the names in ``first`` in that order, then the rest by name."""
    known = [(name, mapping[name]) for name in first if name in mapping]
    rest = sorted((name, value) for name, value in mapping.items() if name not in first)
    return known + rest


def ordered_step_fields(step: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """A step's own fields in the fixed order; nested steps are structure, not a field."""
    return ordered(own_fields(step))
