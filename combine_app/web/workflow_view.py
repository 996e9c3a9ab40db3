"""Turn a workflow definition into what the pages show: steps in order, fields in a fixed order.

PostgreSQL's JSONB does not keep the key order authors wrote, so every field list here is put
in one fixed, readable order before a template sees it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from combine_app.definition.tree import (
    UNLIMITED,
    nested_steps,
    ordered,
    ordered_step_fields,
    walk,
)

# Shown as their own rows on the project page; the rest are listed compactly under them.
KEY_STEP_FIELDS = ("role", "produces", "inputs", "iterate_over")
METADATA_ORDER = (
    "schema_version",
    "workflow_id",
    "name",
    "description",
    "pow_class",
    "derived_from",
    "source_version",
    "effective_date",
    "tags",
    "scopes",
    "document_types",
    "entity_types",
)
MAX_SHOWN = 120
# Labels that the general rule in field_label would get wrong.
FIELD_LABELS = {
    "step_id": "Step ID",
    "workflow_id": "Workflow ID",
    "iterate_over": "Iterates over",
    "pow_class": "Kind",
}


@dataclass
class StepView:
    """One step as the pages show it, with its nested steps. Its path never changes, so the
    texts made from it are made once (the editor reads each about eight times a step)."""

    path: tuple[int, ...]
    step_id: str
    name: str
    fields: list[tuple[str, Any]]
    children: list[StepView] = field(default_factory=list)
    sibling_count: int = 1
    is_valid: bool = True

    @cached_property
    def number(self) -> str:
        """Its place for a reader: "5" at top level, "5.2" for the second step inside step 5."""
        return ".".join(str(index + 1) for index in self.path)

    @cached_property
    def key(self) -> str:
        """The path as text for form names: "4.1"."""
        return ".".join(str(index) for index in self.path)

    @cached_property
    def anchor(self) -> str:
        """The path as an HTML id: "s-4-1"."""
        return "s-" + "-".join(str(index) for index in self.path)

    def anchor_at(self, delta: int) -> str:
        """The HTML id of the place ``delta`` positions away in the same list."""
        return f"{self._list_anchor}{self.path[-1] + delta}"

    @cached_property
    def _list_anchor(self) -> str:
        """The start of every id in the same list: "s-4-" for "s-4-1"."""
        return "s-" + "".join(f"{index}-" for index in self.path[:-1])

    @property
    def is_first(self) -> bool:
        """Whether it opens its parent's list."""
        return self.path[-1] == 0

    @property
    def is_last(self) -> bool:
        """Whether it closes its parent's list."""
        return self.path[-1] == self.sibling_count - 1

    @property
    def title(self) -> str:
        """Its name, or its step_id when it has none."""
        return self.name or self.step_id or f"Step {self.number}"

    def value(self, name: str) -> Any:
        """One field's value, None when the step lacks it."""
        return dict(self.fields).get(name)

    @property
    def key_fields(self) -> list[tuple[str, Any]]:
        """Role, produces, inputs and iterate_over, when present."""
        present = dict(self.fields)
        return [(name, present[name]) for name in KEY_STEP_FIELDS if name in present]

    @property
    def other_fields(self) -> list[tuple[str, Any]]:
        """Every other field but step_id and name, in the fixed order."""
        skip = {"step_id", "name", *KEY_STEP_FIELDS}
        return [(name, value) for name, value in self.fields if name not in skip]


def step_views(definition: Mapping[str, Any], limit: int | None = None) -> list[StepView]:
    """The definition's steps, nested ones inside their parent, each with ordered fields; only
    the first ``limit`` steps in document order when a limit is given."""
    top: list[StepView] = []
    children_of: dict[tuple[int, ...], list[StepView]] = {(): top}
    steps = definition.get("steps")
    for shown, (path, parent, step) in enumerate(walk(steps)):
        if limit is not None and shown >= limit:
            break
        siblings = children_of[path[:-1]]
        count = len(steps if parent is None else parent["steps"])
        if not isinstance(step, Mapping):
            siblings.append(StepView(path, "", "", [("value", step)], [], count, False))
            continue
        step_id = step.get("step_id")
        name = step.get("name")
        view = StepView(
            path=path,
            step_id=step_id if isinstance(step_id, str) else "",
            name=name if isinstance(name, str) else "",
            fields=ordered_step_fields(step),
            children=[],
            sibling_count=count,
        )
        children_of[path] = view.children
        siblings.append(view)
    return top


