"""validate_pow, is_pow and parse_semver: the rules every POW definition must meet."""

from __future__ import annotations

import datetime

import pytest

from combine_app.catalog.validation import (
    MAX_ERRORS,
    count_steps,
    is_graph,
    is_pow,
    iter_steps,
    parse_semver,
    validate_pow,
)


def test_valid_pow_has_no_errors(make_pow):
    assert validate_pow(make_pow()) == {}


def test_template_with_derived_from_is_valid(make_pow):
    definition = make_pow(
        pow_class="template",
        derived_from={"workflow_id": "software_product_development", "version": "1.0.0"},
        source_version="1.0.0",
    )
    assert validate_pow(definition) == {}


@pytest.mark.parametrize("value", [None, [], "steps", 3])
def test_non_mapping_is_reported_at_the_root(value):
    errors = validate_pow(value)
    assert list(errors) == [""]
    assert "must be a mapping" in errors[""][0]


@pytest.mark.parametrize(
    "workflow_id", [None, "", "Software", "1flow", "flow-x", "a" * 101, "ok\n"]
)
def test_bad_workflow_id_is_reported(make_pow, workflow_id):
    assert "/workflow_id" in validate_pow(make_pow(workflow_id=workflow_id))


@pytest.mark.parametrize("name", [None, "", "   ", 7])
def test_name_must_be_a_non_empty_string(make_pow, name):
    assert "/name" in validate_pow(make_pow(name=name))


def test_instance_pow_class_is_refused_in_config(make_pow):
    errors = validate_pow(make_pow(pow_class="instance"))
    assert "runtime data, not config" in errors["/pow_class"][0]


def test_instance_pow_class_is_accepted_for_runtime_instances(make_pow):
    assert validate_pow(make_pow(pow_class="instance"), source="instance") == {}


@pytest.mark.parametrize("pow_class", [None, "", "Reference", "draft"])
def test_unknown_pow_class_is_refused(make_pow, pow_class):
    assert "/pow_class" in validate_pow(make_pow(pow_class=pow_class))


def test_missing_steps_is_reported(make_pow):
    definition = make_pow()
    del definition["steps"]
    assert "required" in validate_pow(definition)["/steps"][0]


def test_steps_must_be_a_list(make_pow):
    assert "must be a list" in validate_pow(make_pow(steps={"a": 1}))["/steps"][0]


def test_an_empty_steps_list_is_allowed(make_pow):
    assert validate_pow(make_pow(steps=[])) == {}


def test_step_must_be_a_mapping(make_pow):
    errors = validate_pow(make_pow(steps=[{"step_id": "a"}, "b"]))
    assert "must be a mapping" in errors["/steps/1"][0]


def test_nested_steps_must_be_a_list_of_mappings(make_pow):
    steps = [
        {"step_id": "outer", "steps": "not a list"},
        {"step_id": "loop", "steps": [{"step_id": "fine"}, 42]},
    ]
    errors = validate_pow(make_pow(steps=steps))
    assert "must be a list" in errors["/steps/0/steps"][0]
    assert "must be a mapping" in errors["/steps/1/steps/1"][0]


@pytest.mark.parametrize(
    "step_id", [None, "", "Draft", "2draft", "draft-one", "draft one", "draft\n", "é", 5]
)
def test_malformed_step_id_is_reported_at_its_pointer(make_pow, step_id):
    errors = validate_pow(make_pow(steps=[{"step_id": "ok"}, {"step_id": step_id}]))
    assert list(errors) == ["/steps/1/step_id"]


def test_step_id_longer_than_100_characters_is_refused(make_pow):
    assert validate_pow(make_pow(steps=[{"step_id": "a" * 100}])) == {}
    errors = validate_pow(make_pow(steps=[{"step_id": "a" * 101}]))
    assert "at most 100 characters" in errors["/steps/0/step_id"][0]


def test_duplicate_step_id_in_nested_steps_names_the_first_place(make_pow):
    steps = [
        {"step_id": "draft"},
        {"step_id": "loop", "steps": [{"step_id": "check"}, {"step_id": "draft"}]},
    ]
    errors = validate_pow(make_pow(steps=steps))
    message = errors["/steps/1/steps/1/step_id"][0]
    assert "duplicate step_id 'draft'" in message
    assert "/steps/0" in message


