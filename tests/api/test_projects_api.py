"""The projects API: create, list, find, rename, archive, delete, and ownership."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from combine_app.projects.models import Project, ProjectAudit
from tests.conftest import make_app
from tests.support.problems import assert_problem


def audit_actions(db_session, project_uuid: str) -> list[str]:
    """The audit actions recorded for a project, oldest first."""
    db_session.expire_all()
    return list(
        db_session.scalars(
            select(ProjectAudit.action)
            .where(ProjectAudit.project_uuid == uuid.UUID(project_uuid))
            .order_by(ProjectAudit.id)
        )
    )


def audit_rows(db_session, project_uuid: str) -> list[ProjectAudit]:
    """The audit rows recorded for a project, oldest first."""
    db_session.expire_all()
    return list(
        db_session.scalars(
            select(ProjectAudit)
            .where(ProjectAudit.project_uuid == uuid.UUID(project_uuid))
            .order_by(ProjectAudit.id)
        )
    )


def project_count(db_session) -> int:
    """How many projects the database holds."""
    db_session.expire_all()
    return db_session.scalar(select(func.count()).select_from(Project))


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
    keys = [
        api.post("/projects", json={"name": "Sales Pipeline Dashboard"}).get_json()["project_id"]
        for _ in range(3)
    ]
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


# --- creating -----------------------------------------------------------------------------


def test_timestamps_carry_a_utc_offset_in_every_response(api):
    created = api.post("/projects", json={"name": "Clock Work"}).get_json()
    patched = api.patch(f"/projects/{created['id']}", json={"name": "Clock Work 2"}).get_json()
    fetched = api.get(f"/projects/{created['id']}").get_json()
    listed = api.get("/projects").get_json()["projects"][0]
    for body in (created, patched, fetched, listed):
        for field in ("created_at", "updated_at"):
            stamp = datetime.fromisoformat(body[field])
            assert stamp.utcoffset() == timedelta(0), (field, body[field])
    assert fetched["updated_at"] == patched["updated_at"]
    assert fetched["created_at"] == created["created_at"]


def test_created_project_has_every_contract_field(api):
    body = api.post("/projects", json={"name": "  Data Lake  ", "description": " raw "}).get_json()
    assert set(body) == {
        "id",
        "project_id",
        "name",
        "description",
        "status",
        "is_archived",
        "owner",
        "created_at",
        "updated_at",
        "your_role",
        "policy",
    }
    assert body["your_role"] == "owner"
    assert body["policy"] == {"four_eyes": False, "review_days": None}
    assert uuid.UUID(body["id"])
    assert body["name"] == "Data Lake"
    assert body["description"] == "raw"
    assert body["status"] == "active"


@pytest.mark.parametrize("name", ["R2D2", "X1 Wing", "Project 42", "42"])
def test_a_created_project_is_reachable_by_its_own_key(api, name):
    key = api.post("/projects", json={"name": name}).get_json()["project_id"]
    response = api.get(f"/projects/{key}")
    assert response.status_code == 200, (key, response.get_json())
    assert response.get_json()["project_id"] == key


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "/name"),
        ({"name": ""}, "/name"),
        ({"name": "   "}, "/name"),
        ({"name": None}, "/name"),
        ({"name": 7}, "/name"),
        ({"name": "x" * 201}, "/name"),
        ({"name": "Fine", "description": None}, "/description"),
        ({"name": "Fine", "owner": "bob"}, "/owner"),
    ],
)
def test_create_with_a_broken_field_is_422_naming_it_and_writes_nothing(
    api, db_session, body, field
):
    problem = assert_problem(api.post("/projects", json=body), 422)
    assert field in problem["errors"]
    assert project_count(db_session) == 0
    assert db_session.scalar(select(func.count()).select_from(ProjectAudit)) == 0


# --- listing ------------------------------------------------------------------------------


@pytest.fixture
def three_projects(api):
    """Three of alice's projects: matched by name, by description, and by neither."""
    rocket = api.post("/projects", json={"name": "Alpha Rocket"}).get_json()
    fuel = api.post(
        "/projects", json={"name": "Beta", "description": "Needs more ROCKET fuel"}
    ).get_json()
    gamma = api.post("/projects", json={"name": "Gamma", "description": "calm"}).get_json()
    return rocket, fuel, gamma


