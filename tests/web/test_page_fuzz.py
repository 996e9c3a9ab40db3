"""Fuzzing every HTML page and form: random and hostile values in every field and control.

Derandomized and bounded (the same examples every run). Each example works on a project of
its own with a workflow assigned, signed in as its owner with a valid CSRF token (mostly), and
checks: no 5xx, and when the request was refused (4xx, or an error message flashed) nothing in
the database changed. The failed-sign-in counter is the one table a refusal may write (it is
how refusals are counted) and is left out of the comparison, as are the kept drifts (a cache
that any page showing a drift may fill: workflows/drift_store.py).
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from combine_app.catalog.app_loader import get_loader
from combine_app.extensions import db
from combine_app.projects import service as project_service
from combine_app.workflows.service import WorkflowInstanceService
from tests.conftest import PASSWORD, csrf_token_from
from tests.web.test_workflow_pages import form_fields

SPD = "software_product_development"
EXAMPLES = 20
FUZZ = settings(
    derandomize=True,
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# The cases and their relatives, as they arrive in a form field.
HOSTILE = [
    "a\x00b",
    "9" * 4301,
    '"\\ud800"',
    str(2**70),
    "1e300",
    "[" * 150 + "]" * 150,
    "1e16",
    "\x00",
    '{"x": "\\udfff"}',
    "1e400",
    "NaN",
    "-0.0",
    "",
    " ",
    '{"a": 1, "a": 2}',
    "{",
    "null",
    "[]",
    '{"steps": 5}',
    '{"workflow_id": "x", "steps": [{"step_id": "a", "steps": "no"}]}',
    "<script>alert(1)</script>",
    "../../../etc/passwd",
    "\r\nSet-Cookie: x=1",
    "\u202e\u0301😀",
    "x" * 20_000,
    "-1",
    "0",
    "99999999999999999999",
    SPD,
    f"{SPD}@1.1.0",
    f"{SPD}@9.9.9",
    "1.1.0",
    "yes",
    "archive",
    "unarchive",
    "apply",
    "apply_json",
    "save",
    "add",
    "up:0",
    "down:0",
    "remove:0",
    "remove:99.99",
    "dropfield:0:step_id",
    "dropfield:0:name",
    "up:-1",
    "up:a.b",
    "end:",
    "end:0",
    "before:0",
    "before:999",
]
VALUES = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=30))
QUERY_NAMES = [
    "page",
    "search",
    "include_archived",
    "history_page",
    "partial",
    "next",
    "from",
    "to",
    "x",
]

# The fields each page's forms really have; other routes get only random fields.
FORM_FIELDS = {
    "web.projects": ["name", "description", "workflow"],
    "web.project": ["name", "description"],
    "web.archive": ["action"],
    "web.delete": ["confirm"],
    "web.workflow_assign": ["workflow_id", f"version:{SPD}", "version:lean_product_development"],
    "web.workflow_complete": ["confirm"],
    "auth.login": ["username", "password"],
}
EDITOR = "web.workflow_edit"
# Static files (binary, no input to fuzz) and routes that would end the session under test.
NOT_FUZZED = {"web.static", "web.favicon", "auth.logout", "auth.logout_everywhere"}


def page_endpoints(app) -> list[str]:
    """Every endpoint of the pages (not the API, not the health checks)."""
    return sorted(
        {rule.endpoint for rule in app.url_map.iter_rules()}
        - NOT_FUZZED
        - {e for e in app.view_functions if e.startswith(("api.", "health."))}
    )


NOT_COMPARED = {"sign_in_failures", "workflow_drifts"}


def state(session) -> dict:
    """Every row of every table but the failed-sign-in counter and the kept drifts."""
    session.expire_all()
    return {
        table.name: sorted(map(repr, session.execute(select(table)).all()))
        for table in db.metadata.sorted_tables
        if table.name not in NOT_COMPARED
    }


def error_flashed(client) -> bool:
    """Whether the response flashed an error (a refused form that redirects); clears flashes."""
    with client.session_transaction() as session:
        flashes = session.pop("_flashes", [])
    return any(category == "error" for category, _ in flashes)


@pytest.fixture
def fuzz_world(app, client, alice, make_user, make_project, db_session):
    """alice signed in; a factory of fresh projects of hers with a workflow assigned."""
    other = make_project(make_user("mallory"), "Not yours")
    token = csrf_token_from(
        client.post(
            "/login",
            data={
                "username": "alice",
                "password": PASSWORD,
                "csrf_token": csrf_token_from(client.get("/login").get_data(as_text=True)),
            },
            follow_redirects=True,
        ).get_data(as_text=True)
    )

    def fresh_project() -> str:
        project = project_service.create_project(alice, "Fuzzed", "")
        WorkflowInstanceService(db_session, get_loader()).create_instance(
            project, SPD, "1.1.0", "alice"
        )
        db_session.commit()
        return project.project_id

    return {"token": token, "other": other.project_id, "fresh_project": fresh_project}


def url_for_rule(app, endpoint: str, key: str, other: str, data) -> tuple[str, list[str]]:
    """A URL of the endpoint's rule, its path arguments drawn; and the rule's methods."""
    rule = next(rule for rule in app.url_map.iter_rules() if rule.endpoint == endpoint)
    url = rule.rule
    for name, converter in rule._converters.items():
        if name == "project_id":
            # Mostly the example's own project; now and then someone else's or none at all.
            value = {7: other, 8: "NOPE-999", 9: "%C3%A9"}.get(data.draw(st.integers(0, 12)), key)
        elif type(converter).__name__ == "IntegerConverter":
            value = str(data.draw(st.integers(min_value=0, max_value=10**12)))
        else:
            value = data.draw(st.text(alphabet="abcxyz0189_-.", min_size=1, max_size=12))
        url = re.sub(rf"<(?:[^:>]+:)?{name}>", value, url)
    return url, sorted(rule.methods - {"HEAD", "OPTIONS"})


def send(client, db_session, method: str, url: str, query: dict, form: dict | None):
    """One request; asserts no 5xx and, when refused, that nothing was written."""
    before = state(db_session)
    response = client.open(url, method=method, query_string=query, data=form)
    body = response.get_data().decode("utf-8", "replace")  # the favicon is not text
    response.close()
    where = (method, url, query, {k: v[:80] for k, v in (form or {}).items()})
    assert response.status_code < 500, (where, response.status_code, body[:500])
    refused = response.status_code >= 400 or error_flashed(client)
    if refused:
        assert state(db_session) == before, where
    return response, body


def mutate(data, fields: dict[str, str], names: list[str]) -> dict[str, str]:
    """Replace some fields with drawn values, drop some, add a random one."""
    form = dict(fields)
    for name in (
        data.draw(st.lists(st.sampled_from(names), min_size=1, max_size=4, unique=True))
        if names
        else []
    ):
        form[name] = data.draw(VALUES)
    for name in data.draw(st.lists(st.sampled_from(sorted(form) or ["x"]), max_size=2)):
        form.pop(name, None)
    if data.draw(st.booleans()):
        form[data.draw(st.text(max_size=12))] = data.draw(VALUES)
    return form


def editor_form(data, fields: dict[str, str]) -> dict[str, str]:
    """The editor's real form with one kind of control given hostile values.

    A text or JSON step field; a step's new-field row (as text or as JSON); the add-step form;
    the whole definition as JSON (hostile text, or the definition with a hostile value
    injected); or, seldom, the hidden working copy and revision.
    """
    form = dict(fields)
    steps = sorted({name.split(":")[1] for name in fields if name.startswith("nf-name:")})
    kind = data.draw(st.sampled_from(["field", "new_field", "add", "json", "hidden"]))
    step_fields = sorted(name for name in fields if name.startswith(("f:", "j:")))
    if kind == "field" and step_fields:
        for name in data.draw(st.lists(st.sampled_from(step_fields), min_size=1, max_size=3)):
            form[name] = data.draw(VALUES)
    elif kind == "new_field" and steps:
        step = data.draw(st.sampled_from(steps))
        form[f"nf-name:{step}"] = data.draw(st.one_of(st.just("extra"), VALUES))
        form[f"nf-value:{step}"] = data.draw(VALUES)
        if data.draw(st.booleans()):
            form[f"nf-json:{step}"] = "1"
    elif kind == "add":
        form["new-step_id"] = data.draw(st.one_of(st.just("fuzz_step"), VALUES))
        form[data.draw(st.sampled_from([f"new-{n}" for n in ADD_FIELDS]))] = data.draw(VALUES)
        form["new-place"] = data.draw(st.one_of(st.sampled_from(["end:", "before:0"]), VALUES))
    elif kind == "json":
        current = fields.get("definition_json", "{}")
        injected = current.replace('"name": ', f'"fuzz": {data.draw(VALUES)}, "name": ', 1)
        form["definition_json"] = data.draw(st.one_of(st.just(injected), VALUES))
    else:
        form[data.draw(st.sampled_from(["working_copy", "revision"]))] = data.draw(VALUES)
    return mutate(data, form, []) if data.draw(st.integers(0, 12)) == 7 else form


ADD_FIELDS = ["step_id", "name", "role", "produces", "task_prompt"]


def fuzz_one(app, client, db_session, world, endpoint: str, data) -> None:
    key = world["fresh_project"]()
    url, methods = url_for_rule(app, endpoint, key, world["other"], data)
    method = data.draw(st.sampled_from(methods[::-1]))  # POST first: forms are the point
    query = {
        data.draw(st.sampled_from(QUERY_NAMES)): data.draw(VALUES)
        for _ in range(data.draw(st.integers(0, 2)))
    }
    if method == "GET":
        send(client, db_session, method, url, query, None)
        return
    token = data.draw(VALUES) if data.draw(st.integers(0, 12)) == 7 else world["token"]
    if endpoint == EDITOR:
        response = client.get(url)
        page = response.get_data(as_text=True)
        fields = form_fields(page) if response.status_code == 200 else {}
        controls = re.findall(r'name="op" value="([^"]+)"', page)
        # Save and the whole-definition controls first, then every control the page offers.
        op = data.draw(st.sampled_from(["save", "apply_json", "add", *controls]))
        form = editor_form(data, fields)
        form["op"] = data.draw(VALUES) if data.draw(st.integers(0, 12)) == 7 else op
    else:
        names = FORM_FIELDS.get(endpoint, [])
        form = mutate(data, {name: data.draw(VALUES) for name in names}, names)
    send(client, db_session, method, url, query, {**form, "csrf_token": token})


# Pages whose query picks what they show get a case of their own too.
QUERIED = {"web.workflow_compare", "web.workflow_side_by_side"}
EXPLICIT = sorted(
    {*FORM_FIELDS, *QUERIED, EDITOR, "web.index", "web.workflow_drift"} - {"auth.login"}
)


def test_every_page_endpoint_is_fuzzed(app):
    assert set(EXPLICIT) <= set(page_endpoints(app))


@pytest.mark.parametrize("endpoint", [*EXPLICIT, "other pages"])
def test_no_page_or_form_answers_5xx_and_refusals_write_nothing(
    endpoint, app, client, db_session, fuzz_world
):
    others = sorted(set(page_endpoints(app)) - set(EXPLICIT) - {"auth.login"})
    if endpoint == "other pages" and not others:
        pytest.skip("every page endpoint has its own case")

    # The editor has the most controls: it gets more examples.
    @settings(FUZZ, max_examples=EXAMPLES * 5 if endpoint == EDITOR else EXAMPLES)
    @given(data=st.data())
    def run(data):
        chosen = endpoint if endpoint != "other pages" else data.draw(st.sampled_from(others))
        fuzz_one(app, client, db_session, fuzz_world, chosen, data)

    run()


@FUZZ
@given(username=VALUES, password=VALUES, address=st.integers(0, 10**6))
def sign_in_case(client, db_session, username, password, address):
    """One hostile sign-in, from an address of its own."""
    client.environ_base["REMOTE_ADDR"] = (
        f"10.{address // 65536}.{address // 256 % 256}.{address % 256}"
    )
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    response, _ = send(
        client,
        db_session,
        "POST",
        "/login",
        {},
        {"username": username, "password": password, "csrf_token": token},
    )
    assert response.status_code in (401, 429, 400), response.status_code


def test_hostile_sign_ins_are_refused_without_5xx(client, alice, db_session):
    sign_in_case(client, db_session)