def test_duplicate_is_found_in_document_order_across_branches(make_pow):
    steps = [
        {"step_id": "a", "steps": [{"step_id": "inner"}]},
        {"step_id": "b", "steps": [{"step_id": "inner"}]},
    ]
    errors = validate_pow(make_pow(steps=steps))
    assert errors == {
        "/steps/1/steps/0/step_id": ["duplicate step_id 'inner': first used at /steps/0/steps/0"]
    }


@pytest.mark.parametrize(
    "derived_from",
    [
        "software_product_development",
        {"workflow_id": "x"},
        {"version": "1.0.0"},
        {"workflow_id": "x", "version": "latest"},
    ],
)
def test_bad_derived_from_is_reported(make_pow, derived_from):
    errors = validate_pow(make_pow(derived_from=derived_from))
    assert any(pointer.startswith("/derived_from") for pointer in errors)


def test_graph_keys_in_a_pow_are_reported(make_pow):
    errors = validate_pow(make_pow(nodes=[], edges=[]))
    assert "nodes/edges" in errors[""][0]


def test_non_json_values_are_reported_with_their_pointer(make_pow):
    steps = [{"step_id": "a", "due": datetime.date(2026, 1, 1), "weight": float("nan"), 3: "x"}]
    errors = validate_pow(make_pow(steps=steps))
    assert "not JSON data" in errors["/steps/0/due"][0]
    assert "not a JSON number" in errors["/steps/0/weight"][0]
    assert "keys must be strings" in errors["/steps/0"][0]


def test_a_thousand_levels_of_nesting_gives_an_error_not_a_crash(make_pow):
    root: dict = {"step_id": "level_0"}
    node = root
    for level in range(1, 1000):
        child = {"step_id": f"level_{level}"}
        node["steps"] = [child]
        node = child
    errors = validate_pow(make_pow(steps=[root]))
    assert any("nested more than 16 levels" in m for messages in errors.values() for m in messages)


def test_a_hundred_thousand_steps_gives_an_error_not_a_crash(make_pow):
    steps = [{"step_id": f"s{index}"} for index in range(100_000)]
    errors = validate_pow(make_pow(steps=steps))
    assert "more than 10,000 steps" in errors["/steps"][0]


def test_error_collection_stops_after_about_fifty(make_pow):
    errors = validate_pow(make_pow(steps=[{"step_id": "BAD"} for _ in range(500)]))
    total = sum(len(messages) for messages in errors.values())
    assert total == MAX_ERRORS + 1
    assert "stopped after" in errors[""][-1]


def test_is_pow_tells_step_lists_from_graphs(make_pow):
    assert is_pow(make_pow())
    assert not is_pow({"nodes": [], "edges": []})
    assert not is_pow(make_pow(nodes=[]))
    assert not is_pow({"steps": "x"})
    assert not is_pow(["steps"])
    assert is_graph({"nodes": [], "edges": []})
    assert not is_graph(make_pow())


def test_iter_steps_walks_the_whole_tree_in_document_order(make_pow):
    pointers = [pointer for pointer, _ in iter_steps(make_pow()["steps"])]
    assert pointers == ["/steps/0", "/steps/1", "/steps/1/steps/0"]
    assert count_steps(make_pow()) == 3


def test_semver_sorts_numerically():
    versions = ["1.10.0", "1.9.0", "1.2.0", "0.9.12", "2.0.0", "1.9.10"]
    assert sorted(versions, key=parse_semver) == [
        "0.9.12",
        "1.2.0",
        "1.9.0",
        "1.9.10",
        "1.10.0",
        "2.0.0",
    ]
    assert parse_semver("1.10.0") > parse_semver("1.9.0")


@pytest.mark.parametrize(
    "value", ["", "1", "1.0", "v1.0.0", "01.0.0", "1.0.0-rc.1", "1.0.0\n", " 1.0.0", None, 1.0]
)
def test_invalid_semver_raises_value_error(value):
    with pytest.raises(ValueError):
        parse_semver(value)
