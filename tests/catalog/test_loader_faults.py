"""A copy of our config folder with planted faults: each is named, the healthy POWs still load."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from combine_app.catalog.errors import InvalidDefinition, UnknownWorkflow
from combine_app.catalog.loader import PackageLoader

from .helpers import FAULTS, LEAN, SPD, copy_tree, plant_faults, write_release


@pytest.fixture
def broken(config_copy: Path, make_pow) -> tuple[Path, dict[str, tuple[Path, str]]]:
    """Our config folder with every fault planted, and the list of faults."""
    return config_copy, plant_faults(config_copy, make_pow)


@pytest.mark.parametrize("fault", FAULTS)
def test_each_planted_fault_is_a_problem_naming_its_file(broken, fault):
    config, faults = broken
    path, words = faults[fault]
    problems = PackageLoader(config).problems()
    assert any(p.path == str(path) and words in p.message for p in problems), problems


def test_every_fault_is_reported_and_nothing_else(broken):
    config, faults = broken
    problems = PackageLoader(config).problems()
    assert {problem.path for problem in problems} == {str(path) for path, _ in faults.values()}
    assert len(problems) == len(FAULTS)


def test_healthy_workflows_still_load_beside_the_faults(broken):
    config, _ = broken
    loader = PackageLoader(config)
    assert [info.workflow_id for info in loader.list_workflows()] == [LEAN, SPD]
    assert loader.versions(SPD) == ["1.0.0", "1.1.0"]
    assert loader.active_version(SPD) == "1.1.0"
    # The pointer names a release that does not exist: fall back to the highest one.
    assert loader.active_version(LEAN) == "1.0.0"
    assert loader.get_definition(LEAN)["pow_class"] == "template"


@pytest.mark.parametrize("workflow_id", ["not_yaml", "not_json", "no_steps", "misfiled"])
def test_a_broken_definition_raises_invalid_definition_with_its_path(broken, workflow_id):
    config, _ = broken
    with pytest.raises(InvalidDefinition) as caught:
        PackageLoader(config).get_definition(workflow_id)
    assert caught.value.path.startswith(str(config / "workflows" / workflow_id))
    assert caught.value.path in caught.value.located
    assert caught.value.path not in str(caught.value)


def test_a_broken_release_of_a_healthy_pow_raises_invalid_definition(broken):
    config, faults = broken
    with pytest.raises(InvalidDefinition) as caught:
        PackageLoader(config).get_definition(SPD, "1.2.0")
    assert caught.value.path == str(faults["duplicate_nested_step_id"][0])


def test_folder_layout_faults_are_named(config_copy, make_pow):
    (config_copy / "workflows" / "no_releases").mkdir()
    (config_copy / "workflows" / SPD / "releases" / "latest").mkdir()
    empty_release = config_copy / "workflows" / LEAN / "releases" / "0.9.0"
    empty_release.mkdir()
    both = write_release(config_copy, "two_files", "1.0.0", make_pow("two_files"))
    write_release(config_copy, "two_files", "1.0.0", make_pow("two_files"), "definition.json")
    messages = {str(problem) for problem in PackageLoader(config_copy).problems()}
    assert messages == {
        f"{config_copy / 'workflows' / 'no_releases'}: has no releases folder "
        "(expected releases/<version>/definition.yaml)",
        f"{config_copy / 'workflows' / SPD / 'releases' / 'latest'}: release folder 'latest' "
        "is not a version like '1.0.0'",
        f"{empty_release}: has no definition.yaml or definition.json",
        f"{both.parent}: holds both definition.yaml and definition.json; keep one",
    }


def test_pointer_file_faults_are_named(config_copy):
    pointer_file = config_copy / "_active" / "active_releases.json"
    pointer_file.write_text(json.dumps({"workflows": {"ghost_flow": "1.0.0", SPD: "one"}}))
    messages = [problem.message for problem in PackageLoader(config_copy).problems()]
    assert any("workflows.ghost_flow points to 1.0.0" in message for message in messages)
    assert any(f"workflows.{SPD}: 'one' is not a version" in message for message in messages)
    pointer_file.write_text("[1, 2]")
    assert [p.path for p in PackageLoader(config_copy).problems()] == [str(pointer_file)]


def test_an_unreadable_pointer_file_still_lets_pows_load(config_copy):
    (config_copy / "_active" / "active_releases.json").write_text("{not json")
    loader = PackageLoader(config_copy)
    assert len(loader.problems()) == 1
    assert loader.active_version(SPD) == "1.1.0"


def test_a_hostile_definition_is_a_problem_not_a_crash(config_copy):
    deep = "steps:\n" + "".join(
        f"{'  ' * level}- step_id: s{level}\n{'  ' * level}  steps:\n" for level in range(40)
    )
    write_release(
        config_copy,
        "deep_flow",
        "1.0.0",
        f"workflow_id: deep_flow\nname: Deep\npow_class: reference\n{deep}",
    )
    write_release(config_copy, "nested_json", "1.0.0", "[" * 100_000, "definition.json")
    messages = [problem.message for problem in PackageLoader(config_copy).problems()]
    assert any("nested more than 16 levels" in message for message in messages)
    assert any("nested too deeply" in message for message in messages)


def test_a_yaml_alias_bomb_is_a_problem_not_a_hang(config_copy):
    levels = "".join(f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 9)}]\n" for n in range(1, 10))
    write_release(
        config_copy,
        "bomb_flow",
        "1.0.0",
        "l0: &l0 [lol]\n" + levels + "workflow_id: bomb_flow\nname: Bomb\n"
        "pow_class: reference\nsteps: [{step_id: only, payload: *l9}]\n",
    )
    messages = [problem.message for problem in PackageLoader(config_copy).problems()]
    assert any("more than 500,000 values" in message for message in messages)


def test_graph_workflows_are_not_problems_and_not_pows(real_config, tmp_path):
    config = copy_tree(real_config, tmp_path / "real")
    loader = PackageLoader(config)
    assert loader.problems() == []
    with pytest.raises(UnknownWorkflow):
        loader.versions("concierge_intake")
