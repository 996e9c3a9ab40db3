"""Base snapshot and checkpoints: kept in the transaction of the change that produces them."""

from __future__ import annotations

from sqlalchemy import select

from combine_app.extensions import db
from combine_app.projects.models import Project
from combine_app.workflows.diff import content_hash
from combine_app.workflows.models import WorkflowInstance, WorkflowInstanceCheckpoint
from combine_app.workflows.revisions import CHECKPOINT_EVERY, base_definition

from .instance_support import SPD, edited, source


def checkpoint_revisions(instance_id) -> list[int]:
    """The revisions the instance keeps a full definition of."""
    return list(
        db.session.scalars(
            select(WorkflowInstanceCheckpoint.revision)
            .where(WorkflowInstanceCheckpoint.instance_id == instance_id)
            .order_by(WorkflowInstanceCheckpoint.revision)
        )
    )


def instance_of(key: str) -> WorkflowInstance:
    """The instance row of the project with this key."""
    return db.session.scalar(
        select(WorkflowInstance).join(WorkflowInstance.project).where(Project.project_id == key)
    )


def save_description(api, key: str, description: str) -> None:
    """PUT the source with another description."""
    definition = edited(source(), description=description)
    response = api.put(f"/projects/{key}/workflow", json={"effective_workflow": definition})
    assert response.status_code == 200, response.get_json()


def test_post_keeps_the_base_snapshot_and_base_definition_returns_it(api, make_project, alice):
    key = make_project(alice).project_id
    created = api.post(
        f"/projects/{key}/workflow", json={"workflow_id": SPD, "version": "1.1.0"}
    ).get_json()
    instance = instance_of(key)
    assert checkpoint_revisions(instance.id) == [1]
    base = base_definition(db.session, instance)
    assert base == created["effective_workflow"] == source()
    assert content_hash(base) == created["base_workflow_ref"]["content_hash"]
    base["name"] = "changed by the caller"  # the caller's own copy
    assert base_definition(db.session, instance) == source()


def test_intake_keeps_the_base_snapshot(api):
    response = api.post(
        "/projects/from-intake",
        json={"intake_document": {"project_name": "Intake"}, "workflow_id": SPD},
    )
    assert response.status_code == 201, response.get_json()
    instance = instance_of(response.get_json()["project_id"])
    assert base_definition(db.session, instance) == source()


def test_base_stays_known_after_edits(api, make_project, alice):
    key = make_project(alice).project_id
    api.post(f"/projects/{key}/workflow", json={"workflow_id": SPD, "version": "1.1.0"})
    for number in range(3):
        save_description(api, key, f"edit {number}")
    assert base_definition(db.session, instance_of(key)) == source()


def test_a_checkpoint_every_fifty_revisions_status_changes_included(api, make_project, alice):
    key = make_project(alice).project_id
    api.post(f"/projects/{key}/workflow", json={"workflow_id": SPD, "version": "1.1.0"})
    for number in range(2, CHECKPOINT_EVERY):  # revisions 2 .. 49
        save_description(api, key, f"edit {number}")
    instance = instance_of(key)
    assert checkpoint_revisions(instance.id) == [1]
    assert api.post(f"/projects/{key}/workflow/complete").status_code == 200  # revision 50
    assert checkpoint_revisions(instance.id) == [1, CHECKPOINT_EVERY]
    kept = db.session.get(WorkflowInstanceCheckpoint, (instance.id, CHECKPOINT_EVERY))
    assert kept.definition == edited(source(), description=f"edit {CHECKPOINT_EVERY - 1}")
    assert kept.content_hash == content_hash(kept.definition)


def test_deleting_the_project_deletes_its_checkpoints(api, make_project, alice):
    key = make_project(alice).project_id
    api.post(f"/projects/{key}/workflow", json={"workflow_id": SPD, "version": "1.1.0"})
    instance_id = instance_of(key).id
    assert api.delete(f"/projects/{key}").status_code == 204
    db.session.expire_all()
    assert checkpoint_revisions(instance_id) == []
