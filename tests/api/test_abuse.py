"""Hostile input and credentials: every answer is a clear 4xx, the process stays up, nothing is
written, and no token leaks. Runs on both database legs.
"""

from __future__ import annotations

import json
import logging
import re
import time

import pytest
from sqlalchemy import func, select

from combine_app.projects.models import Project, ProjectAudit
from combine_app.workflows.models import WorkflowInstance, WorkflowInstanceHistory
from tests.conftest import ApiClient
from tests.support.problems import assert_problem

SPD = "software_product_development"
PREFIX = "/api/v1"
KEY = "SPD-001"
# Each hostile request must be answered well within this; generous for a loaded CI machine.
SECONDS = 10


@pytest.fixture
def workflow(api, alice, make_project) -> dict:
    """Alice's SPD-001 with an active workflow instance; returns the instance as served."""
    make_project(alice)
    response = api.post(f"/projects/{KEY}/workflow", json={"workflow_id": SPD, "version": "1.0.0"})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def written(db_session) -> tuple[int, int, int, int]:
    """What a refused request must leave alone: projects, audit rows, revision, history."""
    db_session.expire_all()

    def count(model) -> int:
        return db_session.scalar(select(func.count()).select_from(model))

    revision = db_session.scalar(select(func.coalesce(func.sum(WorkflowInstance.revision), 0)))
    return count(Project), count(ProjectAudit), revision, count(WorkflowInstanceHistory)


def send(api: ApiClient, method: str, path: str, body: bytes | str, **headers):
    """Send ``body`` as it is, labelled JSON unless told otherwise; time the answer."""
    data = body.encode() if isinstance(body, str) else body
    headers.setdefault("Content-Type", "application/json")
    started = time.perf_counter()
    response = api._call(method, path, data=data, headers=headers)
    assert time.perf_counter() - started < SECONDS, f"{method} {path} took too long"
    return response


def assert_still_serving(api: ApiClient) -> None:
    """The process is up and the instance is as it was."""
    response = api.get(f"/projects/{KEY}/workflow")
    assert response.status_code == 200
    assert response.get_json()["revision"] == 1


def put_definition_text(workflow: dict, extra: str) -> str:
    """A PUT body whose effective_workflow is the served one plus ``extra`` (raw JSON text)."""
    definition = json.dumps(workflow["effective_workflow"])
    return '{"effective_workflow": ' + definition[:-1] + ", " + extra + "}}"


def nested_steps_text(levels: int) -> str:
    """Steps nested ``levels`` deep, as text: json.dumps itself would overflow the stack."""
    opening = "".join(f'{{"step_id": "s{level}", "steps": [' for level in range(levels))
    return '"steps": [' + opening + '{"step_id": "leaf"}' + "]}" * levels + "]"


# --- deep ---------------------------------------------------------------------------------


def test_definition_with_steps_nested_1000_levels_is_400_and_writes_nothing(
    api, workflow, db_session
):
    before = written(db_session)
    definition = dict(workflow["effective_workflow"])
    definition.pop("steps")
    text = json.dumps(definition)[:-1] + ", " + nested_steps_text(1000) + "}"
    response = send(api, "PUT", f"/projects/{KEY}/workflow", '{"effective_workflow": ' + text + "}")
    body = assert_problem(response, 400)
    assert "nested too deeply" in body["detail"]
    assert written(db_session) == before
    assert_still_serving(api)


def test_steps_nested_past_the_pow_limit_but_readable_are_422_naming_the_step(
    api, workflow, db_session
):
    before = written(db_session)
    definition = dict(workflow["effective_workflow"])
    definition.pop("steps")
    text = json.dumps(definition)[:-1] + ", " + nested_steps_text(20) + "}"
    response = send(api, "PUT", f"/projects/{KEY}/workflow", '{"effective_workflow": ' + text + "}")
    body = assert_problem(response, 422)
    assert any("nested more than" in " ".join(m) for m in body["errors"].values()), body
    assert written(db_session) == before


