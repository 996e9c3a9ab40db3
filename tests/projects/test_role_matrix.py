"""Every route of the url map, every method, against every role, a non-member and an
administrator: one table of what each of them gets (INTERFACE.md section 4).

A route added without a row here fails ``test_every_route_and_method_has_a_row``. Each row
builds its world once; each caller's request runs inside a savepoint rolled back afterwards, so
every caller meets the same world (an owner's delete does not hide the project from the next).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from combine_app.extensions import db
from combine_app.workflows.models import WorkflowInstance
from tests.web.test_deviation_request_pages import Browser
from tests.workflows.deviation_support import (
    PROMPT_KEY,
    assign,
    deviations_url,
    edit,
    request,
)

CALLERS = ("viewer", "editor", "approver", "owner", "stranger", "admin")
OK, FORBIDDEN, MISSING = "ok", 403, 404


def expect(ok: tuple[str, ...], forbidden: tuple[str, ...] = ()) -> dict[str, object]:
    """What each caller gets: ``ok`` (2xx, or a page's 3xx), 403, or else 404 (not a member)."""
    return {
        caller: OK if caller in ok else FORBIDDEN if caller in forbidden else MISSING
        for caller in CALLERS
    }


ANYONE = expect(CALLERS)
MEMBERS = expect(("viewer", "editor", "approver", "owner", "admin"))
EDITORS = expect(("editor", "owner", "admin"), ("viewer", "approver"))
REQUESTERS = expect(("editor", "approver", "owner", "admin"), ("viewer",))
DECIDERS = expect(("approver", "owner", "admin"), ("viewer", "editor"))
# A request may be withdrawn by its requester (the editor here), an approver or an owner.
WITHDRAWERS = expect(("editor", "approver", "owner", "admin"), ("viewer",))
OWNERS = expect(("owner", "admin"), ("viewer", "editor", "approver"))


@dataclass
class World:
    """One project: alice owns it; each role has a member; sam is no member; root is admin.

    SPD 1.1.0 is assigned, ed edited a step's prompt and asked for its acceptance, so there is a
    revision 2 to read and restore, and a request to decide or withdraw; mem is one more viewer,
    the member an owner removes."""

    app: object
    users: dict
    api: dict
    key: str
    revision: int = 0
    tokens: dict = field(default_factory=dict)


@pytest.fixture
def world(app, api_for, make_user, make_project, alice, db_session) -> World:
    names = {"editor": "ed", "approver": "apu", "viewer": "vi", "stranger": "sam"}
    users = {"owner": alice, "admin": make_user("root", admin=True)}
    users.update({caller: make_user(name) for caller, name in names.items()})
    users["mem"] = make_user("mem")
    api = {caller: api_for(user) for caller, user in users.items()}
    # Only the names outlive the savepoints: each caller signs in by name.
    users = {caller: SimpleNamespace(username=user.username) for caller, user in users.items()}
    project = make_project(alice)
    key = project.project_id
    for caller in ("editor", "approver", "viewer"):
        api["owner"].put(f"/projects/{key}/members/{users[caller].username}", json={"role": caller})
    api["owner"].put(f"/projects/{key}/members/mem", json={"role": "viewer"})
    return World(app, users, api, key)


def with_workflow(world: World) -> None:
    assign(world.api["owner"], world.key)
    edit(world.api["editor"], world.key, "Ed's discovery prompt.")
    assert request(world.api["editor"], world.key).status_code == 201
    world.revision = (
        world.api["owner"].get(f"/projects/{world.key}/workflow").get_json()["revision"]
    )


def archived(world: World) -> None:
    assert world.api["owner"].post(f"/projects/{world.key}/archive").status_code == 200


@dataclass(frozen=True)
class Row:
    """One route and method: how to call it, and what each caller gets."""

    endpoint: str
    method: str
    call: Callable[[World, str], tuple[str, dict]]
    expected: dict
    page: bool = False  # a page: the caller signs in and posts the form with its CSRF token
    setup: tuple[Callable[[World], None], ...] = (with_workflow,)


def at(path: str, **kwargs) -> Callable[[World, str], tuple[str, dict]]:
    """A call to ``path`` (``{key}`` and ``{revision}`` filled in) with ``kwargs``."""

    def call(world: World, caller: str) -> tuple[str, dict]:
        return path, kwargs

    return call


def put_workflow(world: World, caller: str) -> tuple[str, dict]:
    current = world.api["owner"].get(f"/projects/{world.key}/workflow").get_json()
    definition = current["effective_workflow"]
    definition["description"] = f"Edited by {caller}."
    return f"/api/v1/projects/{world.key}/workflow", {"json": {"effective_workflow": definition}}


def editor_post(world: World, caller: str) -> tuple[str, dict]:
    current = world.api["owner"].get(f"/projects/{world.key}/workflow").get_json()
    form = {
        "op": "apply",
        "revision": str(current["revision"]),
        "working_copy": json.dumps(current["effective_workflow"]),
    }
    return f"/projects/{world.key}/workflow/edit", {"data": form}


API = "/api/v1/projects/{key}"
PAGE = "/projects/{key}"
DEVIATION = "/api/v1" + deviations_url("{key}", PROMPT_KEY)
SPD_FORM = {
    "workflow_id": "software_product_development",
    "version:software_product_development": "1.1.0",
}
NO_WORKFLOW = ()

ROWS = [
    # Not about one project: the same for every signed-in caller.
    Row("web.index", "GET", at("/"), ANYONE, page=True, setup=NO_WORKFLOW),
    Row("web.favicon", "GET", at("/favicon.ico"), ANYONE, setup=NO_WORKFLOW),
    Row("web.help_page", "GET", at("/help"), ANYONE, page=True, setup=NO_WORKFLOW),
    Row("auth.login", "GET", at("/login"), ANYONE, page=True, setup=NO_WORKFLOW),
    Row(
        "auth.login",
        "POST",
        at("/login", data={"username": "x", "password": "y"}),
        ANYONE,
        page=True,
        setup=NO_WORKFLOW,
    ),
    Row("auth.logout", "POST", at("/logout"), ANYONE, page=True, setup=NO_WORKFLOW),
    Row(
        "auth.logout_everywhere",
        "POST",
        at("/logout/everywhere"),
        ANYONE,
        page=True,
        setup=NO_WORKFLOW,
    ),
    Row("health.healthz", "GET", at("/healthz"), ANYONE, setup=NO_WORKFLOW),
    Row("health.readyz", "GET", at("/readyz"), ANYONE, setup=NO_WORKFLOW),
    Row("web.static", "GET", at("/static/style.css"), ANYONE, page=True, setup=NO_WORKFLOW),
    Row("api_reference.page", "GET", at("/api-reference/"), ANYONE, page=True, setup=NO_WORKFLOW),
    Row("api.openapi", "GET", at("/api/v1/openapi.json"), ANYONE, setup=NO_WORKFLOW),
    Row(
        "api.orchestration_workflows",
        "GET",
        at("/api/v1/admin/workbench/orchestration-workflows"),
        ANYONE,
        setup=NO_WORKFLOW,
    ),
    Row("api.list_projects", "GET", at("/api/v1/projects"), ANYONE, setup=NO_WORKFLOW),
    Row(
        "api.create_project",
        "POST",
        at("/api/v1/projects", json={"name": "Mine"}),
        ANYONE,
        setup=NO_WORKFLOW,
    ),
    Row(
        "api.create_project_from_intake",
        "POST",
        at("/api/v1/projects/from-intake", json={"intake_document": {"project_name": "Mine"}}),
        ANYONE,
        setup=NO_WORKFLOW,
    ),
    Row("web.projects", "GET", at("/projects"), ANYONE, page=True, setup=NO_WORKFLOW),
    Row(
        "web.projects",
        "POST",
        at("/projects", data={"name": "Mine"}),
        ANYONE,
        page=True,
        setup=NO_WORKFLOW,
    ),
    Row("web.waiting_decisions", "GET", at("/decisions"), ANYONE, page=True, setup=NO_WORKFLOW),
    # The project and its members.
    Row("api.get_project", "GET", at(API), MEMBERS),
    Row("api.project_tree", "GET", at(API + "/tree"), MEMBERS),
    Row("api.patch_project", "PATCH", at(API, json={"name": "Renamed"}), EDITORS),
    Row("api.delete_project", "DELETE", at(API), OWNERS),
    Row("api.archive_project", "POST", at(API + "/archive"), OWNERS),
    Row("api.unarchive_project", "POST", at(API + "/unarchive"), OWNERS, setup=(archived,)),
    Row("api.list_members", "GET", at(API + "/members"), MEMBERS),
    Row("api.put_member", "PUT", at(API + "/members/sam", json={"role": "viewer"}), OWNERS),
    Row("api.delete_member", "DELETE", at(API + "/members/mem"), OWNERS),
    Row("web.project", "GET", at(PAGE), MEMBERS, page=True),
    Row("web.project", "POST", at(PAGE, data={"name": "Renamed"}), EDITORS, page=True),
    Row(
        "web.archive", "POST", at(PAGE + "/archive", data={"action": "archive"}), OWNERS, page=True
    ),
    Row("web.delete", "POST", at(PAGE + "/delete", data={"confirm": "{key}"}), OWNERS, page=True),
    Row(
        "web.member_put",
        "POST",
        at(PAGE + "/members", data={"adding": "1", "username": "sam", "role": "viewer"}),
        OWNERS,
        page=True,
    ),
    Row("web.member_remove", "POST", at(PAGE + "/members/mem/remove"), OWNERS, page=True),
    Row(
        "web.policy_patch",
        "POST",
        at(PAGE + "/policy", data={"four_eyes": "yes"}),
        OWNERS,
        page=True,
    ),
    # The workflow.
    Row(
        "api.create_workflow",
        "POST",
        at(
            API + "/workflow",
            json={"workflow_id": "software_product_development", "version": "1.1.0"},
        ),
        EDITORS,
        setup=NO_WORKFLOW,
    ),
    Row("api.get_workflow", "GET", at(API + "/workflow"), MEMBERS),
    Row("api.put_workflow", "PUT", put_workflow, EDITORS),
    Row("api.get_drift", "GET", at(API + "/workflow/drift"), MEMBERS),
    Row("api.get_history", "GET", at(API + "/workflow/history"), MEMBERS),
    Row("api.export_history", "GET", at(API + "/workflow/history/export"), MEMBERS),
    Row("api.get_problems", "GET", at(API + "/workflow/problems"), MEMBERS),
    Row("api.get_revision", "GET", at(API + "/workflow/revisions/1"), MEMBERS),
    Row("api.compare_workflow", "GET", at(API + "/workflow/compare?from=1&to=current"), MEMBERS),
    Row(
        "api.restore_workflow", "POST", at(API + "/workflow/restore", json={"revision": 1}), EDITORS
    ),
    Row("api.complete_workflow", "POST", at(API + "/workflow/complete"), OWNERS),
    Row("api.archive_workflow", "POST", at(API + "/workflow/archive"), OWNERS),
    Row(
        "web.workflow_assign",
        "POST",
        at(PAGE + "/workflow", data=SPD_FORM),
        EDITORS,
        page=True,
        setup=NO_WORKFLOW,
    ),
    Row("web.workflow_edit", "GET", at(PAGE + "/workflow/edit"), EDITORS, page=True),
    Row("web.workflow_edit", "POST", editor_post, EDITORS, page=True),
    Row("web.workflow_drift", "GET", at(PAGE + "/workflow/drift"), MEMBERS, page=True),
    Row(
        "web.workflow_compare",
        "GET",
        at(PAGE + "/workflow/compare?from=1&to=current"),
        MEMBERS,
        page=True,
    ),
    Row("web.workflow_revision", "GET", at(PAGE + "/workflow/revisions/1"), MEMBERS, page=True),
    Row(
        "web.workflow_side_by_side",
        "GET",
        at(PAGE + "/workflow/side-by-side?from=1&to=current"),
        MEMBERS,
        page=True,
    ),
    Row(
        "web.workflow_restore",
        "POST",
        at(PAGE + "/workflow/restore", data={"revision": "1", "current_revision": "{revision}"}),
        EDITORS,
        page=True,
    ),
    Row(
        "web.workflow_complete",
        "POST",
        at(PAGE + "/workflow/complete", data={"confirm": "yes"}),
        OWNERS,
        page=True,
    ),
    Row(
        "web.workflow_archive",
        "POST",
        at(PAGE + "/workflow/archive", data={"confirm": "yes"}),
        OWNERS,
        page=True,
    ),
    # Deviations: requests and decisions (ed's request of the prompt is waiting).
    Row("api.list_deviations", "GET", at(API + "/workflow/deviations"), MEMBERS),
    Row(
        "api.request_deviation",
        "POST",
        at(API + "/workflow/deviations", json={"key": PROMPT_KEY, "reason": "Ours."}),
        REQUESTERS,
    ),
    Row("api.approve_deviation", "POST", at(DEVIATION + "/approve", json={}), DECIDERS),
    Row(
        "api.reject_deviation", "POST", at(DEVIATION + "/reject", json={"reason": "No."}), DECIDERS
    ),
    Row("api.withdraw_deviation", "DELETE", at(DEVIATION), WITHDRAWERS),
    Row(
        "web.workflow_accept_deviation",
        "POST",
        at(PAGE + "/workflow/deviations", data={"key": PROMPT_KEY, "reason": "Ours."}),
        REQUESTERS,
        page=True,
    ),
    Row(
        "web.workflow_approve_deviation",
        "POST",
        at(PAGE + "/workflow/deviations/approve", data={"key": PROMPT_KEY}),
        DECIDERS,
        page=True,
    ),
    Row(
        "web.workflow_reject_deviation",
        "POST",
        at(PAGE + "/workflow/deviations/reject", data={"key": PROMPT_KEY, "reason": "No."}),
        DECIDERS,
        page=True,
    ),
    Row(
        "web.workflow_withdraw_deviation",
        "POST",
        at(PAGE + "/workflow/deviations/withdraw", data={"key": PROMPT_KEY}),
        WITHDRAWERS,
        page=True,
    ),
]


def test_every_route_and_method_has_a_row(app):
    routed = {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    rows = [(row.endpoint, row.method) for row in ROWS]
    assert len(rows) == len(set(rows)), "a route has two rows"
    assert routed - set(rows) == set(), "routes without a row in the role matrix"
    assert set(rows) - routed == set(), "rows for routes that do not exist"


def _filled(value, world: World):
    if isinstance(value, str):
        return value.replace("{key}", world.key).replace("{revision}", str(world.revision))
    if isinstance(value, dict):
        return {name: _filled(item, world) for name, item in value.items()}
    if isinstance(value, tuple):
        return tuple(_filled(item, world) for item in value)
    return value


def _send(world: World, row: Row, caller: str):
    path, kwargs = _filled(row.call(world, caller), world)
    if row.page:
        browser = Browser(world.app, world.users[caller])
        if row.method == "POST":
            kwargs["data"] = {"csrf_token": browser.token, **kwargs.get("data", {})}
        return browser.open(row.method, path, **kwargs)
    api = world.api[caller]
    url = path.removeprefix("/api/v1") if path.startswith("/api/v1/") else path
    if path.startswith("/api/v1/"):
        return api._call(row.method, url, **kwargs)
    return world.app.test_client().open(path, method=row.method, **kwargs)


def _outcome(status: int) -> object:
    if status in (403, 404):
        return status
    return OK if status < 400 else status


@pytest.mark.parametrize("row", ROWS, ids=lambda row: f"{row.method} {row.endpoint}")
def test_each_caller_gets_what_the_table_says(world, row, db_session):
    for step in row.setup:
        step(world)
    connection = db_session.get_bind()
    got = {}
    for caller in CALLERS:
        db_session.remove()
        savepoint = connection.begin_nested()
        try:
            response = _send(world, row, caller)
            response.close()  # a file served from static/ stays open until closed
            got[caller] = _outcome(response.status_code)
        finally:
            db_session.remove()
            savepoint.rollback()
    assert got == row.expected


def test_a_refusal_names_the_roles_needed_and_writes_nothing(world, db_session):
    with_workflow(world)
    before = db_session.scalar(select(WorkflowInstance.revision))
    refused = world.api["approver"].post(f"/projects/{world.key}/workflow/complete")
    assert refused.status_code == 403
    assert refused.get_json()["detail"] == "This needs the role owner."
    db.session.expire_all()
    assert db_session.scalar(select(WorkflowInstance.revision)) == before
