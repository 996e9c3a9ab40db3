"""The kept drift (workflow_drifts) on both databases: never stale, acceptances applied at read
time, and the pages' badges read from it without a diff."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import delete, select

from combine_app.catalog.app_loader import EXTENSION_KEY, get_loader
from combine_app.catalog.loader import PackageLoader
from combine_app.projects.models import Project
from combine_app.workflows import diff as structural
from combine_app.workflows import drift_store
from combine_app.workflows.models import AcceptedDeviation, WorkflowDrift, WorkflowInstance
from combine_app.workflows.schemas import DriftResponseSchema
from combine_app.workflows.service import WorkflowInstanceService

from .deviation_support import PROMPT_KEY, assign, edit, request, workflow_url
from .instance_support import SPD, config_with_release_edited, find_step, with_step_field


@pytest.fixture
def key(make_project, alice) -> str:
    """One of alice's projects."""
    return make_project(alice).project_id


@pytest.fixture
def diffs(monkeypatch) -> list[int]:
    """How many times the structural diff has run (one element per call)."""
    calls: list[int] = []
    original = structural.diff_definitions

    def counted(old, new):
        calls.append(1)
        return original(old, new)

    monkeypatch.setattr(structural, "diff_definitions", counted)
    return calls


def instance_of(db_session, key: str) -> WorkflowInstance:
    db_session.expire_all()
    return db_session.scalar(
        select(WorkflowInstance).join(Project).where(Project.project_id == key)
    )


def kept_row(db_session, key: str) -> WorkflowDrift | None:
    return db_session.get(WorkflowDrift, instance_of(db_session, key).id)


def served(api, key: str) -> dict:
    response = api.get(f"{workflow_url(key)}/drift")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def fresh(db_session, key: str) -> dict:
    """The drift computed now from the instance, the source and the base, nothing kept used."""
    service = WorkflowInstanceService(db_session, get_loader())
    computed = service.drift_of(instance_of(db_session, key), kept={})
    return json.loads(json.dumps(DriftResponseSchema().dump(computed)))


def assert_served_is_fresh_and_then_kept(api, db_session, key: str, diffs: list[int]) -> dict:
    """The served drift equals a fresh one, and a second read runs no diff at all."""
    first = served(api, key)
    assert first == fresh(db_session, key)
    row = kept_row(db_session, key)
    instance = instance_of(db_session, key)
    assert (row.revision, row.format) == (instance.revision, drift_store.FORMAT)
    diffs.clear()
    assert served(api, key) == first
    assert diffs == [], "a kept drift ran the diff again"
    return first


def edit_source_in_place(app, monkeypatch, tmp_path) -> None:
    """Rewrite SPD 1.1.0's file under the same version (a governance edit in place)."""

    def release_board(definition: dict) -> None:
        find_step(definition, "release_readiness")["role"] = "Release Board"

    config = config_with_release_edited(tmp_path / "combine-config", release_board)
    monkeypatch.setitem(app.extensions, EXTENSION_KEY, PackageLoader(config))


def test_a_save_an_in_place_source_edit_and_a_restore_each_recompute_the_kept_drift(
    app, api, key, db_session, diffs, monkeypatch, tmp_path
):
    assign(api, key)
    assert kept_row(db_session, key) is None  # nothing kept before the first read
    in_sync = assert_served_is_fresh_and_then_kept(api, db_session, key, diffs)
    assert in_sync["is_drifted"] is False and in_sync["items"] == []

    # A save: a new revision.
    edit(api, key, "Our own discovery prompt.")
    saved = assert_served_is_fresh_and_then_kept(api, db_session, key, diffs)
    assert [item["key"] for item in saved["items"]] == [PROMPT_KEY]
    assert kept_row(db_session, key).revision == 2

    # The source file edited in place: same version, another content hash.
    hash_before = kept_row(db_session, key).source_hash
    edit_source_in_place(app, monkeypatch, tmp_path)
    edited = assert_served_is_fresh_and_then_kept(api, db_session, key, diffs)
    assert edited["source_changed"] is True
    assert {item["key"] for item in edited["items"]} == {
        PROMPT_KEY,
        "step_modified:release_readiness:role",
    }
    assert kept_row(db_session, key).source_hash not in (None, hash_before)

    # A restore of revision 1: a new revision whose definition equals the base.
    response = api.post(f"{workflow_url(key)}/restore", json={"revision": 1})
    assert response.status_code == 200, response.get_json()
    restored = assert_served_is_fresh_and_then_kept(api, db_session, key, diffs)
    assert [item["key"] for item in restored["items"]] == ["step_modified:release_readiness:role"]
    assert restored["items"][0]["origin"] == "source"
    assert kept_row(db_session, key).revision == 3


