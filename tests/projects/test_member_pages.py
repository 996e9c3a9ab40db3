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
    # The editor itself refuses a viewer, naming the role needed.
    editor = client.get(f"{url}/workflow/edit")
    assert editor.status_code == 403
    assert "This needs the role editor or owner." in editor.get_data(as_text=True)
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


def page_of(client, project) -> str:
    return client.get(f"/projects/{project.project_id}").get_data(as_text=True)


def members_now(db_session, project) -> dict[str, str]:
    db_session.expire_all()
    return {member.username: member.role for member in members.members_of(project)}


def test_an_owner_adds_changes_and_removes_members_from_the_page_and_the_audit_trail_says_so(
    client, login, shared, alice, make_user, db_session
):
    project, bob = shared
    make_user("carol")
    token = login(alice)
    url = f"/projects/{project.project_id}/members"
    page = page_of(client, project)
    assert "Add a member" in page and "Your role here: <strong>owner</strong>" in page

    added = client.post(
        url, data={"csrf_token": token, "adding": "1", "username": "bob", "role": "editor"}
    )
    assert added.status_code == 302
    assert added.headers["Location"].endswith("#members")
    assert "Added bob as editor." in page_of(client, project)
    client.post(
        url, data={"csrf_token": token, "adding": "1", "username": " carol ", "role": "viewer"}
    )
    changed = client.post(url, data={"csrf_token": token, "username": "carol", "role": "approver"})
    assert changed.status_code == 302
    assert members_now(db_session, project) == {
        "alice": "owner",
        "bob": "editor",
        "carol": "approver",
    }

    removed = client.post(f"{url}/bob/remove", data={"csrf_token": token})
    assert removed.status_code == 302
    assert members_now(db_session, project) == {"alice": "owner", "carol": "approver"}
    trail = page_of(client, project)
    for action in ("member_added", "member_role_changed", "member_removed"):
        assert action in trail


def test_member_form_refusals_carry_the_api_words_next_to_the_field_and_write_nothing(
    client, login, shared, alice, api, db_session
):
    project, bob = shared
    token = login(alice)
    url = f"/projects/{project.project_id}/members"
    api_words = api.put(f"/projects/{project.project_id}/members/zed", json={"role": "editor"})
    assert api_words.status_code == 422
    unknown = client.post(
        url, data={"csrf_token": token, "adding": "1", "username": "zed", "role": "editor"}
    )
    assert unknown.status_code == 422
    html = unknown.get_data(as_text=True)
    assert 'id="username-error"' in html
    assert api_words.get_json()["errors"]["username"][0].replace("'", "&#39;") in html

    bad_role = client.post(
        url, data={"csrf_token": token, "adding": "1", "username": "bob", "role": "boss"}
    )
    assert bad_role.status_code == 422
    role_words = api.put(f"/projects/{project.project_id}/members/bob", json={"role": "boss"})
    assert role_words.get_json()["errors"]["/role"][0] in bad_role.get_data(as_text=True)
    assert 'id="role-error"' in bad_role.get_data(as_text=True)

    last_owner = client.post(url, data={"csrf_token": token, "username": "alice", "role": "editor"})
    assert last_owner.status_code == 409
    assert members.LAST_OWNER in last_owner.get_data(as_text=True)
    leaving = client.post(f"{url}/alice/remove", data={"csrf_token": token})
    assert leaving.status_code == 409
    assert members_now(db_session, project) == {"alice": "owner"}


