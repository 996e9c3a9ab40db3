"""PackageLoader on the repository's own combine-config folder and on small variations of it."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from combine_app.catalog import loader as loader_module
from combine_app.catalog.errors import InvalidDefinition, UnknownVersion, UnknownWorkflow
from combine_app.catalog.loader import PackageLoader

from .helpers import OUR_CONFIG, set_pointer, write_release

SPD = "software_product_development"
LEAN = "lean_product_development"


@pytest.fixture
def loader() -> PackageLoader:
    """A loader on the repository's combine-config folder."""
    return PackageLoader(OUR_CONFIG)


def test_our_config_folder_has_no_problems(loader):
    assert loader.problems() == []


def test_lists_the_two_pows_and_not_the_graph_workflow(loader):
    assert [info.workflow_id for info in loader.list_workflows()] == [LEAN, SPD]
    with pytest.raises(UnknownWorkflow):
        loader.get_definition("concierge_intake")


def test_active_versions_follow_the_pointer_file(loader):
    assert loader.active_version(SPD) == "1.1.0"
    assert loader.active_version(LEAN) == "1.0.0"
    assert loader.versions(SPD) == ["1.0.0", "1.1.0"]


def test_listing_rows_describe_each_pow(loader):
    rows = {info.workflow_id: info for info in loader.list_workflows()}
    spd, lean = rows[SPD], rows[LEAN]
    assert (spd.pow_class, spd.derived_from, spd.source_version) == ("reference", None, None)
    assert spd.active_version == "1.1.0" and spd.versions == ["1.0.0", "1.1.0"]
    assert spd.step_count == 9
    assert spd.schema_version == "workflow.v2"
    assert lean.pow_class == "template"
    assert lean.derived_from == {"workflow_id": SPD, "version": "1.0.0"}
    assert lean.source_version == "1.0.0"
    assert "template" in lean.tags


def test_listing_counts_each_release_s_steps_once_per_reading_of_its_file(loader, monkeypatch):
    counted = []
    real = loader_module.count_steps
    monkeypatch.setattr(loader_module, "count_steps", lambda d: counted.append(1) or real(d))
    first = {info.workflow_id: info.step_count for info in loader.list_workflows()}
    again = {info.workflow_id: info.step_count for info in loader.list_workflows()}
    assert first == again and first[SPD] == 9
    assert len(counted) <= len(first)  # the second listing counted nothing


def test_get_definition_defaults_to_the_active_release(loader):
    active = loader.get_definition(SPD)
    older = loader.get_definition(SPD, "1.0.0")
    assert active == loader.get_definition(SPD, "1.1.0")
    assert "code_review" in _step_ids(active)
    assert "code_review" not in _step_ids(older)
    assert active["steps"][4]["iterate_over"]["entity_type"] == "epic"


def test_yaml_dates_stay_strings(config_copy, make_pow):
    path = write_release(config_copy, "dated_flow", "1.0.0", "")
    path.write_text(
        "workflow_id: dated_flow\nname: Dated\npow_class: reference\n"
        "effective_date: 2026-03-01\nsteps:\n  - step_id: only\n",
        encoding="utf-8",
    )
    assert PackageLoader(config_copy).get_definition("dated_flow")["effective_date"] == "2026-03-01"


def test_yaml_aliases_become_independent_objects(config_copy):
    write_release(
        config_copy,
        "alias_flow",
        "1.0.0",
        "workflow_id: alias_flow\nname: Aliased\npow_class: reference\nsteps:\n"
        "  - {step_id: one, inputs: &shared [{doc_type: brief}]}\n"
        "  - {step_id: two, inputs: *shared}\n",
    )
    definition = PackageLoader(config_copy).get_definition("alias_flow")
    definition["steps"][0]["inputs"].append({"doc_type": "extra"})
    assert definition["steps"][1]["inputs"] == [{"doc_type": "brief"}]


def test_get_definition_returns_independent_copies(loader):
    first = loader.get_definition(SPD)
    first["steps"][4]["steps"].clear()
    first["name"] = "changed"
    second = loader.get_definition(SPD)
    assert second["name"] == "Software Product Development"
    assert len(second["steps"][4]["steps"]) == 3
    assert loader.list_workflows()[1].step_count == 9
    assert second is not loader.get_definition(SPD)


@pytest.mark.parametrize("version", ["9.9.9", "1.1", "../1.0.0", "latest"])
def test_unknown_version_raises(loader, version):
    with pytest.raises(UnknownVersion) as caught:
        loader.get_definition(SPD, version)
    assert caught.value.workflow_id == SPD
    assert version in str(caught.value)