def ordered_definition(definition: Any) -> Any:
    """A copy of the definition with its keys in the fixed reading order, for JSON text."""
    if not isinstance(definition, Mapping):
        return definition
    result = dict(ordered(definition, METADATA_ORDER))
    steps = result.pop("steps", None)
    if steps is not None or "steps" in definition:
        result["steps"] = _ordered_steps(steps)
    return result


def _ordered_steps(steps: Any) -> Any:
    """The steps with each step's fields in the fixed order (nested steps last), built in one
    walk; anything that is not a step list is kept as it is."""
    if not isinstance(steps, list):
        return steps
    top: list[Any] = []
    lists: dict[tuple[int, ...], list[Any]] = {(): top}
    for path, _, step in walk(steps, max_depth=UNLIMITED):
        if not isinstance(step, Mapping):
            lists[path[:-1]].append(step)
            continue
        fields = dict(ordered(step))
        if "steps" in fields:
            nested = fields.pop("steps")
            if nested_steps(nested):
                nested = lists[path] = []
            fields["steps"] = nested
        lists[path[:-1]].append(fields)
    return top


def field_label(name: Any) -> str:
    """A field's name as a label: ``task_prompt`` is "Task prompt", ``step_id`` "Step ID"."""
    if not isinstance(name, str) or not name:
        return compact(name, 60)
    if name in FIELD_LABELS:
        return FIELD_LABELS[name]
    words = name.replace("_", " ").strip()
    return compact(words[:1].upper() + words[1:], 60) if words else compact(name, 60)


def field_words(name: Any) -> str:
    """A field's name inside a sentence: ``task_prompt`` is "task prompt", ``step_id`` "step ID"."""
    if isinstance(name, str) and name in FIELD_LABELS:
        label = FIELD_LABELS[name]
        return label[:1].lower() + label[1:]
    if isinstance(name, str) and name.replace("_", "").strip():
        return compact(name.replace("_", " ").strip(), 60)
    return compact(name, 60)


def compact(value: Any, limit: int = MAX_SHOWN) -> str:
    """A value on one line: text as it is, anything else as JSON; cut short when long."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def quoted(value: Any, limit: int = 60) -> str:
    """A value for a sentence: text in quotes, anything else as JSON, cut short when long."""
    if value is None:
        return "nothing"
    if isinstance(value, str):
        return "'" + compact(value, limit) + "'"
    return compact(value, limit)


def describe_input(item: Any) -> str:
    """One step input in words: "product_brief (project)", "epic entity (epic, context)"."""
    if not isinstance(item, Mapping):
        return compact(item)
    rest = dict(item)
    if isinstance(rest.get("doc_type"), str):
        head = rest.pop("doc_type")
    elif isinstance(rest.get("entity_type"), str):
        head = rest.pop("entity_type") + " entity"
    else:
        return compact(dict(ordered(item, ())))
    details = []
    for name, value in ordered(rest, ("scope", "collect", "context")):
        if value is True:
            details.append(name)
        elif name == "scope":
            details.append(compact(value, 40))
        else:
            details.append(f"{name}: {compact(value, 40)}")
    return f"{head} ({', '.join(details)})" if details else head


def describe_iteration(value: Any) -> str:
    """An iterate_over block in words: "each epic in delivery_plan.epics"."""
    if isinstance(value, Mapping) and {"doc_type", "collection_field"} <= value.keys():
        entity = value.get("entity_type") or "item"
        return f"each {compact(entity, 40)} in {compact(value['doc_type'], 40)}." + compact(
            value["collection_field"], 40
        )
    return compact(value)


def as_json(value: Any, indent: int | None = None) -> str:
    """JSON text for a form field, keys in the reading order for definitions."""
    return json.dumps(value, ensure_ascii=False, indent=indent)