@pytest.mark.parametrize("depth", [101, 500, 900, 5_000])
def test_metadata_nested_past_100_levels_is_400_whatever_the_depth(
    api, workflow, db_session, depth
):
    before = written(db_session)
    extra = '"notes": ' + "[" * depth + "]" * depth
    response = send(api, "PUT", f"/projects/{KEY}/workflow", put_definition_text(workflow, extra))
    assert "limit is 100 levels" in assert_problem(response, 400)["detail"]
    assert written(db_session) == before


def test_metadata_nested_100_levels_is_accepted(api, workflow, db_session):
    # The body's own object, effective_workflow and "notes" take three of the hundred levels.
    extra = '"notes": ' + "[" * 98 + "]" * 98
    response = send(api, "PUT", f"/projects/{KEY}/workflow", put_definition_text(workflow, extra))
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["revision"] == 2


@pytest.mark.parametrize(
    "body",
    ["[" * 100_000, "[" * 100_000 + "]" * 100_000, '{"a": ' * 100_000 + "1" + "}" * 100_000],
    ids=["unclosed-brackets", "closed-brackets", "objects"],
)
@pytest.mark.parametrize(
    ("method", "path"), [("PUT", f"/projects/{KEY}/workflow"), ("POST", "/projects")]
)
def test_raw_body_nested_100000_levels_is_400_not_a_crash(
    api, workflow, db_session, method, path, body
):
    before = written(db_session)
    response = send(api, method, path, body)
    assert "nested too deeply" in assert_problem(response, 400)["detail"]
    assert written(db_session) == before
    assert_still_serving(api)


# --- huge ---------------------------------------------------------------------------------


def test_100000_steps_is_422_and_writes_nothing(api, workflow, db_session):
    before = written(db_session)
    definition = {**workflow["effective_workflow"]}
    definition["steps"] = [{"step_id": f"s{index}"} for index in range(100_000)]
    response = send(
        api, "PUT", f"/projects/{KEY}/workflow", json.dumps({"effective_workflow": definition})
    )
    body = assert_problem(response, 422)
    assert "/effective_workflow/steps" in body["errors"]
    assert len(response.get_data()) < 10_000, "the answer must not echo the input"
    assert written(db_session) == before
    assert_still_serving(api)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", f"/projects/{KEY}/workflow"),
        ("POST", "/projects"),
        ("POST", "/projects/from-intake"),
        ("PATCH", f"/projects/{KEY}"),
    ],
)
def test_body_over_10_mb_is_413_and_writes_nothing(api, workflow, db_session, method, path):
    before = written(db_session)
    padding = "x" * (10 * 1024 * 1024)
    response = send(api, method, path, '{"name": "' + padding + '"}')
    body = assert_problem(response, 413)
    assert "limit" in body["detail"]
    assert written(db_session) == before
    assert_still_serving(api)