@pytest.mark.parametrize(
    "workflow_id", ["nope", "", "../combine-config", "_active", "Software_Product", "a/b"]
)
def test_unknown_workflow_raises(loader, workflow_id):
    with pytest.raises(UnknownWorkflow):
        loader.get_definition(workflow_id)
    with pytest.raises(UnknownWorkflow):
        loader.active_version(workflow_id)


def test_without_a_pointer_the_highest_semver_release_is_active(config_copy, make_pow):
    for version in ("1.2.0", "1.9.0", "1.10.0"):
        write_release(config_copy, "semver_flow", version, make_pow("semver_flow", name=version))
    loader = PackageLoader(config_copy)
    assert loader.active_version("semver_flow") == "1.10.0"
    assert loader.versions("semver_flow") == ["1.2.0", "1.9.0", "1.10.0"]
    assert loader.get_definition("semver_flow")["name"] == "1.10.0"


def test_json_definitions_with_a_byte_order_mark_load(config_copy, make_pow):
    path = write_release(config_copy, "bom_flow", "1.0.0", make_pow("bom_flow"), "definition.json")
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    loader = PackageLoader(config_copy)
    assert loader.problems() == []
    assert loader.get_definition("bom_flow") == make_pow("bom_flow")


def test_in_place_edit_of_a_release_is_seen_without_reload(config_copy):
    loader = PackageLoader(config_copy)
    assert loader.get_definition(SPD)["name"] == "Software Product Development"
    path = config_copy / "workflows" / SPD / "releases" / "1.1.0" / "definition.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("name: Software Product Development", "name: Edited"), "utf-8")
    assert loader.get_definition(SPD)["name"] == "Edited"
    assert loader.list_workflows()[1].name == "Edited"


def test_in_place_edit_of_the_pointer_file_is_seen_without_reload(config_copy):
    loader = PackageLoader(config_copy)
    assert loader.active_version(SPD) == "1.1.0"
    set_pointer(config_copy, SPD, "1.0.0")
    assert loader.active_version(SPD) == "1.0.0"


def test_a_new_release_folder_is_seen_without_reload(config_copy, make_pow):
    loader = PackageLoader(config_copy)
    assert loader.versions(LEAN) == ["1.0.0"]
    write_release(config_copy, LEAN, "1.1.0", make_pow(LEAN, pow_class="template"))
    assert loader.versions(LEAN) == ["1.0.0", "1.1.0"]


def test_reload_drops_the_cache(config_copy):
    loader = PackageLoader(config_copy)
    loader.get_definition(SPD)
    path = config_copy / "workflows" / SPD / "releases" / "1.1.0" / "definition.yaml"
    before = path.stat()
    text = path.read_text(encoding="utf-8")
    # Same size and timestamps: only reload() can tell the difference.
    path.write_text(text.replace("Software Product Development", "Software Product Developmen_"))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert loader.get_definition(SPD)["name"] == "Software Product Development"
    loader.reload()
    assert loader.get_definition(SPD)["name"] == "Software Product Developmen_"


def test_a_broken_active_release_raises_invalid_definition(config_copy):
    path = config_copy / "workflows" / SPD / "releases" / "1.1.0" / "definition.yaml"
    path.write_text("steps: [unclosed", encoding="utf-8")
    loader = PackageLoader(config_copy)
    with pytest.raises(InvalidDefinition) as caught:
        loader.get_definition(SPD)
    assert caught.value.path == str(path)
    assert str(path) in caught.value.located
    assert str(path) not in str(caught.value)
    assert loader.get_definition(SPD, "1.0.0")["workflow_id"] == SPD
    assert [info.workflow_id for info in loader.list_workflows()] == [LEAN]


def test_a_missing_config_folder_is_one_problem(tmp_path: Path):
    loader = PackageLoader(tmp_path / "absent")
    assert [problem.path for problem in loader.problems()] == [str(tmp_path / "absent")]
    assert loader.list_workflows() == []


def test_concurrent_callers_see_the_same_listing(config_copy):
    loader = PackageLoader(config_copy)
    results, barrier = [], threading.Barrier(8)

    def worker() -> None:
        barrier.wait()
        for _ in range(20):
            results.append([info.workflow_id for info in loader.list_workflows()])
            loader.get_definition(SPD)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [[LEAN, SPD]] * 160


def _step_ids(definition: dict) -> list[str]:
    """Every step_id in a definition, nested included."""
    found, stack = [], list(reversed(definition["steps"]))
    while stack:
        step = stack.pop()
        found.append(step["step_id"])
        stack.extend(reversed(step.get("steps", [])))
    return found
