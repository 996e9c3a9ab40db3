"""Accepted deviations through /api/v1 on both databases: accept, re-flag, withdraw, refuse."""

from __future__ import annotations

import json
import shutil

import pytest
from sqlalchemy import func, select

from combine_app.catalog.app_loader import EXTENSION_KEY
from combine_app.catalog.loader import PackageLoader
from combine_app.workflows.models import (
    MAX_DEVIATION_KEY_LENGTH,
    AcceptedDeviation,
    WorkflowInstanceCheckpoint,
    WorkflowInstanceHistory,
)
from combine_app.workflows.revisions import CHECKPOINT_EVERY

from .instance_support import CONFIG_DIR, SPD, find_step, source, with_step_field

PROMPT_KEY = "step_modified:product_discovery:task_prompt"


@pytest.fixture
def key(make_project, alice) -> str:
    """The key of one of alice's projects."""
    return make_project(alice).project_id


@pytest.fixture
def created(api, key) -> dict:
    """SPD 1.1.0 assigned to the project, its discovery prompt then edited (revision 2)."""
    response = api.post(f"/projects/{key}/workflow", json={"workflow_id": SPD, "version": "1.1.0"})
    assert response.status_code == 201, response.get_json()
    edit(api, key, "Our own discovery prompt.")
    return api.get(f"/projects/{key}/workflow").get_json()


def edit(api, key: str, prompt: str) -> None:
    current = api.get(f"/projects/{key}/workflow").get_json()["effective_workflow"]
    changed = with_step_field(current, "product_discovery", "task_prompt", prompt)
    response = api.put(f"/projects/{key}/workflow", json={"effective_workflow": changed})
    assert response.status_code == 200, response.get_json()


def drift(api, key: str) -> dict:
    response = api.get(f"/projects/{key}/workflow/drift")
    assert response.status_code == 200
    return response.get_json()


def accept(api, key: str, item_key: str = PROMPT_KEY, reason: str = "Our discovery differs."):
    return api.post(
        f"/projects/{key}/workflow/deviations", json={"key": item_key, "reason": reason}
    )


def item(drift_response: dict, item_key: str = PROMPT_KEY) -> dict:
    return next(entry for entry in drift_response["items"] if entry["key"] == item_key)


def history_types(api, key: str) -> list[str]:
    entries = api.get(f"/projects/{key}/workflow/history?limit=100").get_json()["entries"]
    return [entry["change_type"] for entry in entries]


def test_drift_lists_each_difference_as_an_unexplained_item_of_the_instance(api, key, created):
    response = drift(api, key)
    assert response["is_drifted"] is True
    assert [entry["key"] for entry in response["items"]] == [PROMPT_KEY]
    prompt = item(response)
    assert prompt["origin"] == "instance"
    assert prompt["instance"] == "Our own discovery prompt."
    assert prompt["source"] == find_step(source(), "product_discovery")["task_prompt"]
    assert prompt["explained"] is False and prompt["acceptance"] is None
    assert (response["unexplained_count"], response["is_drifted_unexplained"]) == (1, True)


def test_accepting_explains_the_item_and_records_who_when_why(api, key, created, alice):
    response = accept(api, key, reason="  Our discovery differs.  ")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["key"] == PROMPT_KEY and body["kind"] == "step_modified"
    assert body["reason"] == "Our discovery differs."  # trimmed
    assert body["accepted_by"] == alice.username
    assert body["status"] == "accepted" and body["revision"] == 3
    after = drift(api, key)
    assert after["is_drifted"] is True  # the spec's field keeps its meaning
    assert (after["unexplained_count"], after["is_drifted_unexplained"]) == (0, False)
    prompt = item(after)
    assert prompt["explained"] is True
    assert prompt["acceptance"]["reason"] == "Our discovery differs."
    assert prompt["acceptance"]["status"] == "accepted"
    listed = api.get(f"/projects/{key}/workflow/deviations").get_json()
    assert listed["total"] == 1 and listed["deviations"] == [body]
    assert history_types(api, key)[0] == "deviation_accepted"
    assert api.get(f"/projects/{key}/workflow").get_json()["revision"] == 3


