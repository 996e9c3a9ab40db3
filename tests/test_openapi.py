"""The OpenAPI description: it covers every route, and the app keeps to it under fuzzing.

Schemathesis generates requests from the served document and runs them in-process against the
app on both database legs. Each generated request runs inside a savepoint that is rolled back,
so every example starts from the same seeded projects and a failure replays exactly.
"""

from __future__ import annotations

import contextlib
import re

import jsonschema_rs
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.specs.openapi.definitions import OPENAPI_31_VALIDATOR

from combine_app.api.openapi import openapi_document
from combine_app.auth import service as auth_service
from combine_app.catalog.commands import get_loader
from combine_app.extensions import db
from combine_app.projects import service as project_service
from combine_app.workflows.service import WorkflowInstanceService

SPD = "software_product_development"
PREFIX = "/api/v1"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# Bounded and derandomized so CI is stable; no deadline (the PostgreSQL leg varies in speed).
# too_slow/filter_too_much: a POW body is a large recursive schema, costly to draw.
FUZZ = settings(
    max_examples=12,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)


def _operations() -> list[tuple[str, str]]:
    document = openapi_document()
    return [
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method != "parameters"
    ]


def _api_routes(app) -> set[tuple[str, str]]:
    routes = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(PREFIX + "/"):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule.removeprefix(PREFIX))
        routes.update((method, path) for method in rule.methods - {"HEAD", "OPTIONS"})
    return routes


def test_every_api_route_is_described_and_nothing_else(app):
    assert _api_routes(app) == set(_operations())


def test_document_is_valid_openapi_3_1_with_valid_json_schemas():
    document = openapi_document()
    assert document["openapi"].startswith("3.1")
    errors = [error.message for error in OPENAPI_31_VALIDATOR.iter_errors(document)]
    assert errors == []
    for name, schema in document["components"]["schemas"].items():
        dialect = {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}
        assert jsonschema_rs.meta.is_valid(dialect), name


def test_every_error_response_is_problem_json_and_every_route_declares_its_statuses():
    document = openapi_document()
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            responses = operation["responses"]
            for status, response in responses.items():
                if int(status) >= 400:
                    assert list(response["content"]) == ["application/problem+json"]
            assert {"401", "503"} <= set(responses), (method, path)
            if "{project_id}" in path:
                assert "404" in responses, (method, path)
            if "requestBody" in operation:
                assert {"400", "413", "415", "422"} <= set(responses), (method, path)
            if method in {"post", "put", "patch", "delete"}:
                assert {"403", "409"} <= set(responses), (method, path)


def test_document_needs_credentials_like_every_endpoint(client, api):
    assert client.get(PREFIX + "/openapi.json").status_code == 401
    response = api.get("/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.get_json() == openapi_document()


# --- fuzzing ------------------------------------------------------------------------------


@pytest.fixture
def seeded(db_session, make_user):
    """Alice's projects in every state that matters, one of Bob's, and Alice's token.

    Keys are fixed (each test starts from an empty database), so generated requests can name
    them: a project with an active workflow, one without a workflow, an archived one, one
    whose workflow is completed, and Bob's (404 for Alice).
    """
    alice, bob = make_user("alice"), make_user("bob")
    loader_service = WorkflowInstanceService(db_session, get_loader())
    spd = project_service.create_project(alice, "Software Product Development")
    loader_service.create_instance(spd, SPD, "1.0.0", "alice")
    project_service.create_project(alice, "Empty")
    archived = project_service.create_project(alice, "Archived Work")
    loader_service.create_instance(archived, SPD, "1.0.0", "alice")
    project_service.archive_project(archived, alice)
    done = project_service.create_project(alice, "Done Deal")
    loader_service.create_instance(done, SPD, "1.1.0", "alice")
    loader_service.complete_instance(done, "alice")
    project_service.create_project(bob, "Bob Secret")
    token = auth_service.create_token(alice, "fuzz")
    db_session.commit()
    return token


PROJECT_REFS = ["SPD-001", "EMP-001", "AW-001", "DD-001", "BS-001"]


@contextlib.contextmanager
def _rolled_back(db_session):
    """Run one generated request in a savepoint of the test's connection, then undo it."""
    connection = db_session.get_bind()
    db.session.remove()
    savepoint = connection.begin_nested()
    try:
        yield
    finally:
        db.session.remove()
        savepoint.rollback()


def _aim_at_real_workflows(case, aim: bool):
    """Half the bodies that name a workflow name a real one, so requests reach the 2xx paths."""
    body = case.body
    if not aim or not isinstance(body, dict):
        return case
    if isinstance(body.get("effective_workflow"), dict):
        body["effective_workflow"]["workflow_id"] = SPD
    elif case.operation.path.endswith("/workflow"):
        body.update(workflow_id=SPD, version="1.0.0")
    elif case.operation.path == "/projects/from-intake":
        body.update(workflow_id=SPD, workflow_version=None)
    return case


def _strategy(operation, mode):
    """Cases for one operation; a project_id is mostly one of the seeded projects.

    Invalid data never goes into the path: an empty segment would be routed elsewhere (or
    redirected) before the API sees it, which says nothing about the API.
    """
    if "{project_id}" in operation.path:
        refs = (
            PROJECT_REFS if mode == schemathesis.GenerationMode.NEGATIVE else [*PROJECT_REFS, None]
        )
        strategy = st.sampled_from(refs).flatmap(
            lambda ref: operation.as_strategy(
                generation_mode=mode, path_parameters={"project_id": ref} if ref else None
            )
        )
    else:
        strategy = operation.as_strategy(generation_mode=mode)
    if operation.method.upper() in {"POST", "PUT"}:
        strategy = st.tuples(strategy, st.booleans()).map(
            lambda pair: _aim_at_real_workflows(*pair)
        )
    return strategy


def _fuzz_cases() -> list:
    """Every operation with valid data; those that take a body or arguments with invalid too."""
    document = openapi_document()
    cases = []
    for method, path in _operations():
        operation = document["paths"][path][method.lower()]
        modes = [schemathesis.GenerationMode.POSITIVE]
        if "requestBody" in operation or operation.get("parameters"):
            modes.append(schemathesis.GenerationMode.NEGATIVE)
        cases.extend(
            pytest.param(method, path, mode, id=f"{method} {path} {mode.value}") for mode in modes
        )
    return cases


@pytest.mark.parametrize(("method", "path", "mode"), _fuzz_cases())
def test_app_keeps_to_its_description(app, db_session, seeded, method, path, mode):
    schema = schemathesis.openapi.from_dict(openapi_document())
    schema.app = app
    operation = schema[path][method]
    headers = {"Authorization": f"Bearer {seeded}"}
    seen: set[int] = set()

    @FUZZ
    @given(case=_strategy(operation, mode))
    def request_conforms(case):
        with _rolled_back(db_session):
            response = case.call(headers=headers)
            seen.add(response.status_code)
            case.validate_response(response, checks=CHECKS, headers=headers)

    request_conforms()
    assert seen, "no request was made"
