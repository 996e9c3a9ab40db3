"""Unit tests of drift items: keys, origins, fingerprints and acceptance matching (pure)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from combine_app.workflows.diff import drift
from combine_app.workflows.drift_items import (
    ACCEPTED,
    CHANGED_SINCE,
    NOT_A_DIFFERENCE,
    acceptance_status,
    drift_items,
    explain,
    explained_drift,
    item_key,
)
from tests.workflows.test_diff import base_ref_for, definition, step
from tests.workflows.test_diff_real_revisions import EXPECTED, PAIRS, SPD, Expected, load

WHEN = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
TODAY = WHEN.date()


def base_workflow() -> dict[str, Any]:
    """A definition with a nested iteration, the base of most tests."""
    return definition(
        step("discovery", role="analyst", task_prompt="Find out."),
        step("design", role="architect", task_prompt="Design it."),
        step(
            "per_epic",
            step("build", role="developer", task_prompt="Build it."),
            step("review", role="reviewer"),
            iterate_over="epics",
        ),
        step("release", role="ops"),
        description="The base.",
    )


def by_key(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {item["key"]: item for item in items}


def steps_of(workflow: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every step of a definition by step_id, nested ones included (for editing in tests)."""
    found: dict[str, dict[str, Any]] = {}
    pending = list(workflow["steps"])
    while pending:
        current = pending.pop()
        found[current["step_id"]] = current
        pending.extend(current.get("steps", []))
    return found


def accept(item: dict[str, Any], reason: str = "Intended.") -> dict[str, Any]:
    return {
        "key": item["key"],
        "fingerprint": item["fingerprint"],
        "reason": reason,
        "status": "accepted",
        "review_by": None,
        "accepted_by": "alice",
        "accepted_at": WHEN,
    }


# --- items and keys ---------------------------------------------------------------------------


def test_no_difference_gives_no_item():
    base = base_workflow()
    assert drift_items(base, copy.deepcopy(base), base) == []


def test_every_kind_of_difference_is_one_item_with_a_stable_key():
    source = base_workflow()
    instance = copy.deepcopy(source)
    at = steps_of(instance)
    at["design"]["task_prompt"] = "Design it twice."
    at["design"]["owner"] = "team a"
    del at["discovery"]["role"]
    instance["steps"].remove(at["release"])
    instance["steps"].insert(0, step("kickoff", role="lead"))
    at["per_epic"]["steps"].reverse()  # review now before build: one move inside per_epic
    instance["description"] = "Ours."
    items = drift_items(source, instance, source)
    assert [item["key"] for item in items] == [
        "step_added:kickoff",
        "step_removed:release",
        "step_moved:review",
        "step_modified:discovery:role",
        "step_modified:design:owner",
        "step_modified:design:task_prompt",
        "metadata_changed:description",
    ]
    found = by_key(items)
    assert found["step_added:kickoff"]["source"] is None
    assert found["step_added:kickoff"]["instance"] == {
        "parent": None,
        "position": 0,
        "step": {"step_id": "kickoff", "role": "lead"},
    }
    assert found["step_removed:release"]["source"] == {
        "parent": None,
        "position": 3,
        "step": {"step_id": "release", "role": "ops"},
    }
    assert found["step_removed:release"]["instance"] is None
    assert found["step_moved:review"]["source"] == {"parent": "per_epic", "position": 1}
    assert found["step_moved:review"]["instance"] == {"parent": "per_epic", "position": 0}
    prompt = found["step_modified:design:task_prompt"]
    assert (prompt["kind"], prompt["step_id"], prompt["field"], prompt["change"]) == (
        "step_modified",
        "design",
        "task_prompt",
        "changed",
    )
    assert (prompt["source"], prompt["instance"]) == ("Design it.", "Design it twice.")
    assert found["step_modified:discovery:role"]["change"] == "removed"
    assert found["step_modified:design:owner"]["change"] == "added"
    description = found["metadata_changed:description"]
    assert description["step_id"] is None and description["field"] == "description"
    assert (description["source"], description["instance"]) == ("The base.", "Ours.")


