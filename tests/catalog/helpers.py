"""Helpers for the catalog tests: folder locations, writable copies and planted faults."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

SPD = "software_product_development"
LEAN = "lean_product_development"
REPO_ROOT = Path(__file__).resolve().parents[2]
OUR_CONFIG = REPO_ROOT / "combine-config"
REAL_CONFIG = REPO_ROOT / ".." / "shared" / "fixtures" / "thecombine-config"


def copy_tree(source: Path, target: Path) -> Path:
    """Copy files only (not permissions), so a copy of a read-only folder stays writable."""
    for path in sorted(source.rglob("*")):
        if path.is_file():
            destination = target / path.relative_to(source)
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes(path.read_bytes())
    return target


def write_release(
    config: Path, workflow_id: str, version: str, content: Any, name: str = ""
) -> Path:
    """Write one release file: a dict as YAML (or JSON when ``name`` ends in .json), text as is."""
    name = name or "definition.yaml"
    path = config / "workflows" / workflow_id / "releases" / version / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    elif name.endswith(".json"):
        path.write_text(json.dumps(content, indent=2), encoding="utf-8")
    else:
        path.write_text(yaml.safe_dump(content, sort_keys=False), encoding="utf-8")
    return path


def set_pointer(config: Path, workflow_id: str, version: str) -> None:
    """Point a workflow's active release at ``version`` in _active/active_releases.json."""
    path = config / "_active" / "active_releases.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    document["workflows"][workflow_id] = version
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")


def plant_faults(config: Path, make_pow) -> dict[str, tuple[Path, str]]:
    """Break a copy of the config folder in every way; return fault -> (path, words expected)."""
    faults: dict[str, tuple[Path, str]] = {}
    faults["not_yaml"] = (
        write_release(config, "not_yaml", "1.0.0", "workflow_id: not_yaml\nsteps: [unclosed\n"),
        "not valid YAML",
    )
    faults["not_json"] = (
        write_release(
            config, "not_json", "1.0.0", '{"workflow_id": "not_json",', "definition.json"
        ),
        "not valid JSON",
    )
    faults["not_a_mapping"] = (
        write_release(config, "not_a_mapping", "1.0.0", "- step_id: a\n- step_id: b\n"),
        "must hold a mapping, not a list",
    )
    spd = make_pow(SPD)
    spd["steps"][1]["steps"].append({"step_id": "draft"})
    faults["duplicate_nested_step_id"] = (
        write_release(config, SPD, "1.2.0", spd),
        "/steps/1/steps/1/step_id: duplicate step_id 'draft': first used at /steps/0",
    )
    faults["malformed_step_id"] = (
        write_release(
            config,
            "bad_step_id",
            "1.0.0",
            make_pow("bad_step_id", steps=[{"step_id": "Review-Step"}]),
        ),
        "/steps/0/step_id: step_id 'Review-Step' must start with a lowercase letter",
    )
    no_steps = make_pow("no_steps")
    del no_steps["steps"]
    faults["missing_steps"] = (
        write_release(config, "no_steps", "1.0.0", no_steps),
        "/steps: steps is required",
    )
    faults["instance_pow_class"] = (
        write_release(
            config, "instance_flow", "1.0.0", make_pow("instance_flow", pow_class="instance")
        ),
        "instances are runtime data, not config",
    )
    faults["folder_id_mismatch"] = (
        write_release(config, "misfiled", "1.0.0", make_pow("filed_elsewhere")),
        "workflow_id 'filed_elsewhere' does not match its folder name 'misfiled'",
    )
    set_pointer(config, LEAN, "2.0.0")
    faults["pointer_to_missing_release"] = (
        config / "_active" / "active_releases.json",
        f"workflows.{LEAN} points to release 2.0.0, which does not exist",
    )
    return faults


FAULTS = [
    "not_yaml",
    "not_json",
    "not_a_mapping",
    "duplicate_nested_step_id",
    "malformed_step_id",
    "missing_steps",
    "instance_pow_class",
    "folder_id_mismatch",
    "pointer_to_missing_release",
]
