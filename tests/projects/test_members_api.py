"""Members and roles through the API: who may see a project, who may change what, the last owner."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from combine_app.projects.models import ProjectAudit, ProjectMember
from tests.support.problems import assert_problem

SPD = "software_product_development"
KEY = "SPD-001"


@pytest.fixture
def team(api, api_for, alice, make_user, make_project):
    """Alice's SPD-001 with a workflow; bob, carol, dave and erin are users, not yet members."""
    make_project(alice)
    response = api.post(f"/projects/{KEY}/workflow", json={"workflow_id": SPD, "version": "1.0.0"})
    assert response.status_code == 201, response.get_json()
    names = ("bob", "carol", "dave", "erin")
    users = {name: make_user(name) for name in names}
    return {"alice": api, **{name: api_for(user) for name, user in users.items()}}


def add(team, username: str, role: str):
    """Alice (the owner) gives ``username`` the ``role``."""
    response = team["alice"].put(f"/projects/{KEY}/members/{username}", json={"role": role})
    assert response.status_code in (200, 201), response.get_json()
    return response


def test_the_creator_is_the_first_member_an_owner_added_by_themself(team):
    body = team["alice"].get(f"/projects/{KEY}/members").get_json()
    assert body["total"] == 1
    (member,) = body["members"]
    assert member["username"] == "alice"
    assert member["role"] == "owner"
    assert member["added_by"] == "alice"
    assert member["added_at"]


def test_adding_is_201_changing_a_role_is_200_and_both_are_in_the_audit_trail(team, db_session):
    added = add(team, "bob", "viewer")
    assert added.status_code == 201
    assert added.get_json()["role"] == "viewer"
    changed = add(team, "bob", "editor")
    assert changed.status_code == 200
    assert changed.get_json() == {**added.get_json(), "role": "editor"}
    actions = db_session.scalars(
        select(ProjectAudit.action).where(ProjectAudit.project_key == KEY).order_by(ProjectAudit.id)
    ).all()
    assert actions[-2:] == ["member_added", "member_role_changed"]


def test_a_member_sees_the_project_in_the_list_with_their_role_and_a_stranger_does_not(team):
    add(team, "bob", "viewer")
    listed = team["bob"].get("/projects").get_json()
    assert [(p["project_id"], p["your_role"]) for p in listed["projects"]] == [(KEY, "viewer")]
    assert listed["total"] == 1
    assert team["carol"].get("/projects").get_json() == {
        "projects": [],
        "total": 0,
        "offset": 0,
        "limit": 20,
    }
    assert_problem(team["carol"].get(f"/projects/{KEY}"), 404)
    assert_problem(team["carol"].get(f"/projects/{KEY}/workflow"), 404)


def test_an_administrator_sees_every_project_as_owner(team, api_for, make_user):
    admin = api_for(make_user("root", admin=True))
    body = admin.get(f"/projects/{KEY}").get_json()
    assert body["your_role"] == "owner"
    assert [p["your_role"] for p in admin.get("/projects").get_json()["projects"]] == ["owner"]
    assert admin.get(f"/projects/{KEY}/tree").get_json()["project"]["your_role"] == "owner"


@pytest.mark.parametrize(
    ("role", "allowed"),
    [("viewer", False), ("editor", True), ("approver", False), ("owner", True)],
)
def test_saving_the_workflow_needs_editor_or_owner(team, role, allowed):
    add(team, "bob", role)
    current = team["bob"].get(f"/projects/{KEY}/workflow")
    assert current.status_code == 200
    definition = current.get_json()["effective_workflow"]
    definition["description"] = f"Edited by a {role}."
    response = team["bob"].put(f"/projects/{KEY}/workflow", json={"effective_workflow": definition})
    if allowed:
        assert response.status_code == 200, response.get_json()
    else:
        body = assert_problem(response, 403)
        assert body["detail"] == "This needs the role editor or owner."
        after = team["alice"].get(f"/projects/{KEY}/workflow").get_json()
        assert after["revision"] == 1


@pytest.mark.parametrize("role", ["viewer", "editor", "approver"])
def test_only_an_owner_manages_members_completes_archives_and_deletes(team, role):
    add(team, "bob", role)
    bob = team["bob"]
    refused = [
        bob.put(f"/projects/{KEY}/members/carol", json={"role": "viewer"}),
        bob.delete(f"/projects/{KEY}/members/alice"),
        bob.patch(f"/projects/{KEY}", json={"policy": {"four_eyes": True}}),
        bob.post(f"/projects/{KEY}/workflow/complete"),
        bob.post(f"/projects/{KEY}/workflow/archive"),
        bob.post(f"/projects/{KEY}/archive"),
        bob.delete(f"/projects/{KEY}"),
    ]
    for response in refused:
        assert assert_problem(response, 403)["detail"] == "This needs the role owner."
    assert team["alice"].get(f"/projects/{KEY}/members").get_json()["total"] == 2


