"""The rules a workflow keeps to run: each with a failing and a passing case, on real data."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml

from combine_app.definition.rules import ERROR, WARNING, errors_added, problems

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO.parent / "shared" / "fixtures"
SKIP = (
    "../shared/fixtures not found: the rules are tested on our own config only in a clone "
    "without the shared folder."
)
OURS = REPO / "combine-config" / "workflows" / "software_product_development" / "releases"


def real(name: str) -> dict:
    """A definition from the source system's fixtures (skip when they are absent)."""
    path = FIXTURES / name
    if not path.exists():
        pytest.skip(SKIP)
    return json.loads(path.read_text(encoding="utf-8-sig"))


def real_spd() -> dict:
    return real(
        "thecombine-config/workflows/software_product_development/releases/1.0.0/definition.json"
    )


def ours(version: str = "1.1.0") -> dict:
    return yaml.safe_load((OURS / version / "definition.yaml").read_text())


def found(definition: dict) -> list[tuple[str, str, str]]:
    return [(p.severity, p.code, p.pointer) for p in problems(definition)]


def test_every_real_definition_and_revision_has_no_error_but_revision_03():
    files = sorted((FIXTURES / "thecombine").glob("*.json")) if FIXTURES.exists() else []
    files += sorted((FIXTURES / "thecombine-config").glob("workflows/*/releases/*/definition.json"))
    if not files:
        pytest.skip(SKIP)
    checked = 0
    for path in files:
        definition = json.loads(path.read_text(encoding="utf-8-sig"))
        if "steps" not in definition:
            continue  # graph-shaped workflows are not POWs
        checked += 1
        errors = [p for p in problems(definition) if p.severity == ERROR]
        if "software_product_development__1.0.0__03_" in path.name:
            assert [(p.code, p.pointer) for p in errors] == [
                ("unknown_document_type", "/steps/1/produces"),
                ("invalid_reference", "/steps/2/inputs/1/doc_type"),
            ]
            assert "primary_implementation_plan" in errors[0].message
        else:
            assert errors == [], path.name
    assert checked == 16


@pytest.mark.parametrize("version", ["1.0.0", "1.1.0"])
def test_our_releases_have_no_problem(version):
    assert found(ours(version)) == []


def test_intake_and_route_with_object_and_empty_produces_and_no_document_types_is_fine():
    definition = real("thecombine-config/workflows/intake_and_route/releases/1.0.0/definition.json")
    assert "document_types" not in definition
    assert found(definition) == []


def test_a_definition_declaring_nothing_is_checked_for_structure_only():
    bare = {"workflow_id": "x", "steps": [{"step_id": "a", "produces": {"odd": 1}, "scope": 3}]}
    assert found(bare) == []


@pytest.mark.parametrize("source", ["real", "ours"])
def test_producing_an_undeclared_document_type_is_an_error(source):
    definition = real_spd() if source == "real" else ours()
    definition["steps"][0]["produces"] = "renamed_brief"
    assert ("error", "unknown_document_type", "/steps/0/produces") in found(definition)
    message = next(p.message for p in problems(definition) if p.code == "unknown_document_type")
    assert message == "The step produces 'renamed_brief', which is not a declared document type."


def test_an_unknown_scope_anywhere_is_an_error():
    definition = real_spd()
    definition["document_types"]["project_discovery"]["scope"] = "programme"
    definition["entity_types"]["work_package"]["creates_scope"] = "team"
    definition["steps"][1]["inputs"][0]["scope"] = "portfolio"
    codes = {(p.code, p.pointer) for p in problems(definition)}
    assert ("unknown_scope", "/document_types/project_discovery/scope") in codes
    assert ("unknown_scope", "/entity_types/work_package/creates_scope") in codes
    assert ("unknown_scope", "/steps/1/inputs/0/scope") in codes


def test_a_scope_cycle_or_unknown_parent_is_an_error():
    definition = real_spd()
    definition["scopes"]["project"]["parent"] = "work_statement"
    assert ("error", "invalid_scope_hierarchy", "/scopes/project/parent") in found(definition)
    definition = real_spd()
    definition["scopes"]["work_package"]["parent"] = "programme"
    assert ("error", "invalid_scope_hierarchy", "/scopes/work_package/parent") in found(definition)


def test_may_own_and_iteration_name_declared_entity_types():
    definition = real_spd()
    definition["document_types"]["work_package"]["may_own"] = ["task"]
    iteration = definition["steps"][4]["iterate_over"]
    iteration["entity_type"] = "work_statement"
    result = found(definition)
    assert ("error", "unknown_entity_type", "/document_types/work_package/may_own/0") in result
    assert ("error", "missing_iteration_source", "/steps/4/iterate_over/entity_type") in result


