"""The editor's operations on a working copy (pure: no Flask, no database): field edits,
step moves, removals and additions.

The working copy is a plain definition dict that travels with the form (a hidden JSON field)
until Save sends it to the service as one full replacement. Steps are addressed by their path
of indices ("4.1": the second step inside the fifth), which is how the page names its controls.
These functions change the working copy in place and raise EditError for what cannot be done.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from combine_app.definition import tree
from combine_app.definition.patterns import IDENTIFIER_WORDS, MAX_ID_LENGTH, is_identifier
from combine_app.definition.tree import nested_steps, ordered_step_fields
from combine_app.portable_json import (
    TOO_DEEP,
    NotPortable,
    TooDeep,
    read_json,
    text_problem,
    text_problems,
)

Path = tuple[int, ...]
# Where the "Add a step" form put its problems, and the pseudo-field of a step's new-field row.
ADD_FORM = "add"
NEW_FIELD = "+"
NEW_STEP_FIELDS = ("step_id", "name", "role", "produces", "task_prompt")
MAX_FIELD_NAME = 100


class EditError(Exception):
    """An edit that cannot be applied; ``where`` names the step path or form it belongs to."""

    def __init__(self, message: str, where: str = "", field: str | None = None):
        super().__init__(message)
        self.message = message
        self.where = where
        self.field = field


def path_key(path: Path) -> str:
    """A path as form text: (4, 1) -> "4.1"."""
    return ".".join(str(index) for index in path)


def parse_path(text: str) -> Path:
    """Form text back to a path; EditError when it is not one."""
    try:
        path = tuple(int(part) for part in text.split("."))
    except ValueError:
        raise EditError("That step is no longer on the page; reload it.") from None
    if not path or any(index < 0 for index in path):
        raise EditError("That step is no longer on the page; reload it.")
    return path


def walk(definition: Mapping[str, Any]) -> Iterator[tuple[Path, Any]]:
    """Every step with its path, parents before their nested steps (the definition's one walk)."""
    for path, _, step in tree.walk(definition.get("steps")):
        yield path, step


def _siblings(definition: dict[str, Any], path: Path) -> list[Any]:
    """The list that holds the step at ``path``; EditError when the path leads nowhere."""
    siblings = tree.siblings_at(definition, path)
    if siblings is None:
        raise EditError("That step is no longer on the page; reload it.")
    return siblings


def step_or_none(definition: Mapping[str, Any], path: Path) -> Any:
    """The step at ``path``, or None when the path leads nowhere."""
    try:
        return tree.step_at(definition, path)
    except LookupError:
        return None


def step_label(step: Any) -> str:
    """How a message names a step."""
    if isinstance(step, Mapping) and isinstance(step.get("step_id"), str) and step["step_id"]:
        return step["step_id"]
    return "the step"


def move(definition: dict[str, Any], path: Path, delta: int) -> tuple[Path, str]:
    """Swap a step with its neighbour in its parent; return its new path and a notice."""
    siblings = _siblings(definition, path)
    index = path[-1]
    target = index + delta
    label = step_label(siblings[index])
    if not 0 <= target < len(siblings):
        where = "first" if delta < 0 else "last"
        raise EditError(f"Step {label} is already {where} in its list.", path_key(path))
    siblings[index], siblings[target] = siblings[target], siblings[index]
    direction = "up" if delta < 0 else "down"
    return (*path[:-1], target), f"Moved step {label} {direction} to position {target + 1}."


def remove(definition: dict[str, Any], path: Path) -> tuple[Path | None, str]:
    """Remove a step (and the steps inside it); return the path that now holds the focus."""
    siblings = _siblings(definition, path)
    step = siblings.pop(path[-1])
    if siblings:
        focus: Path | None = (*path[:-1], min(path[-1], len(siblings) - 1))
    else:
        focus = path[:-1] or None
    nested = len(nested_steps(step.get("steps"))) if isinstance(step, Mapping) else 0
    extra = f" and the {nested} steps inside it" if nested else ""
    return focus, f"Removed step {step_label(step)}{extra}."


def drop_field(definition: dict[str, Any], path: Path, name: str) -> str:
    """Remove one field from a step."""
    step = _siblings(definition, path)[path[-1]]
    if not isinstance(step, dict) or name not in step:
        raise EditError(f"The field {name!r} is no longer there.", path_key(path))
    if name == "step_id":
        raise EditError("A step needs its step_id; edit it instead.", path_key(path), name)
    del step[name]
    return f"Removed field {name} from step {step_label(step)}."


def step_ids(definition: Mapping[str, Any]) -> set[str]:
    """Every step_id in the working copy."""
    return {
        step["step_id"]
        for _, step in walk(definition)
        if isinstance(step, Mapping) and isinstance(step.get("step_id"), str)
    }


def add_step(definition: dict[str, Any], fields: Mapping[str, str], place: str) -> Path:
    """Insert a new step built from the add form's fields at ``place``; return its path.

    ``place`` is "end:" (end of the top level), "end:<path>" (end inside that step) or
    "before:<path>".
    """
    step_id = (fields.get("step_id") or "").strip()
    if not step_id:
        raise EditError("Give the new step a step_id.", ADD_FORM, "step_id")
    if not is_identifier(step_id):
        raise EditError(
            f"A step_id {IDENTIFIER_WORDS} (at most {MAX_ID_LENGTH} characters).",
            ADD_FORM,
            "step_id",
        )
    if step_id in step_ids(definition):
        raise EditError(f"There is already a step {step_id}.", ADD_FORM, "step_id")
    step = {"step_id": step_id}
    for name in NEW_STEP_FIELDS[1:]:
        value = (fields.get(name) or "").strip()
        problem = text_error(value)
        if problem:
            raise EditError(problem, ADD_FORM, name)
        if value:
            step[name] = value
    kind, _, where = place.partition(":")
    if kind == "end" and not where:
        steps = definition.setdefault("steps", [])
        if not isinstance(steps, list):
            raise EditError("The definition's steps are not a list; fix them as JSON.", ADD_FORM)
        steps.append(step)
        return (len(steps) - 1,)
    path = parse_path(where)
    if kind == "before":
        siblings = _siblings(definition, path)
        siblings.insert(path[-1], step)
        return path
    if kind == "end":
        parent = _siblings(definition, path)[path[-1]]
        if not isinstance(parent, dict):
            raise EditError("That step cannot hold steps.", ADD_FORM, "place")
        children = nested_steps(parent.get("steps"))
        parent["steps"] = [*children, step]
        return (*path, len(children))
    raise EditError("Choose where the new step goes.", ADD_FORM, "place")


def apply_field_edits(
    definition: dict[str, Any], form: Mapping[str, str]
) -> dict[tuple[str, str], str]:
    """Copy the step field inputs of the form into the working copy; return per-field errors.

    Text fields come as ``f:<path>:<field>``, JSON fields as ``j:<path>:<field>``; a step's
    new-field row as ``nf-name:<path>``, ``nf-value:<path>`` and ``nf-json:<path>``.
    """
    errors: dict[tuple[str, str], str] = {}
    for path, step in list(walk(definition)):
        if not isinstance(step, dict):
            continue
        key = path_key(path)
        for name, _ in ordered_step_fields(step):
            if f"f:{key}:{name}" in form:
                text = form[f"f:{key}:{name}"]
                problem = text_error(text)
                if problem:
                    errors[(key, name)] = problem
                else:
                    step[name] = text
            elif f"j:{key}:{name}" in form:
                try:
                    step[name] = parse_json_field(form[f"j:{key}:{name}"])
                except EditError as error:
                    errors[(key, name)] = error.message
        _add_field(step, key, form, errors)
    return errors


def _add_field(
    step: dict[str, Any], key: str, form: Mapping[str, str], errors: dict[tuple[str, str], str]
) -> None:
    """Apply a step's new-field row when it names a field."""
    name = (form.get(f"nf-name:{key}") or "").strip()
    if not name:
        return
    if len(name) > MAX_FIELD_NAME:
        errors[(key, NEW_FIELD)] = f"A field name has at most {MAX_FIELD_NAME} characters."
        return
    if name in step:
        errors[(key, NEW_FIELD)] = f"The step already has a field {name}; edit it above."
        return
    raw = form.get(f"nf-value:{key}", "")
    if form.get(f"nf-json:{key}"):
        try:
            step[name] = parse_json_field(raw)
        except EditError as error:
            errors[(key, NEW_FIELD)] = error.message
    elif text_error(raw) or text_error(name):
        errors[(key, NEW_FIELD)] = text_error(raw) or text_error(name)
    else:
        step[name] = raw


def parse_json_field(text: str) -> Any:
    """A JSON field's value, read by the API's own I-JSON reader; EditError saying why not.

    The messages are the API's: a number beyond 2^53 - 1, NaN, a duplicate key, a NUL or an
    unpaired surrogate is refused here with the words a PUT would answer with.
    """
    try:
        value = read_json(text)
    except json.JSONDecodeError as error:
        raise EditError(
            f"Not valid JSON: {error.msg} at line {error.lineno} column {error.colno}."
        ) from None
    except NotPortable as error:
        raise EditError(str(error)) from None
    except TooDeep:
        raise EditError(f"Not valid JSON: {TOO_DEEP}.") from None
    problems = text_problems(value)
    if problems:
        pointer, messages = next(iter(problems.items()))
        raise EditError(f"At {pointer}: {messages[0]}" if pointer else messages[0])
    return value


def text_error(text: str) -> str | None:
    """The API's message for text that cannot be stored (NUL, unpaired surrogate), or None."""
    problem = text_problem(text)
    return f"The text {problem}." if problem else None


def place_options(definition: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The places the add form offers: before each step, at the end of each list of steps."""
    options: list[tuple[str, str]] = []
    ends: list[tuple[Path, str]] = []  # pending "end inside" options, closed after their children
    for path, step in walk(definition):
        while ends and ends[-1][0] != path[: len(ends[-1][0])]:
            options.append(_end_option(*ends.pop()))
        number = ".".join(str(index + 1) for index in path)
        label = step_label(step)
        options.append((f"before:{path_key(path)}", f"Before {number} {label}"))
        if isinstance(step, Mapping) and (
            nested_steps(step.get("steps")) or "iterate_over" in step
        ):
            ends.append((path, f"{number} {label}"))
    while ends:
        options.append(_end_option(*ends.pop()))
    options.append(("end:", "At the end"))
    return options


def _end_option(path: Path, label: str) -> tuple[str, str]:
    return f"end:{path_key(path)}", f"At the end inside {label}"


def locate(pointer: str) -> tuple[Path | None, str | None]:
    """Where a validation pointer lands: the step path (None for the workflow) and field.

    "/effective_workflow/steps/2/steps/0/step_id" -> ((2, 0), "step_id").
    """
    tokens = [token.replace("~1", "/").replace("~0", "~") for token in pointer.split("/")[1:]]
    if tokens[:1] == ["effective_workflow"]:
        tokens = tokens[1:]
    path: list[int] = []
    while len(tokens) >= 2 and tokens[0] == "steps" and tokens[1].isdigit():
        path.append(int(tokens[1]))
        tokens = tokens[2:]
    return (tuple(path) or None), (tokens[0] if tokens else None)