def test_a_changed_base_snapshot_or_format_recomputes(api, key, db_session, diffs, monkeypatch):
    assign(api, key)
    edit(api, key, "Our own discovery prompt.")
    served(api, key)
    row = kept_row(db_session, key)
    row.base_hash = "sha256:not-the-base"  # kept under another base than the one there now
    db_session.commit()
    diffs.clear()
    assert served(api, key) == fresh(db_session, key)
    assert diffs, "a drift kept under another base was served"
    assert kept_row(db_session, key).base_hash != "sha256:not-the-base"

    monkeypatch.setattr(drift_store, "FORMAT", drift_store.FORMAT + 1)
    diffs.clear()
    assert served(api, key) == fresh(db_session, key)
    assert diffs and kept_row(db_session, key).format == drift_store.FORMAT


def test_acceptances_and_review_dates_apply_at_read_time_without_a_diff(
    api, key, db_session, diffs, clock
):
    assign(api, key)
    edit(api, key, "Our own discovery prompt.")
    assert request(api, key, review_by=clock.today.isoformat()).status_code == 201
    accepted = served(api, key)
    assert accepted["items"][0]["acceptance"]["status"] == "accepted"
    assert accepted["unexplained_count"] == 0

    # The review date passes: the instance did not change, the answer does.
    diffs.clear()
    clock.advance(1)
    expired = served(api, key)
    assert diffs == []
    assert expired["items"][0]["acceptance"]["status"] == "expired"
    assert (expired["unexplained_count"], expired["is_drifted_unexplained"]) == (1, True)
    assert expired == fresh(db_session, key)

    # The acceptance goes without the instance changing (as a cleanup would): read at once.
    instance_id = instance_of(db_session, key).id
    db_session.execute(
        delete(AcceptedDeviation).where(AcceptedDeviation.instance_id == instance_id)
    )
    db_session.commit()
    diffs.clear()
    gone = served(api, key)
    assert diffs == []
    assert gone["items"][0]["acceptance"] is None and gone == fresh(db_session, key)


def test_deleting_the_project_deletes_its_kept_drift(api, key, db_session):
    assign(api, key)
    served(api, key)
    instance_id = instance_of(db_session, key).id
    assert db_session.get(WorkflowDrift, instance_id) is not None
    db_session.execute(delete(Project).where(Project.project_id == key))
    db_session.commit()
    db_session.expire_all()
    assert db_session.get(WorkflowDrift, instance_id) is None


def test_a_kept_row_of_an_unknown_instance_cannot_be_written_and_the_read_goes_on(
    db_session, alice
):
    row = drift_store.row_for(uuid.uuid4(), 1, None, None, {"fingerprints": {}}, {"items": []})
    assert drift_store.fill(db_session, [row]) is False  # the foreign key refuses it
    assert db_session.get(Project, uuid.uuid4()) is None  # the transaction is still usable


def test_the_list_and_project_page_badges_come_from_the_kept_summaries_without_a_diff(
    client, login, alice, make_project, db_session, diffs
):
    service = WorkflowInstanceService(db_session, get_loader())
    keys = []
    for number in range(6):
        project = make_project(alice, f"Listed {number}")
        instance = service.create_instance(project, SPD, "1.1.0", "alice")
        if number % 2:
            changed = with_step_field(instance.effective_workflow, "product_discovery", "role", "X")
            service.update_instance(project, changed, "alice")
        keys.append(project.project_id)
    db_session.commit()
    login(alice)

    first = client.get("/projects")
    assert first.status_code == 200
    assert diffs, "nothing was kept yet: the first view computes"
    diffs.clear()
    again = client.get("/projects")
    assert diffs == [], "the list ran a diff although every drift was kept"
    assert again.get_data(as_text=True).count("Drifted (1 unexplained)") == 3
    assert again.get_data(as_text=True).count("In sync") == 3

    page = client.get(f"/projects/{keys[1]}")
    assert page.status_code == 200
    assert "Drifted (1 unexplained)" in page.get_data(as_text=True)
    assert diffs == [], "the project page's badge ran a diff although the drift was kept"
