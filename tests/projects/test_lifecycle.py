"""Spec phase 6: intake, the project tree and list with workflow state, archive and delete."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from combine_app.projects import service as project_service
from combine_app.projects.models import Project, ProjectAudit
from combine_app.workflows.models import WorkflowInstance, WorkflowInstanceHistory

SPD = "software_product_development"


def _assign(api, key, version="1.0.0"):
    response = api.post(f"/projects/{key}/workflow", json={"workflow_id": SPD, "version": version})
    assert response.status_code == 201, response.get_json()
    return response


def _project_count(db_session) -> int:
    return db_session.scalar(select(func.count()).select_from(Project))


def test_intake_with_workflow_creates_project_and_instance_together(api):
    response = api.post(
        "/projects/from-intake",
        json={
            "intake_document": {"project_name": "Customer Portal", "audience": "B2B buyers"},
            "workflow_id": SPD,
            "workflow_version": "1.0.0",
        },
    )
    assert response.status_code == 201
    body = response.get_json()
    assert body["project_id"] == "CP-001"
    assert body["workflow"]["base_workflow_ref"]["version"] == "1.0.0"
    assert body["workflow"]["revision"] == 1
    history = api.get("/projects/CP-001/workflow/history").get_json()
    assert [entry["change_type"] for entry in history["entries"]] == ["created"]


def test_intake_without_version_uses_the_active_release(api):
    body = api.post(
        "/projects/from-intake",
        json={"intake_document": {"project_name": "Billing Revamp"}, "workflow_id": SPD},
    ).get_json()
    assert body["workflow"]["base_workflow_ref"]["version"] == "1.1.0"


def test_intake_keeps_the_document_and_falls_back_to_the_summary_for_the_name(api, db_session):
    document = {"summary": {"description": "Field service scheduling app\nfor technicians."}}
    body = api.post("/projects/from-intake", json={"intake_document": document}).get_json()
    assert body["name"] == "Field service scheduling app"
    assert body["workflow"] is None
    project = db_session.get(Project, project_service.uuid.UUID(body["id"]))
    assert project.intake_document == document


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"intake_document": {"project_name": "X"}, "workflow_id": "no_such_flow"}, "/workflow_id"),
        (
            {
                "intake_document": {"project_name": "X"},
                "workflow_id": SPD,
                "workflow_version": "9.9.9",
            },
            "/workflow_version",
        ),
        (
            {"intake_document": {"project_name": "X"}, "workflow_id": "concierge_intake"},
            "/workflow_id",
        ),
        ({"intake_document": {"notes": "no name anywhere"}}, "/intake_document/project_name"),
        ({"intake_document": "Customer Portal"}, "/intake_document"),
    ],
)
def test_bad_intake_is_422_and_leaves_no_project_behind(api, db_session, payload, field):
    before = _project_count(db_session)
    audit_before = db_session.scalar(select(func.count()).select_from(ProjectAudit))
    response = api.post("/projects/from-intake", json=payload)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert field in response.get_json()["errors"]
    assert _project_count(db_session) == before
    assert db_session.scalar(select(func.count()).select_from(ProjectAudit)) == audit_before


def test_repeated_intake_with_the_same_execution_id_returns_the_first_project(api, db_session):
    payload = {
        "intake_document": {"project_name": "Data Platform", "execution_id": "exec-42"},
        "workflow_id": SPD,
    }
    first = api.post("/projects/from-intake", json=payload)
    second = api.post("/projects/from-intake", json=payload)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.get_json()["id"] == second.get_json()["id"]
    assert second.get_json()["workflow"]["id"] == first.get_json()["workflow"]["id"]
    assert _project_count(db_session) == 1


def test_execution_ids_are_private_to_each_user(api, api_for, make_user):
    payload = {"intake_document": {"project_name": "Data Platform"}, "execution_id": "exec-7"}
    mine = api.post("/projects/from-intake", json=payload)
    theirs = api_for(make_user("bob")).post("/projects/from-intake", json=payload)
    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert mine.get_json()["id"] != theirs.get_json()["id"]


def test_tree_reports_workflow_state(api, make_project, alice):
    project = make_project(alice, "Mobile Banking")
    tree = api.get(f"/projects/{project.project_id}/tree").get_json()
    assert (tree["has_workflow"], tree["workflow_status"], tree["workflow"]) == (False, None, None)
    _assign(api, project.project_id)
    api.post(f"/projects/{project.project_id}/workflow/complete")
    tree = api.get(f"/projects/{project.id}/tree").get_json()
    assert tree["project"]["project_id"] == project.project_id
    assert (tree["has_workflow"], tree["workflow_status"]) == (True, "completed")
    assert tree["workflow"]["workflow_id"] == SPD
    assert tree["workflow"]["revision"] == 2


def test_tree_of_someone_elses_project_is_404(api, make_project, make_user):
    project = make_project(make_user("bob"), "Secret Plans")
    assert api.get(f"/projects/{project.project_id}/tree").status_code == 404


def test_list_shows_each_projects_workflow_status(api, make_project, alice):
    with_flow = make_project(alice, "Alpha Beta")
    make_project(alice, "Gamma Delta")
    _assign(api, with_flow.project_id)
    listed = {p["project_id"]: p for p in api.get("/projects").get_json()["projects"]}
    assert listed["AB-001"]["workflow_status"] == "active"
    assert listed["AB-001"]["has_workflow"] is True
    assert listed["GD-001"]["workflow_status"] is None


def _statements_for(count_queries, call):
    with count_queries() as statements:
        response = call()
    assert response.status_code == 200
    return statements


def test_list_and_tree_are_one_query_for_1_and_for_200_projects(
    api, alice, db_session, count_queries
):
    project_service.create_project(alice, "First One")
    db_session.commit()
    list_small = _statements_for(count_queries, lambda: api.get("/projects?limit=100"))
    tree_small = _statements_for(count_queries, lambda: api.get("/projects/FO-001/tree"))
    for number in range(199):
        project_service.create_project(alice, f"Project {number}")
    db_session.commit()
    for project in db_session.scalars(select(Project).limit(50)):
        db_session.add(
            WorkflowInstance(
                project_id=project.id,
                base_workflow_ref={"workflow_id": SPD},
                effective_workflow={"steps": []},
            )
        )
    db_session.commit()
    list_large = _statements_for(count_queries, lambda: api.get("/projects?limit=100"))
    tree_large = _statements_for(count_queries, lambda: api.get("/projects/FO-001/tree"))
    # One statement authenticates the token; the tree itself is exactly one more, and so is the
    # list: its page carries the kept total, full or not. Never one per project.
    assert len(list_small) == 2
    assert len(list_large) == 2
    assert len(tree_small) == len(tree_large) == 2
    assert api.get("/projects?limit=100").get_json()["total"] == 200


def test_archiving_a_project_leaves_its_workflow_readable_but_frozen(api, make_project, alice):
    project = make_project(alice, "Warehouse Robots")
    key = project.project_id
    instance = _assign(api, key).get_json()
    assert api.post(f"/projects/{key}/archive").status_code == 200
    assert api.get(f"/projects/{key}/workflow").get_json()["status"] == "active"
    edited = dict(instance["effective_workflow"], name="Changed while archived")
    refused = api.put(f"/projects/{key}/workflow", json={"effective_workflow": edited})
    assert refused.status_code == 409
    assert "archived" in refused.get_json()["detail"]
    assert api.post(f"/projects/{key}/workflow/complete").status_code == 409
    assert api.get(f"/projects/{key}/workflow/drift").get_json()["is_drifted"] is False
    assert api.get(f"/projects/{key}/workflow/history").get_json()["total"] == 1
    assert api.post(f"/projects/{key}/unarchive").status_code == 200
    assert api.get(f"/projects/{key}/workflow").get_json()["revision"] == 1
    assert (
        api.put(f"/projects/{key}/workflow", json={"effective_workflow": edited}).status_code == 200
    )


def test_deleting_a_project_through_the_api_removes_its_workflow_and_keeps_the_audit(
    api, make_project, alice, db_session
):
    project = make_project(alice, "Short Lived")
    project_uuid, key = project.id, project.project_id
    _assign(api, key)
    assert api.delete(f"/projects/{key}").status_code == 204
    assert db_session.scalar(select(func.count()).select_from(WorkflowInstance)) == 0
    assert db_session.scalar(select(func.count()).select_from(WorkflowInstanceHistory)) == 0
    deleted = db_session.scalars(
        select(ProjectAudit).where(
            ProjectAudit.project_uuid == project_uuid, ProjectAudit.action == "deleted"
        )
    ).all()
    assert [(row.project_key, row.actor) for row in deleted] == [(key, "alice")]


def test_database_cascade_removes_instance_and_history_on_plain_sql_delete(
    api, make_project, alice, db_session
):
    project = make_project(alice, "Cascade Check")
    _assign(api, project.project_id)
    db_session.execute(
        text("DELETE FROM projects WHERE project_id = :key"), {"key": project.project_id}
    )
    assert db_session.scalar(select(func.count()).select_from(WorkflowInstance)) == 0
    assert db_session.scalar(select(func.count()).select_from(WorkflowInstanceHistory)) == 0
