"""The workflow-instance endpoints of /api/v1 on both databases (INTERFACE.md section 3)."""

from __future__ import annotations

import copy
import json
import uuid

import pytest
from sqlalchemy import func, select

from combine_app.workflows.models import WorkflowInstance, WorkflowInstanceHistory

from .instance_support import (
    GRAPH,
    SPD,
    edited,
    find_step,
    source,
    with_step_added,
    with_step_field,
    with_step_moved_first,
)

PROBLEM_JSON = "application/problem+json"
INSTANCE_FIELDS = {
    "id",
    "project_id",
    "base_workflow_ref",
    "effective_workflow",
    "status",
    "revision",
    "created_at",
    "updated_at",
}
DRIFT_FIELDS = {
    "base_workflow_id",
    "base_version",
    "steps_added",
    "steps_removed",
    "steps_reordered",
    "metadata_changed",
    "is_drifted",
    "steps_modified",
    "steps_moved",
    "metadata_changes",
    "source_available",
    "source_changed",
    "latest_version",
}


@pytest.fixture
def project(make_project, alice):
    """One project of alice's, without a workflow."""
    return make_project(alice)


@pytest.fixture
def key(project) -> str:
    """The project's human key."""
    return project.project_id


@pytest.fixture
def created(api, key) -> dict:
    """The instance of SPD 1.1.0 created through the API (the 201 body)."""
    response = api.post(f"/projects/{key}/workflow", json={"workflow_id": SPD, "version": "1.1.0"})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def workflow_url(key: str, suffix: str = "") -> str:
    """The path of a project's workflow endpoint under /api/v1."""
    return f"/projects/{key}/workflow{suffix}"


def put(api, key, definition, **headers):
    """PUT a replacement definition."""
    return api.put(workflow_url(key), json={"effective_workflow": definition}, headers=headers)


def state(api, key) -> tuple:
    """Everything a client can read about the instance: body, ETag and the whole history."""
    got = api.get(workflow_url(key))
    history = api.get(workflow_url(key, "/history?limit=100"))
    return got.status_code, got.get_json(), got.headers.get("ETag"), history.get_json()


