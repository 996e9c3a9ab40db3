"""Shared pieces of the workflow-instance tests: the config folder, its POWs, and edits."""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from combine_app.catalog.loader import PackageLoader

REPO_ROOT = Path(__file__).resolve().parents[2]
CONFIG_DIR = REPO_ROOT / "combine-config"
SPD = "software_product_development"
LEAN = "lean_product_development"
GRAPH = "concierge_intake"
ACTIVE_SPD = "1.1.0"


def source(workflow_id: str = SPD, version: str = ACTIVE_SPD) -> dict[str, Any]:
    """A release definition read afresh from the repository's combine-config."""
    return PackageLoader(CONFIG_DIR).get_definition(workflow_id, version)


def config_with_release_edited(
    folder: Path, edit: Callable[[dict[str, Any]], None], version: str = ACTIVE_SPD
) -> Path:
    """A copy of combine-config at ``folder`` in which SPD ``version``'s file was rewritten in
    place (the same version, another content) with what ``edit`` made of its definition."""
    shutil.copytree(CONFIG_DIR, folder)
    release = folder / "workflows" / SPD / "releases" / version
    edited = source(SPD, version)
    edit(edited)
    (release / "definition.yaml").unlink()
    (release / "definition.json").write_text(json.dumps(edited), encoding="utf-8")
    return folder


def all_step_ids(definition: dict[str, Any]) -> list[str]:
    """Every step_id in document order, nested steps included."""
    found: list[str] = []

    def walk(steps: list[dict[str, Any]]) -> None:
        for step in steps:
            found.append(step["step_id"])
            walk(step.get("steps") or [])

    walk(definition["steps"])
    return found


def find_step(definition: dict[str, Any], step_id: str) -> dict[str, Any]:
    """The step with this step_id, wherever it sits in the tree."""
    pending = list(definition["steps"])
    while pending:
        step = pending.pop()
        if step["step_id"] == step_id:
            return step
        pending.extend(step.get("steps") or [])
    raise KeyError(step_id)


def edited(definition: dict[str, Any], **metadata: Any) -> dict[str, Any]:
    """A deep copy of the definition with top-level keys replaced."""
    result = copy.deepcopy(definition)
    result.update(metadata)
    return result


def with_step_added(definition: dict[str, Any], step_id: str, at: int | None = None) -> dict:
    """A copy with a new top-level step inserted at ``at`` (appended by default)."""
    result = copy.deepcopy(definition)
    step = {"step_id": step_id, "name": step_id.replace("_", " ").title(), "role": "Tester 1.0"}
    result["steps"].insert(len(result["steps"]) if at is None else at, step)
    return result


def with_step_removed(definition: dict[str, Any], step_id: str) -> dict[str, Any]:
    """A copy without the top-level step ``step_id``."""
    result = copy.deepcopy(definition)
    result["steps"] = [step for step in result["steps"] if step["step_id"] != step_id]
    return result


def with_step_moved_first(definition: dict[str, Any], step_id: str) -> dict[str, Any]:
    """A copy where the top-level step ``step_id`` becomes the first step."""
    result = copy.deepcopy(definition)
    moving = next(step for step in result["steps"] if step["step_id"] == step_id)
    result["steps"].remove(moving)
    result["steps"].insert(0, moving)
    return result


def with_step_field(definition: dict[str, Any], step_id: str, field: str, value: Any) -> dict:
    """A copy where one field of the step ``step_id`` (nested or not) is set to ``value``."""
    result = copy.deepcopy(definition)
    find_step(result, step_id)[field] = value
    return result