def test_an_editor_sees_no_member_policy_or_owner_actions_may_leave_and_is_refused_when_posting(
    client, login, shared, alice, db_session
):
    project, bob = shared
    give(db_session, project, alice, bob, "editor")
    token = login(bob)
    base = f"/projects/{project.project_id}"
    page = page_of(client, project)
    assert "Add a member" not in page and "Change role" not in page
    assert "Save policy" not in page and "Changing the policy: this needs the role owner." in page
    for owner_only in ("Mark completed", "Archive workflow", "Archive project", "Delete project"):
        assert owner_only not in page
    assert "Save details" in page  # an editor may rename the project
    assert "Leave project" in page

    add = client.post(
        f"{base}/members",
        data={"csrf_token": token, "adding": "1", "username": "x", "role": "owner"},
    )
    assert add.status_code == 403
    assert "This needs the role owner." in add.get_data(as_text=True)
    policy = client.post(f"{base}/policy", data={"csrf_token": token, "four_eyes": "yes"})
    assert policy.status_code == 403
    assert (
        client.post(f"{base}/members/alice/remove", data={"csrf_token": token}).status_code == 403
    )
    assert members_now(db_session, project) == {"alice": "owner", "bob": "editor"}

    left = client.post(f"{base}/members/bob/remove", data={"csrf_token": token})
    assert left.status_code == 302
    assert left.headers["Location"].endswith("/projects")
    assert members_now(db_session, project) == {"alice": "owner"}
    assert client.get(base).status_code == 404


def test_an_owner_is_offered_every_owner_action(client, login, shared, alice):
    project, _ = shared
    login(alice)
    page = page_of(client, project)
    for action in (
        "Mark completed",
        "Archive workflow",
        "Archive project",
        "Delete project",
        "Save policy",
        "Add a member",
    ):
        assert action in page


@pytest.mark.parametrize(("days", "api_days"), [("0", 0), ("-3", -3), ("ten", "ten"), ("1.5", 1.5)])
def test_the_policy_form_refuses_what_the_api_refuses_with_its_words(
    client, login, shared, alice, api, db_session, days, api_days
):
    project, _ = shared
    token = login(alice)
    refused = client.post(
        f"/projects/{project.project_id}/policy",
        data={"csrf_token": token, "four_eyes": "yes", "review_days": days},
    )
    assert refused.status_code == 422
    answer = api.patch(
        f"/projects/{project.project_id}", json={"policy": {"review_days": api_days}}
    )
    assert answer.status_code == 422
    (message,) = answer.get_json()["errors"]["/policy/review_days"]
    html = refused.get_data(as_text=True)
    assert message in html
    assert 'id="review_days-error"' in html
    db_session.expire_all()
    assert project.policy.four_eyes is False and project.policy.review_days is None


def test_the_owner_sets_the_policy_from_the_page_and_it_is_in_the_audit_trail(
    client, login, shared, alice, db_session
):
    project, _ = shared
    token = login(alice)
    url = f"/projects/{project.project_id}/policy"
    saved = client.post(url, data={"csrf_token": token, "four_eyes": "yes", "review_days": "30"})
    assert saved.status_code == 302
    db_session.expire_all()
    assert (project.policy.four_eyes, project.policy.review_days) == (True, 30)
    page = page_of(client, project)
    assert "Four-eyes: on." in page and "at most 30 days ahead" in page
    assert "policy_changed" in page
    # Unticked and emptied: four-eyes off, no review date required.
    client.post(url, data={"csrf_token": token, "review_days": ""})
    db_session.expire_all()
    assert (project.policy.four_eyes, project.policy.review_days) == (False, None)


def test_the_list_shows_your_role_in_each_project(
    client, login, shared, alice, make_project, db_session
):
    project, bob = shared
    own = make_project(bob, name="Bob's own")
    give(db_session, project, alice, bob, "approver")
    login(bob)
    html = client.get("/projects").get_data(as_text=True)
    assert "Your role" in html
    rows = {
        key: html.split(key, 1)[1].split("</tr>", 1)[0]
        for key in (project.project_id, own.project_id)
    }
    assert "<td>approver</td>" in rows[project.project_id]
    assert "<td>owner</td>" in rows[own.project_id]


def test_a_username_with_nul_is_an_unknown_user_not_a_server_error(
    client, login, shared, alice, api
):
    project, _ = shared
    token = login(alice)
    page = client.post(
        f"/projects/{project.project_id}/members",
        data={"csrf_token": token, "adding": "1", "username": "b\x00ob", "role": "editor"},
    )
    assert page.status_code == 422
    answer = api.put(f"/projects/{project.project_id}/members/b%00ob", json={"role": "editor"})
    assert answer.status_code == 422
    gone = api.delete(f"/projects/{project.project_id}/members/b%00ob")
    assert gone.status_code == 404
