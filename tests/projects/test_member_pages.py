"""Roles on the pages: what a member may not do is not offered, and refused when posted anyway."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from combine_app.projects import members
from combine_app.workflows.models import WorkflowInstance

SPD = "software_product_development"


@pytest.fixture
def shared(app, client, login, alice, make_user, make_project, db_session):
    """alice's project with a workflow assigned by her; bob is a user, not yet a member."""
    project = make_project(alice)
    token = login(alice)
    response = client.post(
        f"/projects/{project.project_id}/workflow",
        data={"csrf_token": token, "workflow_id": SPD, f"version:{SPD}": "1.1.0"},
    )
    assert response.status_code == 302
    client.post("/logout", data={"csrf_token": token})
    bob = make_user("bob")
    return project, bob


def give(db_session, project, owner, user, role):
    members.set_member(project, owner, user.username, role)
    db_session.commit()


def revision(db_session, project) -> int:
    db_session.expire_all()
    return db_session.scalar(
        select(WorkflowInstance.revision).where(WorkflowInstance.project_id == project.id)
    )


def test_a_stranger_gets_404_for_the_project_page(client, login, shared):
    project, bob = shared
    login(bob)
    assert client.get(f"/projects/{project.project_id}").status_code == 404


def test_a_viewer_is_told_why_and_is_offered_no_edit_and_a_posted_action_is_refused(
    client, login, shared, alice, db_session
):
    project, bob = shared
    give(db_session, project, alice, bob, "viewer")
    token = login(bob)
    url = f"/projects/{project.project_id}"
    page = client.get(url).get_data(as_text=True)
    assert "This needs the role editor or owner." in page
    assert f"{url}/workflow/edit" not in page
    before = revision(db_session, project)
    # The editor itself sends a viewer back with the reason.
    assert client.get(f"{url}/workflow/edit").status_code == 302
    refused = client.post(f"{url}/workflow/complete", data={"csrf_token": token, "confirm": "yes"})
    assert refused.status_code == 403
    assert "This needs the role owner." in refused.get_data(as_text=True)
    assert (
        client.post(
            f"{url}/delete", data={"csrf_token": token, "confirm": project.project_id}
        ).status_code
        == 403
    )
    assert revision(db_session, project) == before


def test_an_editor_is_offered_the_editor(client, login, shared, alice, db_session):
    project, bob = shared
    give(db_session, project, alice, bob, "editor")
    login(bob)
    url = f"/projects/{project.project_id}"
    page = client.get(url).get_data(as_text=True)
    assert f"{url}/workflow/edit" in page
    assert client.get(f"{url}/workflow/edit").status_code == 200