def keys_of(response) -> set[str]:
    """The project keys in a list response."""
    return {project["project_id"] for project in response.get_json()["projects"]}


def test_search_matches_name_and_description_case_insensitively(api, three_projects):
    rocket, fuel, _ = three_projects
    response = api.get("/projects", query_string={"search": "rocket"})
    assert response.status_code == 200
    assert keys_of(response) == {rocket["project_id"], fuel["project_id"]}
    assert response.get_json()["total"] == 2


def test_search_matches_the_key(api, three_projects):
    _, _, gamma = three_projects
    response = api.get("/projects", query_string={"search": gamma["project_id"].lower()})
    assert keys_of(response) == {gamma["project_id"]}


def test_search_without_a_match_is_an_empty_page(api, three_projects):
    body = api.get("/projects", query_string={"search": "zeppelin"}).get_json()
    assert body["projects"] == []
    assert body["total"] == 0


@pytest.mark.parametrize("wildcard", ["%", "_"])
def test_search_treats_like_wildcards_as_plain_characters(api, three_projects, wildcard):
    literal = api.post("/projects", json={"name": f"Done 100{wildcard} Now"}).get_json()
    response = api.get("/projects", query_string={"search": wildcard})
    assert keys_of(response) == {literal["project_id"]}


def test_pagination_splits_the_list_without_overlap_and_reports_the_total(api):
    for index in range(5):
        assert api.post("/projects", json={"name": f"Paged {index}"}).status_code == 201
    everything = api.get("/projects", query_string={"limit": 100}).get_json()
    assert everything["total"] == 5
    ordered = [project["project_id"] for project in everything["projects"]]

    pages = []
    for offset in (0, 2, 4):
        body = api.get("/projects", query_string={"offset": offset, "limit": 2}).get_json()
        assert body["total"] == 5
        assert body["offset"] == offset
        assert body["limit"] == 2
        pages.extend(project["project_id"] for project in body["projects"])
    assert pages == ordered


def test_list_defaults_to_offset_0_and_limit_20(api, three_projects):
    body = api.get("/projects").get_json()
    assert (body["offset"], body["limit"], body["total"]) == (0, 20, 3)


def test_an_offset_past_the_end_is_an_empty_page_with_the_total(api, three_projects):
    body = api.get("/projects", query_string={"offset": 50}).get_json()
    assert body["projects"] == []
    assert body["total"] == 3


def test_archived_projects_are_listed_only_with_include_archived(api, three_projects):
    rocket, fuel, gamma = three_projects
    assert api.post(f"/projects/{gamma['project_id']}/archive").status_code == 200

    default = api.get("/projects")
    assert keys_of(default) == {rocket["project_id"], fuel["project_id"]}
    assert default.get_json()["total"] == 2

    included = api.get("/projects", query_string={"include_archived": "true"})
    assert keys_of(included) == {rocket["project_id"], fuel["project_id"], gamma["project_id"]}
    assert included.get_json()["total"] == 3


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "101"}, "limit"),
        ({"limit": "abc"}, "limit"),
        ({"offset": "-1"}, "offset"),
        ({"offset": "x"}, "offset"),
        ({"include_archived": "maybe"}, "include_archived"),
        ({"search": "s" * 201}, "search"),
    ],
)
def test_bad_list_arguments_are_422_naming_the_field(api, query, field):
    problem = assert_problem(api.get("/projects", query_string=query), 422)
    assert field in problem["errors"]


def test_admin_sees_and_opens_other_users_projects(api_for, make_user, make_project, alice):
    admin = make_user("root", admin=True)
    bob = make_user("bob")
    mine = make_project(alice, "Alice Work")
    theirs = make_project(bob, "Bob Work")
    admin_api = api_for(admin)

    assert keys_of(admin_api.get("/projects")) == {mine.project_id, theirs.project_id}
    response = admin_api.get(f"/projects/{theirs.project_id}")
    assert response.status_code == 200
    assert response.get_json()["owner"] == "bob"