def test_an_editor_renames_a_viewer_may_not(team):
    add(team, "bob", "editor")
    add(team, "carol", "viewer")
    assert team["bob"].patch(f"/projects/{KEY}", json={"name": "Renamed"}).status_code == 200
    refused = assert_problem(team["carol"].patch(f"/projects/{KEY}", json={"name": "No"}), 403)
    assert refused["detail"] == "This needs the role editor or owner."


def test_an_unknown_user_is_422_naming_username(team):
    response = team["alice"].put(f"/projects/{KEY}/members/nobody", json={"role": "viewer"})
    body = assert_problem(response, 422)
    assert "username" in body["errors"]


def test_a_bad_role_is_422_naming_role(team):
    response = team["alice"].put(f"/projects/{KEY}/members/bob", json={"role": "king"})
    assert "/role" in assert_problem(response, 422)["errors"]


def test_the_last_owner_can_neither_leave_nor_be_demoted(team, db_session):
    assert_problem(team["alice"].delete(f"/projects/{KEY}/members/alice"), 409)
    body = assert_problem(
        team["alice"].put(f"/projects/{KEY}/members/alice", json={"role": "editor"}), 409
    )
    assert "at least one owner" in body["detail"]
    add(team, "bob", "owner")
    assert team["alice"].delete(f"/projects/{KEY}/members/alice").status_code == 204
    assert_problem(team["alice"].get(f"/projects/{KEY}"), 404)
    assert_problem(team["bob"].delete(f"/projects/{KEY}/members/bob"), 409)
    owners = db_session.scalar(
        select(func.count()).select_from(ProjectMember).where(ProjectMember.role == "owner")
    )
    assert owners == 1


def test_any_member_may_leave_and_an_owner_may_remove_anyone(team):
    add(team, "bob", "viewer")
    add(team, "carol", "editor")
    assert team["bob"].delete(f"/projects/{KEY}/members/bob").status_code == 204
    assert_problem(team["bob"].get(f"/projects/{KEY}"), 404)
    assert team["alice"].delete(f"/projects/{KEY}/members/carol").status_code == 204
    names = [
        m["username"] for m in team["alice"].get(f"/projects/{KEY}/members").get_json()["members"]
    ]
    assert names == ["alice"]
    assert_problem(team["alice"].delete(f"/projects/{KEY}/members/carol"), 404)


def test_policy_keys_sent_change_and_the_others_stay(team, db_session):
    body = team["alice"].patch(f"/projects/{KEY}", json={"policy": {"review_days": 30}}).get_json()
    assert body["policy"] == {"four_eyes": False, "review_days": 30}
    body = team["alice"].patch(f"/projects/{KEY}", json={"policy": {"four_eyes": True}}).get_json()
    assert body["policy"] == {"four_eyes": True, "review_days": 30}
    assert team["alice"].get("/projects").get_json()["projects"][0]["policy"] == body["policy"]
    detail = db_session.scalar(
        select(ProjectAudit.detail)
        .where(ProjectAudit.action == "policy_changed")
        .order_by(ProjectAudit.id.desc())
    )
    assert detail == {"four_eyes": {"old": False, "new": True}}


@pytest.mark.parametrize("review_days", [0, -3, 1.5, "ten", True])
def test_a_bad_review_days_is_422_and_changes_nothing(team, review_days):
    response = team["alice"].patch(
        f"/projects/{KEY}", json={"policy": {"review_days": review_days}}
    )
    assert_problem(response, 422)
    assert team["alice"].get(f"/projects/{KEY}").get_json()["policy"]["review_days"] is None


def test_deleting_a_project_deletes_its_members(team, db_session):
    add(team, "bob", "viewer")
    assert team["alice"].delete(f"/projects/{KEY}").status_code == 204
    db_session.expire_all()
    assert db_session.scalar(select(func.count()).select_from(ProjectMember)) == 0


def test_the_list_of_a_member_stays_one_statement_plus_the_caller(
    team, api_for, make_user, make_project, count_queries
):
    bob_user = make_user("frank")
    frank = api_for(bob_user)
    for number in range(30):
        make_project(bob_user, f"Frank Project {number}")
    with count_queries() as statements:
        body = frank.get("/projects?limit=100").get_json()
    assert body["total"] == 30
    assert all(p["your_role"] == "owner" for p in body["projects"])
    assert len(statements) <= 2