def test_body_over_the_limit_without_content_length_is_413(api, workflow, db_session):
    # A chunked upload announces no length: the limit must hold while reading, too.
    import io

    before = written(db_session)
    stream = io.BytesIO(b'{"name": "' + b"x" * (10 * 1024 * 1024) + b'"}')
    response = api.client.open(
        PREFIX + "/projects",
        method="POST",
        input_stream=stream,
        headers={"Authorization": f"Bearer {api.token}", "Content-Type": "application/json"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert_problem(response, 413)
    assert written(db_session) == before


def test_step_id_of_10000_characters_is_422_without_echoing_it(api, workflow, db_session):
    before = written(db_session)
    definition = {**workflow["effective_workflow"]}
    long_id = "s" * 10_000
    definition["steps"] = [{"step_id": long_id}, *definition["steps"][1:]]
    response = send(
        api, "PUT", f"/projects/{KEY}/workflow", json.dumps({"effective_workflow": definition})
    )
    body = assert_problem(response, 422)
    assert "/effective_workflow/steps/0/step_id" in body["errors"]
    assert long_id not in response.get_data(as_text=True)
    assert written(db_session) == before


@pytest.mark.parametrize(
    ("path", "payload"),
    [
        ("/projects", {"name": "n" * 10_000}),
        (
            "/projects/from-intake",
            {"intake_document": {"project_name": "X"}, "execution_id": "e" * 10_000},
        ),
        (f"/projects/{KEY}/workflow", {"workflow_id": "w" * 10_000}),
    ],
    ids=["name", "execution_id", "workflow_id"],
)
def test_a_10000_character_identifier_or_name_is_422(api, workflow, db_session, path, payload):
    before = written(db_session)
    response = send(api, "POST", path, json.dumps(payload))
    assert_problem(response, 422)
    assert written(db_session) == before


# --- bytes, characters and numbers --------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [b'{"name": "caf\xe9"}', b'\xff\xfe{\x00"\x00}\x00', b'{"name": "\xed\xa0\x80"}'],
    ids=["latin-1", "utf-16", "encoded-surrogate"],
)
def test_non_utf8_bytes_are_400_and_write_nothing(api, workflow, db_session, body):
    before = written(db_session)
    response = send(api, "POST", "/projects", body)
    assert "UTF-8" in assert_problem(response, 400)["detail"]
    assert written(db_session) == before
    assert_still_serving(api)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/projects", r'{"name": "a\u0000b"}'),
        ("PATCH", f"/projects/{KEY}", r'{"description": "\u0000"}'),
        ("POST", "/projects/from-intake", r'{"intake_document": {"project_name": "X\u0000"}}'),
        ("PUT", f"/projects/{KEY}/workflow", None),
    ],
    ids=["name", "description", "intake-key", "definition"],
)
def test_nul_character_in_a_string_is_422_and_writes_nothing(
    api, workflow, db_session, method, path, body
):
    if body is None:
        body = put_definition_text(workflow, r'"notes": "before\u0000after"')
    before = written(db_session)
    response = send(api, method, path, body)
    assert_problem(response, 422)
    assert written(db_session) == before
    assert_still_serving(api)


def test_nul_character_in_a_query_argument_is_422(api, workflow):
    body = assert_problem(api.get("/projects?search=a%00b"), 422)
    assert "search" in body["errors"]
    assert_still_serving(api)


@pytest.mark.parametrize(
    "number",
    ["9007199254740992", "-9007199254740992", "1" + "0" * 400, "9" * 100_000, "1e400", "-1e400"],
    ids=["2^53", "-2^53", "401-digits", "100000-digits", "1e400", "-1e400"],
)
@pytest.mark.parametrize("where", ["intake", "definition"])
def test_huge_numbers_are_422_and_write_nothing(api, workflow, db_session, number, where):
    before = written(db_session)
    if where == "intake":
        response = send(
            api,
            "POST",
            "/projects/from-intake",
            '{"intake_document": {"project_name": "X", "budget": ' + number + "}}",
        )
    else:
        response = send(
            api,
            "PUT",
            f"/projects/{KEY}/workflow",
            put_definition_text(workflow, '"weight": ' + number),
        )
    body = assert_problem(response, 422)
    assert len(body["detail"]) < 200, "the answer must not echo a huge number"
    assert written(db_session) == before


