"""Structural rules for POW definitions, and semantic-version parsing for release folders."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from combine_app.definition.patterns import (
    IDENTIFIER,
    IDENTIFIER_WORDS,
    MAX_DEPTH,
    MAX_ID_LENGTH,
    MAX_STEPS,
    SEMVER,
)
from combine_app.definition.tree import iter_steps, pointer_of, walk
from combine_app.portable_json import MAX_JSON_DEPTH, value_problems

__all__ = ["IDENTIFIER", "MAX_DEPTH", "MAX_ID_LENGTH", "MAX_STEPS", "SEMVER"]
MAX_ERRORS = 50
# Bounds the JSON-data walk; far above any real definition, far below a hostile one.
MAX_VALUES = 500_000
# A definition is sent inside a body one level deep ({"effective_workflow": ...}), so it may
# nest one level less than a body; deeper, its own GET and PUT round trip would be refused.
MAX_DEFINITION_DEPTH = MAX_JSON_DEPTH - 1

CONFIG_POW_CLASSES = ("reference", "template")
RUNTIME_POW_CLASSES = (*CONFIG_POW_CLASSES, "instance")

Errors = dict[str, list[str]]


class _TooManyErrors(Exception):
    """Raised inside the walk once the error budget is spent."""


class _Collector:
    """Gathers messages by JSON pointer and stops the walk after MAX_ERRORS."""

    def __init__(self) -> None:
        self.errors: Errors = {}
        self.count = 0

    def add(self, pointer: str, message: str) -> None:
        if self.count >= MAX_ERRORS:
            self.errors.setdefault("", []).append(
                f"stopped after {MAX_ERRORS} errors; fix these and check again"
            )
            raise _TooManyErrors
        self.errors.setdefault(pointer, []).append(message)
        self.count += 1


def parse_semver(value: object) -> tuple[int, int, int]:
    """Parse ``MAJOR.MINOR.PATCH`` into a sort key (1.10.0 > 1.9.0); raise ValueError if invalid."""
    if not isinstance(value, str):
        raise ValueError(f"a version must be a string like '1.2.0', not {type(value).__name__}")
    match = SEMVER.fullmatch(value)
    if match is None:
        raise ValueError(f"{_show(value)} is not a version like '1.2.0' (MAJOR.MINOR.PATCH)")
    major, minor, patch = (int(part) for part in match.groups())
    return major, minor, patch


def is_semver(value: object) -> bool:
    """Tell whether ``value`` is a ``MAJOR.MINOR.PATCH`` version string."""
    try:
        parse_semver(value)
    except ValueError:
        return False
    return True


def is_graph(definition: object) -> bool:
    """Tell whether ``definition`` is a graph-shaped workflow (nodes/edges, no steps)."""
    return (
        isinstance(definition, Mapping)
        and "steps" not in definition
        and ("nodes" in definition or "edges" in definition)
    )


def is_pow(definition: object) -> bool:
    """Tell whether ``definition`` has the shape of a POW: a ``steps`` list and no graph."""
    return (
        isinstance(definition, Mapping)
        and isinstance(definition.get("steps"), list)
        and "nodes" not in definition
        and "edges" not in definition
    )


def count_steps(definition: Mapping) -> int:
    """Count every step of a definition, nested steps and iteration steps included."""
    return sum(1 for _ in iter_steps(definition.get("steps")))


def validate_pow(definition: object, *, source: Literal["config", "instance"] = "config") -> Errors:
    """Check a POW definition; return messages keyed by JSON pointer, empty when valid.

    ``source="config"`` accepts reference and template POWs only; ``"instance"`` (an
    effective workflow edited at runtime) also accepts ``pow_class: instance``.
    """
    collector = _Collector()
    try:
        if not isinstance(definition, Mapping):
            kind = type(definition).__name__
            collector.add("", f"a POW definition must be a mapping, not {kind}")
        else:
            _check_header(definition, collector, source)
            if _check_steps(definition, collector):
                _check_json_data(definition, collector)
    except _TooManyErrors:
        pass
    return collector.errors


def _check_header(definition: Mapping, out: _Collector, source: str) -> None:
    """Check the top-level fields that identify and describe the POW."""
    _check_identifier(definition.get("workflow_id"), "/workflow_id", "workflow_id", out)
    name = definition.get("name")
    if not isinstance(name, str) or not name.strip():
        out.add("/name", "name is required and must be a non-empty string")

    pow_class = definition.get("pow_class")
    allowed = CONFIG_POW_CLASSES if source == "config" else RUNTIME_POW_CLASSES
    if pow_class == "instance" and source == "config":
        out.add(
            "/pow_class",
            "pow_class 'instance' is refused here: instances are runtime data, not config "
            "(use 'reference' or 'template')",
        )
    elif pow_class not in allowed:
        out.add(
            "/pow_class", f"pow_class must be one of {', '.join(allowed)}, not {_show(pow_class)}"
        )

    for key in ("description", "schema_version"):
        if key in definition and not isinstance(definition[key], str):
            out.add(f"/{key}", f"{key} must be a string")
    source_version = definition.get("source_version")
    if source_version is not None and not is_semver(source_version):
        out.add("/source_version", "source_version must be null or a version like '1.0.0'")
    tags = definition.get("tags")
    if tags is not None and not (isinstance(tags, list) and all(isinstance(t, str) for t in tags)):
        out.add("/tags", "tags must be a list of strings")
    if "nodes" in definition or "edges" in definition:
        out.add("", "a POW has steps, not a nodes/edges graph; remove nodes/edges")

    derived_from = definition.get("derived_from")
    if derived_from is None:
        return
    if not isinstance(derived_from, Mapping):
        out.add(
            "/derived_from", "derived_from must be null or a mapping with workflow_id and version"
        )
        return
    _check_identifier(
        derived_from.get("workflow_id"),
        "/derived_from/workflow_id",
        "derived_from.workflow_id",
        out,
    )
    if not is_semver(derived_from.get("version")):
        out.add("/derived_from/version", "derived_from.version must be a version like '1.0.0'")


def _check_steps(definition: Mapping, out: _Collector) -> bool:
    """Walk the step tree iteratively; return False when the step limit stopped the walk."""
    steps = definition.get("steps")
    if "steps" not in definition:
        out.add("/steps", "steps is required: a POW is a list of steps")
        return True
    if not isinstance(steps, list):
        out.add("/steps", f"steps must be a list, not {type(steps).__name__}")
        return True

    first_seen: dict[str, str] = {}
    for total, (path, _, step) in enumerate(walk(steps), start=1):
        here = pointer_of(path)
        if total > MAX_STEPS:
            out.add("/steps", f"more than {MAX_STEPS:,} steps in total; a POW cannot be this large")
            return False
        if not isinstance(step, Mapping):
            out.add(here, f"a step must be a mapping, not {type(step).__name__}")
            continue
        step_id = step.get("step_id")
        if _check_identifier(step_id, f"{here}/step_id", "step_id", out):
            if step_id in first_seen:
                out.add(
                    f"{here}/step_id",
                    f"duplicate step_id {step_id!r}: first used at {first_seen[step_id]}",
                )
            else:
                first_seen[step_id] = here
        if "steps" not in step:
            continue
        nested = step["steps"]
        if not isinstance(nested, list):
            out.add(f"{here}/steps", f"nested steps must be a list, not {type(nested).__name__}")
        elif len(path) >= MAX_DEPTH:
            out.add(f"{here}/steps", f"steps are nested more than {MAX_DEPTH} levels deep")
    return True


def _check_identifier(value: object, pointer: str, label: str, out: _Collector) -> bool:
    """Check a lowercase snake_case identifier; return True when it is valid."""
    if not isinstance(value, str) or not value:
        out.add(pointer, f"{label} is required and must be a non-empty string")
        return False
    if len(value) > MAX_ID_LENGTH:
        out.add(pointer, f"{label} must be at most {MAX_ID_LENGTH} characters")
        return False
    if IDENTIFIER.fullmatch(value) is None:
        out.add(
            pointer,
            f"{label} {_show(value)} {IDENTIFIER_WORDS}",
        )
        return False
    return True


def _check_json_data(definition: Mapping, out: _Collector) -> None:
    """Check every value is portable JSON data (``combine_app.portable_json``'s rules).

    So a definition can be stored, hashed and sent back unchanged: no NaN, no number beyond
    2^53 - 1, no NUL or unpaired surrogate in any text or key, at most MAX_DEFINITION_DEPTH
    levels of nesting (a definition travels one level down inside a request body).
    """
    for pointer, message in value_problems(
        definition, max_depth=MAX_DEFINITION_DEPTH, max_values=MAX_VALUES
    ):
        out.add(pointer, message)


def _show(value: object, limit: int = 60) -> str:
    """Render a value for a message, cut short so hostile input cannot flood it."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 3]}..."