def test_keys_do_not_depend_on_values_and_a_field_name_may_hold_a_colon():
    assert item_key("step_modified", "design", "task_prompt") == "step_modified:design:task_prompt"
    assert item_key("metadata_changed", None, "x:y") == "metadata_changed:x:y"
    assert item_key("step_moved", "review") == "step_moved:review"
    source = base_workflow()
    one, two = copy.deepcopy(source), copy.deepcopy(source)
    steps_of(one)["build"]["task_prompt"] = "A"
    steps_of(two)["build"]["task_prompt"] = "B"
    [first] = drift_items(source, one, source)
    [second] = drift_items(source, two, source)
    assert first["key"] == second["key"] == "step_modified:build:task_prompt"
    assert first["fingerprint"] != second["fingerprint"]


def test_a_nested_step_moved_to_another_parent_is_one_move_naming_both_parents():
    source = base_workflow()
    instance = copy.deepcopy(source)
    at = steps_of(instance)
    at["per_epic"]["steps"].remove(at["build"])
    instance["steps"].insert(1, at["build"])
    [item] = drift_items(source, instance, source)
    assert item["key"] == "step_moved:build"
    assert item["source"] == {"parent": "per_epic", "position": 0}
    assert item["instance"] == {"parent": None, "position": 1}
    assert item["origin"] == "instance"


def test_a_field_that_is_null_on_one_side_is_told_from_a_missing_one():
    source = base_workflow()
    nulled, removed = copy.deepcopy(source), copy.deepcopy(source)
    steps_of(nulled)["release"]["role"] = None
    del steps_of(removed)["release"]["role"]
    [as_null] = drift_items(source, nulled, source)
    [as_missing] = drift_items(source, removed, source)
    assert as_null["instance"] is None and as_missing["instance"] is None
    assert (as_null["change"], as_missing["change"]) == ("changed", "removed")
    assert as_null["fingerprint"] != as_missing["fingerprint"]


def test_true_and_one_are_different_values_and_different_fingerprints():
    source = definition(step("a", flag=1))
    as_true = definition(step("a", flag=True))
    as_float = definition(step("a", flag=1.0))
    [one] = drift_items(source, as_true, source)
    [two] = drift_items(source, as_float, source)
    assert one["key"] == two["key"] == "step_modified:a:flag"
    assert one["fingerprint"] != two["fingerprint"]


# --- origins ----------------------------------------------------------------------------------


def test_origin_instance_when_only_the_project_changed_it():
    base = base_workflow()
    instance = copy.deepcopy(base)
    steps_of(instance)["design"]["task_prompt"] = "Ours."
    instance["steps"].append(step("retro", role="team"))
    instance["steps"].remove(steps_of(instance)["discovery"])
    items = drift_items(base, instance, base)
    assert {item["key"]: item["origin"] for item in items} == {
        "step_added:retro": "instance",
        "step_removed:discovery": "instance",
        "step_modified:design:task_prompt": "instance",
    }


def test_origin_source_when_the_release_was_edited_in_place_and_the_project_did_nothing():
    base = base_workflow()
    instance = copy.deepcopy(base)
    source = copy.deepcopy(base)
    steps_of(source)["design"]["task_prompt"] = "Governance rewrote it."
    source["steps"].append(step("audit", role="auditor"))  # in the source only: "removed"
    source["steps"].remove(steps_of(source)["release"])  # in the instance only: "added"
    steps_of(source)["per_epic"]["steps"].reverse()
    source["version_note"] = "new"
    items = drift_items(source, instance, base)
    assert {item["key"]: item["origin"] for item in items} == {
        "step_added:release": "source",
        "step_removed:audit": "source",
        "step_moved:build": "source",
        "step_modified:design:task_prompt": "source",
        "metadata_changed:version_note": "source",
    }


def test_origin_both_when_each_side_changed_the_same_field_differently():
    base = base_workflow()
    instance, source = copy.deepcopy(base), copy.deepcopy(base)
    steps_of(instance)["design"]["task_prompt"] = "Ours."
    steps_of(source)["design"]["task_prompt"] = "Theirs."
    instance["description"] = "Ours."
    source["description"] = "Theirs."
    steps_of(source)["release"]["role"] = "platform"  # source only
    items = drift_items(source, instance, base)
    assert {item["key"]: item["origin"] for item in items} == {
        "step_modified:design:task_prompt": "both",
        "step_modified:release:role": "source",
        "metadata_changed:description": "both",
    }


