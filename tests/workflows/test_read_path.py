"""The read path: one statement per read where one can do, and history pages that do not
degrade with the length of the history (counted entries, pages read from the nearer end)."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from combine_app.workflows.models import WorkflowInstance, WorkflowInstanceHistory

from .instance_support import SPD, edited, source

ACTIVE = "1.1.0"


@pytest.fixture
def key(make_project, alice) -> str:
    """Alice's project with an instance of the active SPD release."""
    project = make_project(alice)
    return project.project_id


@pytest.fixture
def workflow(api, key) -> dict:
    """The instance, created over the API."""
    response = api.post(f"/projects/{key}/workflow", json={"workflow_id": SPD, "version": ACTIVE})
    assert response.status_code == 201
    return response.get_json()


def edit_times(api, key: str, times: int) -> None:
    """Save ``times`` edits of the description, one history entry each."""
    definition = source()
    for number in range(times):
        body = {"effective_workflow": edited(definition, description=f"edit {number}")}
        assert api.put(f"/projects/{key}/workflow", json=body).status_code == 200


def entries_in_order(db_session, instance_id) -> list[str]:
    """Every entry id newest first, read the plain way."""
    history = WorkflowInstanceHistory
    return [
        str(entry_id)
        for entry_id in db_session.scalars(
            select(history.id)
            .where(history.instance_id == uuid.UUID(instance_id))
            .order_by(history.revision.desc(), history.position.asc())
        )
    ]


def test_every_history_page_matches_the_plain_order_from_either_end(api, key, workflow, db_session):
    edit_times(api, key, 12)
    # One save that changes two kinds of thing writes two entries of one revision.
    definition = source()
    definition["description"] = "two kinds"
    definition["steps"] = definition["steps"][::-1]
    assert (
        api.put(f"/projects/{key}/workflow", json={"effective_workflow": definition}).status_code
        == 200
    )
    expected = entries_in_order(db_session, workflow["id"])
    assert len(expected) >= 15
    for limit in (1, 2, 5, 7, 20):
        for offset in range(len(expected) + 2):
            page = api.get(f"/projects/{key}/workflow/history?limit={limit}&offset={offset}")
            body = page.get_json()
            assert [entry["id"] for entry in body["entries"]] == expected[offset : offset + limit]
            assert body["total"] == len(expected)


def test_history_count_follows_every_kind_of_write(api, key, workflow, db_session):
    edit_times(api, key, 3)
    assert api.post(f"/projects/{key}/workflow/complete").status_code == 200
    counted = db_session.scalar(
        select(func.count()).where(WorkflowInstanceHistory.instance_id == uuid.UUID(workflow["id"]))
    )
    db_session.expire_all()
    kept = db_session.get(WorkflowInstance, uuid.UUID(workflow["id"])).history_count
    assert kept == counted == 5  # created, three edits, status_changed
    assert api.get(f"/projects/{key}/workflow/history").get_json()["total"] == 5


def test_get_instance_is_one_statement_history_two(api, key, workflow, count_queries):
    with count_queries() as statements:
        assert api.get(f"/projects/{key}/workflow").status_code == 200
    assert len(statements) == 1, statements
    with count_queries() as statements:
        assert api.get(f"/projects/{key}/workflow/history").status_code == 200
    assert len(statements) == 2, statements


def test_the_one_statement_tells_401_from_404(api, key, workflow, client, make_user, api_for):
    bad = client.get(
        f"/api/v1/projects/{key}/workflow", headers={"Authorization": "Bearer cmb_nobody"}
    )
    assert bad.status_code == 401
    assert "invalid_token" in bad.headers["WWW-Authenticate"]
    malformed_ref = client.get(
        "/api/v1/projects/not a key/workflow/drift", headers={"Authorization": "Bearer cmb_x"}
    )
    assert malformed_ref.status_code == 401
    assert api.get("/projects/not-a-key/workflow").status_code == 404
    assert api.get("/projects/ZZZ-999/workflow/history").status_code == 404
    bob = api_for(make_user("bob"))
    assert bob.get(f"/projects/{key}/workflow").status_code == 404  # alice's: not found
    admin = api_for(make_user("root", admin=True))
    assert admin.get(f"/projects/{key}/workflow").status_code == 200


def test_a_project_without_workflow_is_404_naming_it(api, key):
    response = api.get(f"/projects/{key}/workflow/drift")
    assert response.status_code == 404
    assert "has no workflow instance" in response.get_json()["detail"]


def test_bearer_calls_send_no_session_cookie(api, key, workflow):
    response = api.get(f"/projects/{key}/workflow")
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers


def test_a_put_with_if_match_reads_the_instance_row_once(api, key, workflow, count_queries):
    etag = api.get(f"/projects/{key}/workflow").headers["ETag"]
    body = {"effective_workflow": edited(source(), description="read once")}
    with count_queries() as statements:
        response = api.put(f"/projects/{key}/workflow", json=body, headers={"If-Match": etag})
    assert response.status_code == 200
    reads = [
        s
        for s in statements
        if s.lstrip().upper().startswith("SELECT") and "FROM workflow_instances" in s
    ]
    assert len(reads) == 1, reads
    # The next transaction locks the row afresh: a stale ETag is still refused.
    again = api.put(f"/projects/{key}/workflow", json=body, headers={"If-Match": etag})
    assert again.status_code == 412