def test_largest_safe_integer_is_accepted(api, workflow):
    response = send(
        api,
        "PUT",
        f"/projects/{KEY}/workflow",
        put_definition_text(workflow, '"weight": 9007199254740991'),
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["effective_workflow"]["weight"] == 2**53 - 1


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
@pytest.mark.parametrize("where", ["intake", "definition", "project"])
def test_nan_and_infinity_literals_are_refused_and_write_nothing(
    api, workflow, db_session, literal, where
):
    before = written(db_session)
    if where == "intake":
        method, path = "POST", "/projects/from-intake"
        body = '{"intake_document": {"project_name": "X", "score": ' + literal + "}}"
    elif where == "definition":
        method, path = "PUT", f"/projects/{KEY}/workflow"
        body = put_definition_text(workflow, '"weight": ' + literal)
    else:
        method, path = "POST", "/projects"
        body = '{"name": "X", "description": ' + literal + "}"
    response = send(api, method, path, body)
    problem = assert_problem(response, 422)
    assert literal in problem["detail"]
    assert written(db_session) == before
    assert_still_serving(api)


@pytest.mark.parametrize(
    ("method", "path", "body", "key"),
    [
        ("POST", "/projects", '{"name": "Alpha", "name": "Beta"}', "name"),
        (
            "POST",
            "/projects/from-intake",
            '{"intake_document": {"project_name": "A", "project_name": "B"}}',
            "project_name",
        ),
        ("PUT", f"/projects/{KEY}/workflow", None, "step_id"),
    ],
    ids=["top-level", "nested", "definition"],
)
def test_duplicate_keys_are_422_naming_the_key_and_write_nothing(
    api, workflow, db_session, method, path, body, key
):
    # Chosen behaviour: refused (RFC 7493 I-JSON), never "the last one wins" silently, since
    # another reader of the same text (a proxy, an audit log) may take the first one.
    if body is None:
        body = put_definition_text(workflow, '"steps": [{"step_id": "a", "step_id": "b"}]')
    before = written(db_session)
    response = send(api, method, path, body)
    problem = assert_problem(response, 422)
    assert repr(key) in problem["detail"]
    assert written(db_session) == before


# --- credentials --------------------------------------------------------------------------


def api_routes(app) -> list[tuple[str, str, str]]:
    """Every (method, rule, endpoint) under /api/v1, read from the URL map."""
    routes = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(PREFIX + "/"):
            routes.extend(
                (method, rule.rule, rule.endpoint)
                for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
            )
    assert len(routes) >= 17
    return sorted(routes)


def concrete(rule: str, project_ref: str) -> str:
    path = rule.replace("<project_ref:project_id>", project_ref)
    path = path.replace("<path:key>", "step_modified:product_discovery:task_prompt")
    path = path.replace("<int:number>", "1")  # a revision
    path = path.replace("<username>", "alice")  # a member
    assert "<" not in path, f"a new path parameter in {rule}: teach this test about it"
    return path


def test_every_api_endpoint_without_credentials_is_401_problem_json(app, workflow, db_session):
    anonymous = app.test_client()
    before = written(db_session)
    for method, rule, _endpoint in api_routes(app):
        response = anonymous.open(concrete(rule, KEY), method=method, json={"name": "x"})
        assert_problem(response, 401)
        assert response.headers["WWW-Authenticate"].startswith("Bearer "), (method, rule)
        assert "Location" not in response.headers
    assert written(db_session) == before


@pytest.mark.parametrize(
    "authorization",
    ["Bearer cmb_not-a-real-token", "Bearer", "Basic YWxpY2U6cGFzc3dvcmQ=", "cmb_bare"],
    ids=["unknown-token", "empty", "basic", "no-scheme"],
)
def test_every_api_endpoint_with_bad_credentials_is_401(app, workflow, db_session, authorization):
    anonymous = app.test_client()
    before = written(db_session)
    for number, (method, rule, _endpoint) in enumerate(api_routes(app)):
        # Each from an address of its own: ten bad tokens from one address are 429 (that
        # throttle is tested in test_sign_in_hardening).
        response = anonymous.open(
            concrete(rule, KEY),
            method=method,
            json={"name": "x"},
            headers={"Authorization": authorization},
            environ_base={"REMOTE_ADDR": f"10.66.{number // 256}.{number % 256}"},
        )
        assert_problem(response, 401)
        assert response.headers["WWW-Authenticate"].startswith("Bearer ")
    assert written(db_session) == before


def valid_body(method: str, rule: str, workflow: dict) -> dict | None:
    """A body the route would accept from the owner, so only ownership can refuse it."""
    if method == "PATCH":
        return {"name": "Renamed"}
    if method == "PUT" and rule.endswith("/members/<username>"):
        return {"role": "viewer"}
    if method == "PUT":
        return {"effective_workflow": workflow["effective_workflow"]}
    if method == "POST" and rule.endswith("/workflow"):
        return {"workflow_id": SPD, "version": "1.0.0"}
    if method == "POST" and rule.endswith("/deviations"):
        return {"key": "step_modified:product_discovery:task_prompt", "reason": "Intended."}
    if method == "POST" and rule.endswith("/restore"):
        return {"revision": 1, "reason": "Back."}
    if method == "POST" and rule.endswith("/approve"):
        return {"note": "Fine."}
    if method == "POST" and rule.endswith("/reject"):
        return {"reason": "Not intended."}
    return None


def valid_query(rule: str) -> str:
    """Query arguments the route would accept from the owner (those it requires)."""
    return "?from=1&to=current" if rule.endswith("/compare") else ""


def test_another_users_token_gets_404_on_every_project_route(
    app, api_for, make_user, workflow, db_session
):
    mallory = api_for(make_user("mallory"))
    before = written(db_session)
    project_routes = [route for route in api_routes(app) if ":project_id>" in route[1]]
    assert len(project_routes) >= 12
    for ref in (KEY, workflow["project_id"]):
        for method, rule, _ in project_routes:
            body = valid_body(method, rule, workflow)
            path = concrete(rule, ref).removeprefix(PREFIX) + valid_query(rule)
            response = mallory._call(method, path, json=body)
            assert_problem(response, 404)
            assert "Software Product" not in response.get_data(as_text=True)
    assert written(db_session) == before


def test_a_session_unsafe_api_call_without_csrf_header_is_403_and_writes_nothing(
    app, client, login, alice, workflow, db_session
):
    token = login(alice)
    before = written(db_session)
    unsafe = [route for route in api_routes(app) if route[0] not in {"GET", "HEAD", "OPTIONS"}]
    for method, rule, _ in unsafe:
        response = client.open(concrete(rule, KEY), method=method, json={"name": "x"})
        assert_problem(response, 403)
    assert written(db_session) == before
    # The same session with the header goes through.
    response = client.post(
        f"{PREFIX}/projects", json={"name": "Legit"}, headers={"X-CSRFToken": token}
    )
    assert response.status_code == 201


def test_api_token_never_logged_nor_returned(app, client, alice, workflow, db_session, caplog):
    caplog.set_level(logging.DEBUG)
    result = app.test_cli_runner().invoke(args=["tokens", "create", "alice", "--name", "ci"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert re.fullmatch(r"cmb_[\w-]{20,}", token)
    api = ApiClient(client, token)
    responses = [api.get(f"/projects/{KEY}/workflow")]
    for method, rule, _ in api_routes(app):
        path = concrete(rule, KEY).removeprefix(PREFIX)
        if method == "GET":
            responses.append(api.get(path))
    responses += [
        api.get("/projects/NOPE-001"),
        api.get("/projects?limit=0"),
        api.post("/projects", data=b"{", content_type="application/json"),
        api.post("/projects", json={"name": "Token Check"}),
        api.put(f"/projects/{KEY}/workflow", json={"effective_workflow": {}}),
        ApiClient(client, token + "x").get("/projects"),
        ApiClient(client, token[:-1]).get("/projects"),
    ]
    assert responses[0].status_code == 200
    for response in responses:
        text = response.get_data(as_text=True) + str(response.headers)
        assert token not in text, response.request.path
        assert token[4:] not in text
    # A canary from the app's own logger proves the capture sees what the app logs.
    logging.getLogger("combine_app.api").warning("canary after %d requests", len(responses))
    assert "canary" in caplog.text
    for record in caplog.records:
        message = record.getMessage() + (record.exc_text or "") + repr(record.args)
        assert token[4:] not in message, record.name
    assert token[4:] not in caplog.text