def test_origin_both_when_each_side_added_the_same_step_with_other_fields():
    base = base_workflow()
    instance, source = copy.deepcopy(base), copy.deepcopy(base)
    instance["steps"].append(step("retro", role="team"))
    source["steps"].append(step("retro", role="coach"))
    [item] = drift_items(source, instance, base)
    assert (item["key"], item["origin"]) == ("step_modified:retro:role", "both")


def test_moves_across_parents_on_both_sides_get_their_own_origin():
    base = base_workflow()
    instance, source = copy.deepcopy(base), copy.deepcopy(base)
    # The project pulls build out of the loop; the source moves release into it.
    at = steps_of(instance)
    at["per_epic"]["steps"].remove(at["build"])
    instance["steps"].insert(0, at["build"])
    theirs = steps_of(source)
    source["steps"].remove(theirs["release"])
    theirs["per_epic"]["steps"].append(theirs["release"])
    items = by_key(drift_items(source, instance, base))
    assert items["step_moved:build"]["origin"] == "instance"
    assert items["step_moved:release"]["origin"] == "source"
    assert items["step_moved:release"]["source"] == {"parent": "per_epic", "position": 2}
    assert items["step_moved:release"]["instance"] == {"parent": None, "position": 4}


def test_without_a_base_snapshot_every_origin_is_unknown():
    base = base_workflow()
    instance = copy.deepcopy(base)
    steps_of(instance)["design"]["task_prompt"] = "Ours."
    [item] = drift_items(base, instance, None)
    assert item["origin"] == "unknown"
    assert item["fingerprint"] == drift_items(base, instance, base)[0]["fingerprint"]


# --- acceptance -------------------------------------------------------------------------------


def test_an_accepted_item_is_explained_while_both_sides_stay_as_they_were():
    base = base_workflow()
    instance = copy.deepcopy(base)
    steps_of(instance)["design"]["task_prompt"] = "Ours."
    steps_of(instance)["release"]["role"] = "sre"
    items = drift_items(base, instance, base)
    accepted = {items[0]["key"]: accept(items[0])}
    explained = by_key(explain(items, accepted, today=TODAY))
    design = explained["step_modified:design:task_prompt"]
    assert design["explained"] is True
    assert design["acceptance"]["status"] == ACCEPTED
    assert design["acceptance"]["reason"] == "Intended."
    release = explained["step_modified:release:role"]
    assert release["explained"] is False and release["acceptance"] is None


def test_changing_the_instance_side_again_makes_the_item_unexplained_with_the_old_acceptance():
    base = base_workflow()
    instance = copy.deepcopy(base)
    steps_of(instance)["design"]["task_prompt"] = "Ours."
    [item] = drift_items(base, instance, base)
    accepted = {item["key"]: accept(item)}
    steps_of(instance)["design"]["task_prompt"] = "Ours, rewritten."
    [again] = explain(drift_items(base, instance, base), accepted, today=TODAY)
    assert again["key"] == item["key"]
    assert again["explained"] is False
    assert again["acceptance"]["status"] == CHANGED_SINCE
    assert again["acceptance"]["reason"] == "Intended."


def test_changing_the_source_side_makes_an_accepted_item_unexplained_too():
    base = base_workflow()
    instance = copy.deepcopy(base)
    steps_of(instance)["design"]["task_prompt"] = "Ours."
    [item] = drift_items(base, instance, base)
    accepted = {item["key"]: accept(item)}
    source = copy.deepcopy(base)
    steps_of(source)["design"]["task_prompt"] = "Governance rewrote it."
    [again] = explain(drift_items(source, instance, base), accepted, today=TODAY)
    assert again["origin"] == "both"
    assert again["acceptance"]["status"] == CHANGED_SINCE and again["explained"] is False


def test_acceptance_status_names_acceptances_whose_difference_is_gone():
    base = base_workflow()
    instance = copy.deepcopy(base)
    steps_of(instance)["design"]["task_prompt"] = "Ours."
    [item] = drift_items(base, instance, base)
    acceptance = accept(item)
    assert acceptance_status(acceptance, {item["key"]: item}, today=TODAY) == ACCEPTED
    assert acceptance_status(
        {**acceptance, "fingerprint": "sha256:0"}, {item["key"]: item}, today=TODAY
    ) == (CHANGED_SINCE)
    assert acceptance_status(acceptance, {}, today=TODAY) == NOT_A_DIFFERENCE