def test_accepting_writes_one_history_entry_in_the_same_transaction(api, key, created, db_session):
    accept(api, key)
    entries = db_session.scalars(
        select(WorkflowInstanceHistory).where(
            WorkflowInstanceHistory.change_type == "deviation_accepted"
        )
    ).all()
    assert len(entries) == 1
    detail = entries[0].change_detail
    assert detail["key"] == PROMPT_KEY and detail["reason"] == "Our discovery differs."
    assert detail["origin"] == "instance" and detail["revision"] == entries[0].revision == 3


def test_changing_the_accepted_step_again_makes_it_unexplained_with_the_old_acceptance(
    api, key, created
):
    accept(api, key)
    edit(api, key, "Rewritten once more.")
    after = drift(api, key)
    prompt = item(after)
    assert prompt["explained"] is False
    assert prompt["acceptance"]["status"] == "changed_since"
    assert prompt["acceptance"]["reason"] == "Our discovery differs."
    assert (after["unexplained_count"], after["is_drifted_unexplained"]) == (1, True)
    [listed] = api.get(f"/projects/{key}/workflow/deviations").get_json()["deviations"]
    assert listed["status"] == "changed_since"
    # Accepting it again replaces the acceptance and names what it replaces in history.
    again = accept(api, key, reason="Still intended.")
    assert again.status_code == 201 and again.get_json()["status"] == "accepted"
    assert drift(api, key)["unexplained_count"] == 0


def test_an_in_place_edit_of_the_source_re_flags_an_accepted_item(
    app, api, key, created, tmp_path, monkeypatch
):
    accept(api, key)
    config = tmp_path / "combine-config"
    shutil.copytree(CONFIG_DIR, config)
    release = config / "workflows" / SPD / "releases" / "1.1.0"
    edited = source()
    find_step(edited, "product_discovery")["task_prompt"] = "Governance rewrote it in place."
    find_step(edited, "product_discovery")["role"] = "Governance analyst"
    (release / "definition.yaml").unlink()
    (release / "definition.json").write_text(json.dumps(edited), encoding="utf-8")
    monkeypatch.setitem(app.extensions, EXTENSION_KEY, PackageLoader(config))
    after = drift(api, key)
    assert after["source_changed"] is True
    prompt = item(after)
    assert prompt["explained"] is False and prompt["acceptance"]["status"] == "changed_since"
    # The base snapshot tells the governance team's edit from the project's.
    assert item(after, "step_modified:product_discovery:role")["origin"] == "source"
    assert prompt["origin"] == "both"
    assert after["unexplained_count"] == 2


def test_withdrawing_makes_the_item_unexplained_and_is_recorded(api, key, created, db_session):
    accept(api, key)
    response = api.delete(f"/projects/{key}/workflow/deviations/{PROMPT_KEY}")
    assert response.status_code == 204
    assert item(drift(api, key))["acceptance"] is None
    assert api.get(f"/projects/{key}/workflow/deviations").get_json() == {
        "deviations": [],
        "total": 0,
    }
    assert history_types(api, key)[:2] == ["deviation_withdrawn", "deviation_accepted"]
    assert api.get(f"/projects/{key}/workflow").get_json()["revision"] == 4
    assert db_session.scalar(select(func.count()).select_from(AcceptedDeviation)) == 0


def test_withdrawing_a_key_without_acceptance_is_404(api, key, created):
    response = api.delete(f"/projects/{key}/workflow/deviations/{PROMPT_KEY}")
    assert response.status_code == 404
    assert response.content_type == "application/problem+json"


def test_a_key_that_is_not_a_current_difference_is_422_naming_key(api, key, created):
    response = accept(api, key, item_key="step_modified:product_discovery:role")
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    assert "/key" in response.get_json()["errors"]
    assert history_types(api, key)[0] != "deviation_accepted"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"key": PROMPT_KEY}, "/reason"),
        ({"key": PROMPT_KEY, "reason": "   "}, "/reason"),
        ({"key": PROMPT_KEY, "reason": "x" * 1001}, "/reason"),
        ({"reason": "Why."}, "/key"),
        ({"key": "k" * (MAX_DEVIATION_KEY_LENGTH + 1), "reason": "Why."}, "/key"),
        ({"key": PROMPT_KEY, "reason": "Why.", "extra": 1}, "/extra"),
    ],
)
def test_a_missing_blank_or_too_long_reason_is_422_and_writes_nothing(
    api, key, created, body, field, db_session
):
    response = api.post(f"/projects/{key}/workflow/deviations", json=body)
    assert response.status_code == 422
    assert field in response.get_json()["errors"]
    assert db_session.scalar(select(func.count()).select_from(AcceptedDeviation)) == 0