def test_a_regular_user_lists_only_their_own_projects(api, make_user, make_project, alice):
    bob = make_user("bob")
    mine = make_project(alice, "Alice Work")
    make_project(bob, "Bob Work")
    body = api.get("/projects").get_json()
    assert keys_of(api.get("/projects")) == {mine.project_id}
    assert body["total"] == 1


def test_listing_runs_the_same_number_of_queries_for_one_or_many_projects(
    api, make_project, alice, count_queries
):
    make_project(alice, "First One")
    with count_queries() as one:
        assert api.get("/projects").get_json()["total"] == 1
    for index in range(6):
        make_project(alice, f"More {index}")
    with count_queries() as many:
        assert api.get("/projects").get_json()["total"] == 7
    assert len(many) == len(one), many


# --- editing ------------------------------------------------------------------------------


def test_patch_renames_and_records_old_and_new(api, db_session):
    created = api.post("/projects", json={"name": "Old Name", "description": "same"}).get_json()
    response = api.patch(f"/projects/{created['project_id']}", json={"name": "New Name"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["name"] == "New Name"
    assert body["description"] == "same"
    assert body["project_id"] == created["project_id"]
    assert api.get(f"/projects/{created['id']}").get_json()["name"] == "New Name"

    updated = audit_rows(db_session, created["id"])[-1]
    assert updated.action == "updated"
    assert updated.actor == "alice"
    assert updated.detail == {"name": {"old": "Old Name", "new": "New Name"}}


def test_patch_description_records_only_the_description(api, db_session):
    created = api.post("/projects", json={"name": "Described"}).get_json()
    response = api.patch(f"/projects/{created['id']}", json={"description": "Now with words"})
    assert response.get_json()["description"] == "Now with words"
    updated = audit_rows(db_session, created["id"])[-1]
    assert updated.detail == {"description": {"old": "", "new": "Now with words"}}


def test_patch_with_the_current_values_writes_no_audit_row(api, db_session):
    created = api.post("/projects", json={"name": "Steady"}).get_json()
    response = api.patch(f"/projects/{created['id']}", json={"name": "Steady"})
    assert response.status_code == 200
    assert audit_actions(db_session, created["id"]) == ["created"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, ""),
        ({"owner": "bob"}, "/owner"),
        ({"name": "Fine", "status": "archived"}, "/status"),
        ({"name": ""}, "/name"),
        ({"name": None}, "/name"),
    ],
)
def test_patch_that_breaks_the_rules_is_422_and_changes_nothing(api, db_session, body, field):
    created = api.post("/projects", json={"name": "Untouched"}).get_json()
    problem = assert_problem(api.patch(f"/projects/{created['id']}", json=body), 422)
    assert field in problem["errors"]
    assert api.get(f"/projects/{created['id']}").get_json()["name"] == "Untouched"
    assert audit_actions(db_session, created["id"]) == ["created"]


# --- deleting, archiving ------------------------------------------------------------------


def test_delete_is_204_then_404_and_the_audit_trail_keeps_the_key(api, db_session):
    created = api.post("/projects", json={"name": "Short Lived"}).get_json()
    response = api.delete(f"/projects/{created['project_id']}")
    assert response.status_code == 204
    assert response.get_data() == b""

    assert_problem(api.get(f"/projects/{created['project_id']}"), 404)
    assert_problem(api.get(f"/projects/{created['id']}"), 404)
    assert_problem(api.delete(f"/projects/{created['project_id']}"), 404)
    assert project_count(db_session) == 0

    deleted = audit_rows(db_session, created["id"])[-1]
    assert deleted.action == "deleted"
    assert deleted.project_key == created["project_id"]
    assert deleted.actor == "alice"