# --- the drift response -----------------------------------------------------------------------


def test_explained_drift_keeps_every_field_of_the_drift_response_and_adds_three():
    base = base_workflow()
    instance = copy.deepcopy(base)
    steps_of(instance)["design"]["task_prompt"] = "Ours."
    instance["steps"].append(step("retro"))
    plain = drift(instance, base, base_ref_for(base), "1.0.0")
    [design, retro] = drift_items(base, instance, base)
    response = explained_drift(
        instance,
        base,
        base_ref_for(base),
        "1.0.0",
        base,
        {design["key"]: accept(design)},
        today=TODAY,
    )
    assert {key: response[key] for key in plain} == plain
    assert set(response) - set(plain) == {"items", "unexplained_count", "is_drifted_unexplained"}
    assert response["is_drifted"] is True
    assert response["unexplained_count"] == 1
    assert response["is_drifted_unexplained"] is True
    everything = {retro["key"]: accept(retro), design["key"]: accept(design)}
    settled = explained_drift(
        instance, base, base_ref_for(base), "1.0.0", base, everything, today=TODAY
    )
    assert settled["is_drifted"] is True
    assert (settled["unexplained_count"], settled["is_drifted_unexplained"]) == (0, False)


def test_explained_drift_in_sync_has_no_items():
    base = base_workflow()
    response = explained_drift(
        copy.deepcopy(base), base, base_ref_for(base), None, base, {}, today=TODAY
    )
    assert response["items"] == [] and response["unexplained_count"] == 0
    assert response["is_drifted"] is False and response["is_drifted_unexplained"] is False


def test_without_a_source_nothing_can_be_explained_and_drift_stays_unexplained():
    base = base_workflow()
    instance = copy.deepcopy(base)
    steps_of(instance)["design"]["task_prompt"] = "Ours."
    response = explained_drift(instance, None, base_ref_for(base), None, base, {}, today=TODAY)
    assert response["source_available"] is False and response["items"] == []
    assert response["is_drifted"] is True and response["is_drifted_unexplained"] is True
    untouched = explained_drift(
        copy.deepcopy(base), None, base_ref_for(base), None, base, {}, today=TODAY
    )
    assert untouched["is_drifted_unexplained"] is False


# --- the real revision series of software_product_development ---------------------------------

SPD_PAIRS = [pair for pair in PAIRS if pair[0] == SPD]


def expected_keys(expected: Expected, *, inverted: bool) -> set[str]:
    """The item keys a hand-checked pair implies, old -> new (or new -> old when inverted)."""
    added = {step_id for step_id, *_ in expected.added}
    removed = {step_id for step_id, *_ in expected.removed}
    if inverted:
        added, removed = removed, added
    keys = {f"step_added:{step_id}" for step_id in added}
    keys |= {f"step_removed:{step_id}" for step_id in removed}
    keys |= {f"step_moved:{m[0]}" for m in expected.moved}
    keys |= {
        f"step_modified:{step_id}:{name}"
        for step_id, fields in expected.modified.items()
        for name in fields
    }
    keys |= {f"metadata_changed:{name}" for name in expected.metadata}
    return keys


@pytest.mark.parametrize(
    ("workflow", "old_nn", "new_nn"), SPD_PAIRS, ids=["-".join(p) for p in SPD_PAIRS]
)
def test_real_release_edited_in_place_is_blamed_on_the_source(workflow, old_nn, new_nn):
    # The instance was made from the old file and left alone; the file was then edited in place.
    old, new = load(workflow, old_nn), load(workflow, new_nn)
    items = drift_items(new, copy.deepcopy(old), old)
    assert {item["origin"] for item in items} == {"source"}
    expected = EXPECTED[(workflow, old_nn, new_nn)]
    # Seen backwards, a swap of neighbours names the other step of the two as moved.
    moves = [item for item in items if item["kind"] == "step_moved"]
    assert len(moves) == len(expected.moved)
    assert {item["key"] for item in items if item not in moves} == {
        key for key in expected_keys(expected, inverted=True) if not key.startswith("step_moved")
    }