def test_a_reason_of_exactly_1000_characters_is_accepted(api, key, created):
    assert accept(api, key, reason="x" * 1000).status_code == 201


def test_accepting_or_withdrawing_in_an_archived_project_is_409(api, key, created):
    accept(api, key)
    assert api.post(f"/projects/{key}/archive").status_code == 200
    assert accept(api, key, reason="Other").status_code == 409
    assert api.delete(f"/projects/{key}/workflow/deviations/{PROMPT_KEY}").status_code == 409
    # Still readable.
    assert api.get(f"/projects/{key}/workflow/deviations").get_json()["total"] == 1


def test_accepting_in_a_completed_workflow_is_409(api, key, created):
    assert api.post(f"/projects/{key}/workflow/complete").status_code == 200
    response = accept(api, key)
    assert response.status_code == 409
    assert "completed" in response.get_json()["detail"]


def test_others_projects_are_404_and_anonymous_is_401(api_for, make_user, client, key, created):
    bob = api_for(make_user("bob"))
    assert accept(bob, key).status_code == 404
    assert bob.get(f"/projects/{key}/workflow/deviations").status_code == 404
    assert bob.delete(f"/projects/{key}/workflow/deviations/{PROMPT_KEY}").status_code == 404
    assert client.get(f"/api/v1/projects/{key}/workflow/deviations").status_code == 401


def test_an_identical_repeat_writes_nothing(api, key, created):
    first = accept(api, key).get_json()
    second = accept(api, key)
    assert second.status_code == 201 and second.get_json() == first
    assert history_types(api, key).count("deviation_accepted") == 1


def test_deleting_the_project_deletes_its_acceptances(api, key, created, db_session):
    accept(api, key)
    assert api.delete(f"/projects/{key}").status_code == 204
    assert db_session.scalar(select(func.count()).select_from(AcceptedDeviation)) == 0


def test_an_acceptance_that_produces_a_checkpoint_revision_keeps_the_checkpoint(
    api, key, created, db_session
):
    # Revision 2 now; saves up to 49, then the acceptance produces revision 50.
    for number in range(47):
        edit(api, key, f"Prompt number {number}.")
    assert api.get(f"/projects/{key}/workflow").get_json()["revision"] == 49
    assert accept(api, key).get_json()["revision"] == CHECKPOINT_EVERY
    instance_id = db_session.scalar(select(WorkflowInstanceHistory.instance_id).limit(1))
    checkpoint = db_session.get(WorkflowInstanceCheckpoint, (instance_id, CHECKPOINT_EVERY))
    assert checkpoint is not None
    current = api.get(f"/projects/{key}/workflow").get_json()["effective_workflow"]
    assert checkpoint.definition == current


def test_revisions_made_by_accepting_and_withdrawing_read_back_the_definition_unchanged(
    api, key, created
):
    at_two = created["effective_workflow"]
    accept(api, key, reason="Intended for now.")  # revision 3
    edit(api, key, "A later prompt.")  # revision 4
    assert api.delete(f"/projects/{key}/workflow/deviations/{PROMPT_KEY}").status_code == 204
    three = api.get(f"/projects/{key}/workflow/revisions/3").get_json()
    assert three["definition"] == at_two
    assert three["reason"] == "Intended for now."
    four = api.get(f"/projects/{key}/workflow/revisions/4").get_json()["definition"]
    five = api.get(f"/projects/{key}/workflow/revisions/5").get_json()
    assert (
        five["definition"]
        == four
        == api.get(f"/projects/{key}/workflow").get_json()["effective_workflow"]
    )