def test_archive_is_200_then_409(api, db_session):
    created = api.post("/projects", json={"name": "Shelved"}).get_json()
    response = api.post(f"/projects/{created['project_id']}/archive")
    assert response.status_code == 200
    assert response.get_json()["is_archived"] is True
    assert response.get_json()["status"] == "archived"

    assert_problem(api.post(f"/projects/{created['project_id']}/archive"), 409)
    assert audit_actions(db_session, created["id"]) == ["created", "archived"]


def test_unarchive_is_200_then_409(api, db_session):
    created = api.post("/projects", json={"name": "Revived"}).get_json()
    assert_problem(api.post(f"/projects/{created['project_id']}/unarchive"), 409)
    api.post(f"/projects/{created['project_id']}/archive")

    response = api.post(f"/projects/{created['project_id']}/unarchive")
    assert response.status_code == 200
    assert response.get_json()["is_archived"] is False
    assert response.get_json()["status"] == "active"

    assert_problem(api.post(f"/projects/{created['project_id']}/unarchive"), 409)
    assert audit_actions(db_session, created["id"]) == ["created", "archived", "unarchived"]


def test_each_project_change_appends_exactly_one_audit_row(api, db_session):
    created = api.post("/projects", json={"name": "Audited"}).get_json()
    ref = created["project_id"]
    expected = ["created"]
    assert audit_actions(db_session, created["id"]) == expected

    steps = [
        ("patch", "", {"name": "Audited Again", "description": "both fields"}, "updated"),
        ("post", "/archive", None, "archived"),
        ("post", "/unarchive", None, "unarchived"),
        ("delete", "", None, "deleted"),
    ]
    for method, suffix, body, action in steps:
        response = getattr(api, method)(f"/projects/{ref}{suffix}", json=body)
        assert response.status_code in (200, 204), response.get_json()
        expected.append(action)
        assert audit_actions(db_session, created["id"]) == expected

    rows = audit_rows(db_session, created["id"])
    assert {row.project_key for row in rows} == {ref}
    assert rows[1].detail == {
        "name": {"old": "Audited", "new": "Audited Again"},
        "description": {"old": "", "new": "both fields"},
    }


# --- ownership and authentication on every endpoint --------------------------------------

PROJECT_ENDPOINTS = [
    ("get", "", None),
    ("patch", "", {"name": "Taken Over"}),
    ("delete", "", None),
    ("post", "/archive", None),
    ("post", "/unarchive", None),
    ("get", "/tree", None),
]


@pytest.mark.parametrize(("method", "suffix", "body"), PROJECT_ENDPOINTS)
@pytest.mark.parametrize("ref_kind", ["key", "uuid"])
def test_every_project_endpoint_is_404_for_another_users_project(
    api, make_user, make_project, db_session, method, suffix, body, ref_kind
):
    bob = make_user("bob")
    project = make_project(bob, "Bob Private")
    if suffix == "/unarchive":
        project.archived_at = project.created_at
        db_session.commit()
    ref = project.project_id if ref_kind == "key" else str(project.id)

    assert_problem(getattr(api, method)(f"/projects/{ref}{suffix}", json=body), 404)

    db_session.expire_all()
    still = db_session.get(Project, project.id)
    assert still is not None
    assert still.name == "Bob Private"
    assert audit_actions(db_session, str(project.id)) == ["created"]


@pytest.mark.parametrize(("method", "suffix", "body"), PROJECT_ENDPOINTS)
@pytest.mark.parametrize("ref", ["ZZZ-999", str(uuid.UUID(int=1)), "not a key", "SPD-1"])
def test_every_project_endpoint_is_404_for_an_unknown_project(api, method, suffix, body, ref):
    assert_problem(getattr(api, method)(f"/projects/{ref}{suffix}", json=body), 404)


def _api_routes(app) -> list[tuple[str, str]]:
    """Every (method, concrete path) under /api/v1, path arguments filled in."""
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = rule.rule
        for argument in rule.arguments:
            path = path.replace(f"<{argument}>", "SPD-001")
            path = path.replace(f"<int:{argument}>", "1")  # a number (a revision)
            for converter in ("string", "path", "uuid", "project_ref"):
                path = path.replace(f"<{converter}:{argument}>", "SPD-001")
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            routes.append((method, path))
    return routes