def test_an_iteration_over_an_unknown_document_or_without_a_collection_is_an_error():
    definition = real_spd()
    definition["steps"][4]["iterate_over"]["doc_type"] = "nothing"
    assert ("error", "missing_iteration_source", "/steps/4/iterate_over/doc_type") in found(
        definition
    )
    definition = real_spd()
    del definition["steps"][4]["iterate_over"]["collection_field"]
    assert ("error", "missing_iteration_source", "/steps/4/iterate_over/collection_field") in found(
        definition
    )


def test_a_step_producing_a_document_of_another_scope_is_an_error():
    definition = real_spd()
    definition["steps"][0]["scope"] = "work_package"
    assert ("error", "scope_mismatch", "/steps/0") in found(definition)


def test_an_input_naming_an_unknown_type_is_an_error():
    definition = real_spd()
    definition["steps"][1]["inputs"][0]["doc_type"] = "nothing"
    assert ("error", "invalid_reference", "/steps/1/inputs/0/doc_type") in found(definition)


def test_reference_rules_sibling_descendant_and_cross_branch():
    definition = real_spd()
    nested = definition["steps"][4]["steps"][0]
    nested["inputs"][0]["context"] = False  # the work package, but not as the iteration's item
    assert ("error", "forbidden_sibling_reference", "/steps/4/steps/0/inputs/0") in found(
        definition
    )
    definition = real_spd()
    definition["steps"][3]["inputs"].append({"doc_type": "work_statement", "scope": "work_package"})
    assert ("error", "forbidden_descendant_reference", "/steps/3/inputs/3") in found(definition)
    definition["steps"][3]["inputs"][3]["collect"] = "all"
    assert not [p for p in problems(definition) if p.code == "forbidden_descendant_reference"]
    definition = real_spd()
    definition["scopes"]["team"] = {"parent": "project"}
    definition["steps"][4]["steps"][0]["inputs"].append(
        {"doc_type": "work_package", "scope": "team"}
    )
    assert ("error", "forbidden_cross_branch_reference", "/steps/4/steps/0/inputs/2") in found(
        definition
    )


def test_removing_code_review_warns_that_release_readiness_reads_what_nothing_produces():
    definition = ours()
    epic_steps = definition["steps"][4]["steps"]
    assert epic_steps[2]["step_id"] == "code_review"
    del epic_steps[2]
    assert found(definition) == [("warning", "input_never_produced", "/steps/5/inputs/2/doc_type")]
    (warning,) = problems(definition)
    assert warning.message == "The input 'review_record' is produced by no step of this workflow."


def test_moving_delivery_planning_above_its_input_warns_it_would_run_first():
    definition = ours()
    steps = definition["steps"]
    assert [steps[2]["step_id"], steps[3]["step_id"]] == [
        "solution_architecture",
        "delivery_planning",
    ]
    steps[2], steps[3] = steps[3], steps[2]
    assert found(definition) == [
        ("warning", "input_not_produced_earlier", "/steps/2/inputs/2/doc_type")
    ]
    assert "solution_architecture" in problems(definition)[0].message


def test_errors_added_ignores_an_error_already_there_and_names_a_new_one():
    broken = real("thecombine/software_product_development__1.0.0__03_2026-02-06_996663b.json")
    still = copy.deepcopy(broken)
    still["description"] = "Only the description changed."
    assert errors_added(broken, still) == []
    worse = copy.deepcopy(still)
    worse["steps"][0]["produces"] = "nothing"
    assert [(p.code, p.pointer) for p in errors_added(broken, worse)] == [
        ("unknown_document_type", "/steps/0/produces")
    ]


def test_warnings_come_after_errors_and_severities_are_the_two_words():
    definition = ours()
    definition["steps"][0]["produces"] = "nothing"
    severities = [p.severity for p in problems(definition)]
    assert severities == sorted(severities, key=lambda s: s != ERROR)
    assert set(severities) <= {ERROR, WARNING}


def test_an_error_a_step_already_had_is_not_added_by_moving_that_step():
    broken = ours()
    broken["steps"][0]["produces"] = "renamed_brief"
    moved = copy.deepcopy(broken)
    moved["steps"].insert(1, moved["steps"].pop(0))  # the broken step moves down one place
    assert ("error", "unknown_document_type", "/steps/1/produces") in found(moved)
    assert errors_added(broken, moved) == []
    # The same error on another step is that step's new error.
    moved["steps"][2]["produces"] = "renamed_brief"
    assert [(p.code, p.pointer) for p in errors_added(broken, moved)] == [
        ("unknown_document_type", "/steps/2/produces")
    ]


def test_a_definition_without_errors_adds_none_without_checking_the_one_before(monkeypatch):
    import combine_app.definition.rules as module

    checked = []
    real_problems = module.problems
    monkeypatch.setattr(module, "problems", lambda d: checked.append(d) or real_problems(d))
    before, after = {"steps": "not even steps"}, ours()
    assert errors_added(before, after) == []
    assert checked == [after]  # the save's own definition only
