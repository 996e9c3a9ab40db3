"""PackageLoader on the real config folder of the system the spec comes from (read-only)."""

from __future__ import annotations

import json
from pathlib import Path

from combine_app.catalog.loader import PackageLoader
from combine_app.definition.tree import iter_steps

from .helpers import copy_tree

REAL_POWS = ["intake_and_route", "software_product_development"]


def _raw(config: Path, workflow_id: str, version: str) -> dict:
    """The release file as plain JSON, read independently of the loader."""
    path = config / "workflows" / workflow_id / "releases" / version / "definition.json"
    return json.loads(path.read_text(encoding="utf-8-sig"))


def _raw_step_ids(steps: list) -> list[str]:
    """Every step_id in document order, found by a separate walk."""
    found = []
    for step in steps:
        found.append(step["step_id"])
        found.extend(_raw_step_ids(step.get("steps", [])))
    return found


def test_real_folder_loads_without_problems(real_config):
    assert PackageLoader(real_config).problems() == []


def test_lists_exactly_the_step_based_pows(real_config):
    listed = [info.workflow_id for info in PackageLoader(real_config).list_workflows()]
    assert listed == REAL_POWS


def test_active_versions_come_from_the_pointer_file(real_config):
    pointers = json.loads((real_config / "_active" / "active_releases.json").read_text("utf-8-sig"))
    loader = PackageLoader(real_config)
    for info in loader.list_workflows():
        assert info.active_version == pointers["workflows"][info.workflow_id]
        assert loader.active_version(info.workflow_id) == info.active_version


def test_every_step_is_read(real_config):
    loader = PackageLoader(real_config)
    for info in loader.list_workflows():
        definition = loader.get_definition(info.workflow_id)
        raw = _raw(real_config, info.workflow_id, info.active_version)
        assert definition == raw
        loaded_ids = [step["step_id"] for _, step in iter_steps(definition["steps"])]
        assert loaded_ids == _raw_step_ids(raw["steps"])
        assert info.step_count == len(loaded_ids)


def test_nested_steps_of_the_real_pow_are_counted(real_config):
    info = {i.workflow_id: i for i in PackageLoader(real_config).list_workflows()}
    definition = PackageLoader(real_config).get_definition("software_product_development")
    nested = [step for step in definition["steps"] if "steps" in step]
    assert nested, "the real POW has an iteration step"
    assert info["software_product_development"].step_count > len(definition["steps"])


def test_byte_order_marks_are_tolerated_on_every_file(real_config, tmp_path):
    config = copy_tree(real_config, tmp_path / "with-bom")
    for path in config.rglob("*.json"):
        data = path.read_bytes()
        if not data.startswith(b"\xef\xbb\xbf"):
            path.write_bytes(b"\xef\xbb\xbf" + data)
    plain, marked = PackageLoader(real_config), PackageLoader(config)
    assert marked.problems() == []
    assert marked.list_workflows() == plain.list_workflows()
    for workflow_id in REAL_POWS:
        assert marked.get_definition(workflow_id) == plain.get_definition(workflow_id)
