"""The projects API: create, list, find, rename, archive, delete, and ownership."""

from __future__ import annotations


def test_create_then_get_by_key_and_uuid(api):
    created = api.post("/projects", json={"name": "Software Product Development"})
    assert created.status_code == 201
    body = created.get_json()
    assert body["project_id"] == "SPD-001"
    assert body["owner"] == "alice"
    assert body["is_archived"] is False
    assert api.get(f"/projects/{body['id']}").get_json()["project_id"] == "SPD-001"
    assert api.get("/projects/spd-001").get_json()["id"] == body["id"]


def test_keys_count_up_per_prefix(api):
    keys = [api.post("/projects", json={"name": "Sales Pipeline Dashboard"}).get_json()["project_id"]
            for _ in range(3)]
    assert keys == ["SPD-001", "SPD-002", "SPD-003"]


def test_other_users_project_is_404(api, api_for, make_user, make_project, alice):
    bob = make_user("bob")
    project = make_project(bob, "Bob Things")
    assert api.get(f"/projects/{project.project_id}").status_code == 404
    assert api.get("/projects").get_json()["total"] == 0
    assert api_for(bob).get(f"/projects/{project.project_id}").status_code == 200


def test_missing_token_is_401_json_with_challenge(client, db_session):
    response = client.get("/api/v1/projects")
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "Set-Cookie" not in response.headers