@pytest.mark.parametrize(
    ("workflow", "old_nn", "new_nn"), SPD_PAIRS, ids=["-".join(p) for p in SPD_PAIRS]
)
def test_real_edits_made_by_the_project_are_blamed_on_the_instance(workflow, old_nn, new_nn):
    # The project made the same edits to its own copy; the source stayed as it was.
    old, new = load(workflow, old_nn), load(workflow, new_nn)
    items = drift_items(old, copy.deepcopy(new), old)
    assert {item["origin"] for item in items} == {"instance"}
    assert {item["key"] for item in items} == expected_keys(
        EXPECTED[(workflow, old_nn, new_nn)], inverted=False
    )


def test_real_series_with_both_sides_edited_tells_each_item_apart():
    # Instance from 08; the project makes 09's work-package rework itself and renames the
    # discovery step's role; meanwhile the file is edited in place into 10.
    base, instance, source = load(SPD, "08"), load(SPD, "09"), load(SPD, "10")
    [discovery] = [s for s in instance["steps"] if s["step_id"] == "discovery"]
    discovery["role"] = "Our analyst"
    origins = {item["key"]: item["origin"] for item in drift_items(source, instance, base)}
    assert origins == {
        "step_modified:discovery:role": "instance",
        # 09 -> 10 renamed the primary plan's type in steps the project never touched.
        "step_modified:primary_plan:produces": "source",
        "step_modified:implementation_plan:inputs": "source",
        "step_modified:technical_architecture:inputs": "source",
        # Both sides rewrote document_types since 08, to different texts.
        "metadata_changed:document_types": "both",
    }


def test_real_acceptance_survives_an_unrelated_source_edit_and_not_a_related_one():
    base = load(SPD, "02")
    instance = copy.deepcopy(base)
    [discovery] = [s for s in instance["steps"] if s["step_id"] == "discovery"]
    discovery["task_prompt"] = "Our own discovery prompt."
    [item] = drift_items(base, instance, base)
    accepted = {item["key"]: accept(item)}
    # 02 -> 03 touches other steps only: the acceptance still explains the project's edit.
    later = by_key(explain(drift_items(load(SPD, "03"), instance, base), accepted, today=TODAY))
    assert later[item["key"]]["explained"] is True
    assert {i["origin"] for k, i in later.items() if k != item["key"]} == {"source"}


# --- requests and review dates ---------------------------------------------------------------


def test_a_request_explains_nothing_until_it_is_accepted():
    base = base_workflow()
    instance = copy.deepcopy(base)
    steps_of(instance)["design"]["task_prompt"] = "Ours."
    [design] = drift_items(base, instance, base)
    requested = {**accept(design), "status": "requested", "accepted_by": None}
    [explained] = explain([design], {design["key"]: requested}, today=TODAY)
    assert explained["explained"] is False
    assert explained["acceptance"]["status"] == "requested"


def test_an_acceptance_explains_through_its_review_by_date_and_expires_the_day_after():
    base = base_workflow()
    instance = copy.deepcopy(base)
    steps_of(instance)["design"]["task_prompt"] = "Ours."
    [design] = drift_items(base, instance, base)
    accepted = {design["key"]: {**accept(design), "review_by": TODAY.isoformat()}}
    [on_the_day] = explain([design], accepted, today=TODAY)
    assert on_the_day["explained"] is True and on_the_day["acceptance"]["status"] == "accepted"
    [day_after] = explain([design], accepted, today=TODAY + timedelta(days=1))
    assert day_after["explained"] is False and day_after["acceptance"]["status"] == "expired"


def test_a_changed_item_is_changed_since_whether_requested_accepted_or_expired():
    base = base_workflow()
    instance = copy.deepcopy(base)
    steps_of(instance)["design"]["task_prompt"] = "Ours."
    [design] = drift_items(base, instance, base)
    stale = {**accept(design), "fingerprint": "sha256:0", "review_by": "2000-01-01"}
    for status in ("requested", "accepted"):
        row = {**stale, "status": status}
        assert acceptance_status(row, {design["key"]: design}, today=TODAY) == "changed_since"