def test_every_api_endpoint_without_credentials_is_401_problem_json(
    app, client, alice, make_project
):
    make_project(alice)
    routes = _api_routes(app)
    assert ("GET", "/api/v1/projects/SPD-001") in routes
    assert ("POST", "/api/v1/projects/SPD-001/archive") in routes
    for method, path in routes:
        response = client.open(path, method=method, json={"name": "x"})
        assert_problem(response, 401)
        assert response.headers["WWW-Authenticate"].startswith("Bearer"), (method, path)
        assert "Location" not in response.headers


# --- reading bodies -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"), [("post", "/projects"), ("patch", "/projects/SPD-001")]
)
def test_malformed_json_is_400(api, make_project, alice, db_session, method, path):
    make_project(alice)
    response = getattr(api, method)(path, data=b'{"name": ', content_type="application/json")
    assert_problem(response, 400)
    assert project_count(db_session) == 1


@pytest.mark.parametrize(
    ("method", "path"), [("post", "/projects"), ("patch", "/projects/SPD-001")]
)
def test_body_that_is_not_utf8_is_400(api, make_project, alice, method, path):
    make_project(alice)
    response = getattr(api, method)(path, data=b"\xff\xfe{}", content_type="application/json")
    assert_problem(response, 400)


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_a_body_that_is_not_json_is_415(api, db_session, content_type):
    kwargs = {"data": '{"name": "Looks Like JSON"}'}
    if content_type:
        kwargs["content_type"] = content_type
    assert_problem(api.post("/projects", **kwargs), 415)
    assert project_count(db_session) == 0


@pytest.mark.parametrize("body", ['[{"name": "In A List"}]', '"just a string"', "42", "null"])
def test_json_that_is_not_an_object_is_422(api, db_session, body):
    response = api.post("/projects", data=body, content_type="application/json")
    assert_problem(response, 422)
    assert project_count(db_session) == 0


def test_body_over_the_size_limit_is_413_problem_json_and_writes_nothing(
    database_url, api, db_session
):
    small = make_app(database_url, MAX_CONTENT_LENGTH=1024)
    client = small.test_client()
    body = '{"name": "Big", "description": "' + "x" * 2048 + '"}'
    response = client.post(
        "/api/v1/projects",
        data=body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {api.token}"},
    )
    problem = assert_problem(response, 413)
    assert "1024" in problem["detail"]
    assert project_count(db_session) == 0


def test_body_over_the_default_4_mib_limit_is_413(api, db_session):
    body = b'{"name": "Huge", "description": "' + b"x" * (4 * 1024 * 1024) + b'"}'
    assert_problem(api.post("/projects", data=body, content_type="application/json"), 413)
    assert project_count(db_session) == 0


def test_wrong_method_is_405_problem_json_with_allow(api):
    response = api.put("/projects", json={"name": "x"})
    assert_problem(response, 405)
    assert "POST" in response.headers["Allow"]


def test_unknown_api_address_is_404_problem_json(api):
    assert_problem(api.get("/no-such-thing"), 404)


@pytest.mark.parametrize(("limit", "status"), [("1.0", 200), ("2", 200), ("1.5", 422), ("x", 422)])
def test_limit_is_read_as_the_document_reads_an_integer(api, three_projects, limit, status):
    response = api.get(f"/projects?limit={limit}")
    assert response.status_code == status, response.get_json()
    if status == 200:
        assert response.get_json()["limit"] == int(float(limit))
    else:
        assert response.get_json()["errors"]["limit"] == ["Not a valid integer."]


def test_options_of_from_intake_advertises_only_what_answers(api):
    allowed = api._call("OPTIONS", "/projects/from-intake")
    assert set(allowed.headers["Allow"].split(", ")) == {"OPTIONS", "POST"}
    for method in ("GET", "PATCH", "DELETE"):
        refused = api._call(method, "/projects/from-intake")
        assert refused.status_code == 405, (method, refused.status_code)
        assert refused.headers["Content-Type"].startswith("application/problem+json")