def assert_problem(response, status: int, field: str | None = None) -> dict:
    """The response is problem+json with this status (and, for 422, names ``field``)."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM_JSON
    body = response.get_json()
    assert {"type", "title", "status", "detail"} <= body.keys()
    assert body["status"] == status
    if field is not None:
        assert field in body["errors"], body
    return body


def history_entries(api, key) -> list[dict]:
    """Every history entry, newest first."""
    return api.get(workflow_url(key, "/history?limit=100")).get_json()["entries"]


# --- POST /workflow ---------------------------------------------------------------------------


def test_post_creates_the_instance_201_with_etag(api, key, project):
    response = api.post(workflow_url(key), json={"workflow_id": SPD, "version": "1.1.0"})

    assert response.status_code == 201
    body = response.get_json()
    assert INSTANCE_FIELDS <= body.keys()
    assert body["project_id"] == str(project.id)
    assert body["base_workflow_ref"]["workflow_id"] == SPD
    assert body["base_workflow_ref"]["version"] == "1.1.0"
    assert body["base_workflow_ref"]["pow_class"] == "reference"
    assert body["base_workflow_ref"]["content_hash"].startswith("sha256:")
    assert body["effective_workflow"] == source()
    assert body["status"] == "active"
    assert body["revision"] == 1
    assert response.headers["ETag"]
    assert api.get(workflow_url(key)).headers["ETag"] == response.headers["ETag"]


def test_post_without_a_version_is_422_naming_version_and_writes_nothing(api, key):
    response = api.post(workflow_url(key), json={"workflow_id": SPD})
    assert_problem(response, 422, "/version")
    assert_problem(api.get(workflow_url(key)), 404)


def test_post_accepts_the_project_uuid_as_well_as_the_key(api, project):
    response = api.post(
        workflow_url(str(project.id)), json={"workflow_id": SPD, "version": "1.1.0"}
    )
    assert response.status_code == 201
    assert api.get(workflow_url(project.project_id)).status_code == 200


def test_second_post_is_409_and_keeps_the_first_instance(api, key, created):
    before = state(api, key)
    response = api.post(workflow_url(key), json={"workflow_id": SPD, "version": "1.0.0"})
    assert_problem(response, 409)
    assert state(api, key) == before


@pytest.mark.parametrize(
    ("request_kwargs", "status", "field"),
    [
        ({"json": {"workflow_id": "no_such_workflow", "version": "1.0.0"}}, 422, "/workflow_id"),
        ({"json": {"workflow_id": SPD, "version": "9.9.9"}}, 422, "/version"),
        ({"json": {"workflow_id": GRAPH, "version": "1.0.0"}}, 422, "/workflow_id"),
        ({"json": {"workflow_id": SPD}}, 422, "/version"),
        ({"json": {"workflow_id": SPD, "version": "1.1"}}, 422, "/version"),
        ({"json": {"workflow_id": "Not-An-Id"}}, 422, "/workflow_id"),
        ({"json": {"version": "1.1.0"}}, 422, "/workflow_id"),
        ({"json": {"workflow_id": SPD, "owner": "bob"}}, 422, "/owner"),
        ({"json": [{"workflow_id": SPD}]}, 422, None),
        ({"data": '{"workflow_id": ', "content_type": "application/json"}, 400, None),
        ({"data": json.dumps({"workflow_id": SPD}), "content_type": "text/plain"}, 415, None),
    ],
    ids=[
        "unknown-workflow",
        "unknown-version",
        "graph-workflow-with-version",
        "missing-version",
        "malformed-version",
        "malformed-workflow-id",
        "missing-workflow-id",
        "unknown-field",
        "json-array",
        "not-json",
        "wrong-content-type",
    ],
)
def test_bad_post_is_refused_and_creates_nothing(api, key, request_kwargs, status, field):
    response = api.post(workflow_url(key), **request_kwargs)
    assert_problem(response, status, field)
    assert_problem(api.get(workflow_url(key)), 404)


# --- GET /workflow ----------------------------------------------------------------------------


def test_get_returns_the_instance_with_its_etag(api, key, created):
    response = api.get(workflow_url(key))
    assert response.status_code == 200
    assert response.get_json() == created
    assert response.headers["ETag"].startswith('"')


def test_get_without_an_instance_is_404(api, key):
    assert_problem(api.get(workflow_url(key)), 404)


# --- PUT /workflow ----------------------------------------------------------------------------


def test_put_replaces_the_definition_and_changes_the_etag(api, key, created):
    etag_before = api.get(workflow_url(key)).headers["ETag"]
    definition = with_step_added(created["effective_workflow"], "retrospective")

    response = put(api, key, definition)

    assert response.status_code == 200
    body = response.get_json()
    assert body["effective_workflow"] == definition
    assert body["revision"] == 2
    assert response.headers["ETag"] != etag_before
    assert api.get(workflow_url(key)).headers["ETag"] == response.headers["ETag"]
    assert api.get(workflow_url(key)).get_json() == body


def test_put_with_the_current_etag_is_200(api, key, created):
    etag = api.get(workflow_url(key)).headers["ETag"]
    response = put(api, key, with_step_added(source(), "retrospective"), **{"If-Match": etag})
    assert response.status_code == 200
    assert response.get_json()["revision"] == 2


def test_put_with_a_stale_etag_is_412_and_writes_nothing(api, key, created):
    stale = api.get(workflow_url(key)).headers["ETag"]
    assert put(api, key, with_step_added(source(), "first_edit")).status_code == 200
    before = state(api, key)

    response = put(api, key, with_step_added(source(), "second_edit"), **{"If-Match": stale})

    assert_problem(response, 412)
    assert state(api, key) == before
    assert before[1]["revision"] == 2


def test_put_with_if_match_star_is_200(api, key, created):
    response = put(api, key, with_step_added(source(), "retrospective"), **{"If-Match": "*"})
    assert response.status_code == 200


def test_put_with_a_list_of_etags_including_the_current_one_is_200(api, key, created):
    current = api.get(workflow_url(key)).headers["ETag"]
    header = f'"not-a-tag", {current}'
    response = put(api, key, with_step_added(source(), "retrospective"), **{"If-Match": header})
    assert response.status_code == 200


@pytest.mark.parametrize(
    "header",
    [
        "garbage",
        '"garbage"',
        "W/{etag}",
        '"{id}:999"',
        '"00000000-0000-0000-0000-000000000000:1"',
        "",
    ],
    ids=["bare-word", "quoted-word", "weak-current", "other-revision", "other-instance", "empty"],
)
def test_put_with_an_if_match_that_is_not_the_current_etag_is_412_and_writes_nothing(
    api, key, created, header
):
    etag = api.get(workflow_url(key)).headers["ETag"]
    before = state(api, key)
    header = header.format(etag=etag, id=created["id"])

    response = put(api, key, with_step_added(source(), "retrospective"), **{"If-Match": header})

    assert_problem(response, 412)
    assert state(api, key) == before


def test_put_of_an_identical_body_changes_nothing(api, key, created):
    before = state(api, key)
    response = put(api, key, created["effective_workflow"])
    assert response.status_code == 200
    assert response.get_json()["revision"] == 1
    assert response.headers["ETag"] == before[2]
    assert state(api, key) == before


def test_what_get_returns_put_takes_back_as_identical(api, key, created):
    numbers = {
        "half": 0.5,
        "two": 2.0,
        "tiny": 1e-7,
        "exact": 123456789.125,
        "large_float": 1e15,
        "largest_safe_integer": 2**53 - 1,
        "negative_zero": -0.0,
    }
    definition = edited(created["effective_workflow"], numbers=numbers)
    assert put(api, key, definition).status_code == 200
    before = state(api, key)

    assert put(api, key, before[1]["effective_workflow"]).status_code == 200
    assert state(api, key) == before
    assert put(api, key, definition).status_code == 200
    assert state(api, key) == before


def test_put_writes_one_history_entry_per_kind_of_change(api, key, created):
    definition = with_step_moved_first(created["effective_workflow"], "release_readiness")
    definition = with_step_added(definition, "retrospective")
    definition = with_step_field(definition, "code_review", "role", "Senior Developer 1.0")
    definition = edited(definition, description="Ours now.")
    assert put(api, key, definition).status_code == 200

    entries = history_entries(api, key)
    newest = [e for e in entries if e["change_detail"]["revision"] == 2]
    assert sorted(e["change_type"] for e in newest) == [
        "metadata_changed",
        "step_added",
        "step_modified",
        "step_reordered",
    ]
    assert all(e["changed_by"] == "alice" for e in newest)
    [modified] = next(e for e in newest if e["change_type"] == "step_modified")["change_detail"][
        "steps"
    ]
    assert modified["step_id"] == "code_review"
    assert [(c["field"], c["old"], c["new"]) for c in modified["changes"]] == [
        ("role", "Technical Lead 1.0", "Senior Developer 1.0")
    ]


def test_put_without_an_instance_is_404(api, key):
    assert_problem(put(api, key, source()), 404)


@pytest.mark.parametrize("transition", ["complete", "archive"])
def test_put_on_a_completed_or_archived_instance_is_409_and_writes_nothing(
    api, key, created, transition
):
    assert api.post(workflow_url(key, f"/{transition}")).status_code == 200
    before = state(api, key)
    assert_problem(put(api, key, with_step_added(source(), "late_step")), 409)
    assert state(api, key) == before


def _without_steps() -> dict:
    definition = source()
    del definition["steps"]
    return definition


def _with_nested_duplicate() -> dict:
    definition = source()
    find_step(definition, "per_epic")["steps"].append({"step_id": "product_discovery"})
    return definition


def _body(definition) -> dict:
    return {"json": {"effective_workflow": definition}}


def _raw(text: str, content_type: str = "application/json") -> dict:
    return {"data": text, "content_type": content_type}


BAD_PUTS = {
    "not-json": (lambda: _raw('{"effective_workflow": {'), 400, None),
    "not-utf8": (
        lambda: {"data": b'{"effective_workflow": "\xff"}', "content_type": "application/json"},
        400,
        None,
    ),
    "wrong-content-type": (
        lambda: _raw(json.dumps({"effective_workflow": source()}), "text/plain"),
        415,
        None,
    ),
    "form-content-type": (
        lambda: _raw("effective_workflow=x", "application/x-www-form-urlencoded"),
        415,
        None,
    ),
    "json-array": (lambda: {"json": [{"effective_workflow": source()}]}, 422, ""),
    "effective-workflow-missing": (lambda: {"json": {}}, 422, "/effective_workflow"),
    "effective-workflow-a-list": (lambda: _body(source()["steps"]), 422, "/effective_workflow"),
    "effective-workflow-a-string": (lambda: _body("steps"), 422, "/effective_workflow"),
    "effective-workflow-null": (lambda: _body(None), 422, "/effective_workflow"),
    "no-steps": (lambda: _body(_without_steps()), 422, "/effective_workflow/steps"),
    "duplicate-nested-step-id": (
        lambda: _body(_with_nested_duplicate()),
        422,
        "/effective_workflow/steps/4/steps/3/step_id",
    ),
    "malformed-step-id": (
        lambda: _body(with_step_field(source(), "code_review", "step_id", "Code-Review")),
        422,
        "/effective_workflow/steps/4/steps/2/step_id",
    ),
    "pow-class-instance": (
        lambda: _body(edited(source(), pow_class="instance")),
        422,
        "/effective_workflow/pow_class",
    ),
    "changed-workflow-id": (
        lambda: _body(edited(source(), workflow_id="my_flow")),
        422,
        "/effective_workflow/workflow_id",
    ),
    "unknown-field": (
        lambda: {"json": {"effective_workflow": source(), "comment": "hi"}},
        422,
        "/comment",
    ),
    "nan-is-not-json": (
        lambda: _raw(json.dumps({"effective_workflow": edited(source(), weight=float("nan"))})),
        422,
        None,
    ),
    "duplicate-key": (
        lambda: _raw(
            '{"effective_workflow": {}, "effective_workflow": ' + json.dumps(source()) + "}"
        ),
        422,
        None,
    ),
    "integer-beyond-2-to-the-53": (
        lambda: _raw(json.dumps({"effective_workflow": edited(source(), weight=2**60)})),
        422,
        None,
    ),
    "float-beyond-2-to-the-53": (
        lambda: _raw(json.dumps({"effective_workflow": edited(source(), weight=1e22)})),
        422,
        None,
    ),
    "nul-character-in-a-string": (
        lambda: _body(with_step_field(source(), "code_review", "name", "Code\u0000Review")),
        422,
        "/effective_workflow/steps/4/steps/2/name",
    ),
    "nul-character-in-a-key": (lambda: _body(edited(source(), **{"x\u0000y": 1})), 422, None),
    "lone-surrogate": (
        lambda: _raw(
            '{"effective_workflow": ' + json.dumps(edited(source(), description="\ud800")) + "}"
        ),
        422,
        "/effective_workflow/description",
    ),
    "nested-too-deep": (
        lambda: _raw('{"effective_workflow": ' + "[" * 100_000 + "]" * 100_000 + "}"),
        400,
        None,
    ),
}


@pytest.mark.parametrize(
    ("make_request", "status", "field"), list(BAD_PUTS.values()), ids=list(BAD_PUTS)
)
def test_bad_put_is_refused_and_writes_nothing(api, key, created, make_request, status, field):
    before = state(api, key)
    response = api.put(workflow_url(key), **make_request())
    assert_problem(response, status, field)
    if status == 422:
        assert response.get_json()["errors"]
    assert state(api, key) == before
    assert before[1]["revision"] == 1


def test_put_over_the_size_limit_is_413_and_writes_nothing(api, app, key, created):
    limit = app.config["MAX_CONTENT_LENGTH"]
    before = state(api, key)
    big = edited(source(), description="x" * limit)

    response = api.put(workflow_url(key), json={"effective_workflow": big})

    assert_problem(response, 413)
    assert state(api, key) == before


# --- drift ------------------------------------------------------------------------------------


def test_drift_of_a_fresh_instance_is_not_drifted(api, key, created):
    response = api.get(workflow_url(key, "/drift"))
    assert response.status_code == 200
    drift = response.get_json()
    assert DRIFT_FIELDS <= drift.keys()
    assert drift["is_drifted"] is False
    assert drift["base_workflow_id"] == SPD
    assert drift["base_version"] == "1.1.0"
    assert drift["latest_version"] == "1.1.0"
    assert drift["source_available"] is True


def test_drift_after_a_put_lists_the_changes(api, key, created):
    definition = with_step_added(created["effective_workflow"], "retrospective")
    assert put(api, key, definition).status_code == 200
    drift = api.get(workflow_url(key, "/drift")).get_json()
    assert drift["is_drifted"] is True
    assert drift["steps_added"] == ["retrospective"]
    assert drift["steps_removed"] == []
    assert drift["steps_reordered"] is False


def test_drift_without_an_instance_is_404(api, key):
    assert_problem(api.get(workflow_url(key, "/drift")), 404)


# --- history ----------------------------------------------------------------------------------


def test_history_is_entries_and_total_newest_first(api, key, created):
    definition = created["effective_workflow"]
    for step_id in ("one", "two", "three"):
        definition = with_step_added(definition, step_id)
        assert put(api, key, definition).status_code == 200
    assert api.post(workflow_url(key, "/complete")).status_code == 200

    response = api.get(workflow_url(key, "/history"))
    assert response.status_code == 200
    body = response.get_json()
    assert body["total"] == 5
    assert [(e["change_type"], e["change_detail"]["revision"]) for e in body["entries"]] == [
        ("status_changed", 5),
        ("step_added", 4),
        ("step_added", 3),
        ("step_added", 2),
        ("created", 1),
    ]
    first = body["entries"][-1]
    assert {"id", "change_type", "change_detail", "changed_at", "changed_by"} <= first.keys()
    assert first["changed_by"] == "alice"


def test_history_pages_with_limit_and_offset(api, key, created):
    definition = created["effective_workflow"]
    for step_id in ("one", "two", "three", "four"):
        definition = with_step_added(definition, step_id)
        assert put(api, key, definition).status_code == 200
    everything = [e["id"] for e in history_entries(api, key)]

    pages = [
        api.get(workflow_url(key, f"/history?limit=2&offset={offset}")).get_json()
        for offset in (0, 2, 4, 6)
    ]
    assert [page["total"] for page in pages] == [5, 5, 5, 5]
    assert [len(page["entries"]) for page in pages] == [2, 2, 1, 0]
    assert [e["id"] for page in pages for e in page["entries"]] == everything


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=-1", "limit"),
        ("limit=ten", "limit"),
        ("offset=-1", "offset"),
        ("offset=x", "offset"),
        ("page=2", "page"),
    ],
)
def test_history_with_limit_or_offset_out_of_range_is_422_naming_it(
    api, key, created, query, field
):
    assert_problem(api.get(workflow_url(key, f"/history?{query}")), 422, field)


def test_history_without_an_instance_is_404(api, key):
    assert_problem(api.get(workflow_url(key, "/history")), 404)


# --- complete and archive ---------------------------------------------------------------------


def test_complete_is_200_then_409(api, key, created):
    response = api.post(workflow_url(key, "/complete"))
    assert response.status_code == 200
    assert response.get_json()["status"] == "completed"
    assert response.get_json()["revision"] == 2
    assert response.headers["ETag"] == api.get(workflow_url(key)).headers["ETag"]
    before = state(api, key)
    assert_problem(api.post(workflow_url(key, "/complete")), 409)
    assert state(api, key) == before


def test_archive_is_200_then_409(api, key, created):
    response = api.post(workflow_url(key, "/archive"))
    assert response.status_code == 200
    assert response.get_json()["status"] == "archived"
    before = state(api, key)
    assert_problem(api.post(workflow_url(key, "/archive")), 409)
    assert_problem(api.post(workflow_url(key, "/complete")), 409)
    assert state(api, key) == before


def test_a_completed_instance_can_be_archived(api, key, created):
    assert api.post(workflow_url(key, "/complete")).status_code == 200
    response = api.post(workflow_url(key, "/archive"))
    assert response.status_code == 200
    assert response.get_json()["status"] == "archived"
    detail = history_entries(api, key)[0]["change_detail"]
    assert (detail["from"], detail["to"], detail["revision"]) == ("completed", "archived", 3)


@pytest.mark.parametrize("suffix", ["/complete", "/archive"])
def test_complete_or_archive_without_an_instance_is_404(api, key, suffix):
    assert_problem(api.post(workflow_url(key, suffix)), 404)


# --- the project around it ------------------------------------------------------------------


def test_an_archived_project_refuses_workflow_changes_but_shows_them(api, key, created):
    assert put(api, key, with_step_added(source(), "retrospective")).status_code == 200
    assert api.post(f"/projects/{key}/archive").status_code == 200
    before = state(api, key)

    assert_problem(put(api, key, source()), 409)
    assert_problem(api.post(workflow_url(key, "/complete")), 409)
    assert_problem(api.post(workflow_url(key, "/archive")), 409)
    assert state(api, key) == before

    assert before[0] == 200
    assert before[1]["revision"] == 2
    assert before[3]["total"] == 2
    drift = api.get(workflow_url(key, "/drift"))
    assert drift.status_code == 200
    assert drift.get_json()["steps_added"] == ["retrospective"]


def test_an_archived_project_cannot_get_a_workflow(api, key):
    assert api.post(f"/projects/{key}/archive").status_code == 200
    assert_problem(api.post(workflow_url(key), json={"workflow_id": SPD, "version": "1.0.0"}), 409)
    assert_problem(api.get(workflow_url(key)), 404)


def test_deleting_the_project_removes_its_workflow_and_history(
    api, key, created, project, db_session
):
    assert put(api, key, with_step_added(source(), "retrospective")).status_code == 200
    instance_id = uuid.UUID(created["id"])
    assert db_session.scalar(_count(WorkflowInstanceHistory, instance_id=instance_id)) == 2

    assert api.delete(f"/projects/{key}").status_code == 204

    assert_problem(api.get(workflow_url(str(project.id))), 404)
    assert db_session.scalar(_count(WorkflowInstance, id=instance_id)) == 0
    assert db_session.scalar(_count(WorkflowInstanceHistory, instance_id=instance_id)) == 0


def _count(model, **where):
    query = select(func.count()).select_from(model)
    for column, value in where.items():
        query = query.where(getattr(model, column) == value)
    return query


def test_an_unknown_project_is_404_on_every_workflow_read(api):
    for suffix in ("", "/drift", "/history"):
        assert_problem(api.get(workflow_url("NOPE-999", suffix)), 404)


# --- who may call -----------------------------------------------------------------------------

ENDPOINTS = [
    ("POST", "", {"workflow_id": SPD, "version": "1.1.0"}),
    ("GET", "", None),
    ("PUT", "", "definition"),
    ("GET", "/drift", None),
    ("GET", "/history", None),
    ("POST", "/complete", None),
    ("POST", "/archive", None),
]
ENDPOINT_IDS = [f"{method} workflow{suffix}" for method, suffix, _ in ENDPOINTS]


def _json_of(body, created: dict):
    if body == "definition":
        return {"effective_workflow": with_step_added(created["effective_workflow"], "intruder")}
    return copy.deepcopy(body)


@pytest.mark.parametrize(
    "authorization", [None, "Bearer cmb_not-a-real-token", "Basic YWxpY2U6cGFzc3dvcmQ="]
)
@pytest.mark.parametrize(("method", "suffix", "body"), ENDPOINTS, ids=ENDPOINT_IDS)
def test_every_workflow_endpoint_without_valid_credentials_is_401_and_writes_nothing(
    api, client, key, created, method, suffix, body, authorization
):
    before = state(api, key)
    headers = {} if authorization is None else {"Authorization": authorization}
    kwargs = {} if body is None else {"json": _json_of(body, created)}

    response = client.open(
        "/api/v1" + workflow_url(key, suffix), method=method, headers=headers, **kwargs
    )

    assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert state(api, key) == before


@pytest.mark.parametrize(("method", "suffix", "body"), ENDPOINTS, ids=ENDPOINT_IDS)
def test_every_workflow_endpoint_with_another_users_token_is_404_and_writes_nothing(
    api, api_for, make_user, key, created, method, suffix, body
):
    bob = api_for(make_user("bob"))
    before = state(api, key)
    kwargs = {} if body is None else {"json": _json_of(body, created)}

    response = getattr(bob, method.lower())(workflow_url(key, suffix), **kwargs)

    assert_problem(response, 404)
    assert state(api, key) == before


@pytest.mark.parametrize(("method", "suffix", "body"), ENDPOINTS, ids=ENDPOINT_IDS)
def test_every_workflow_endpoint_answers_an_admin_for_any_project(
    api, api_for, make_user, key, created, method, suffix, body
):
    admin = api_for(make_user("root", admin=True))
    kwargs = {} if body is None else {"json": _json_of(body, created)}
    response = getattr(admin, method.lower())(workflow_url(key, suffix), **kwargs)
    # POST /workflow meets the existing instance: the project was found, so 409.
    assert response.status_code == (409 if (method, suffix) == ("POST", "") else 200)
