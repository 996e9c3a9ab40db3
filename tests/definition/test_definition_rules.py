"""One rule for what a definition may hold: the API, the editor and the intake agree.

Every hostile value of issue 11 is tried through the API's PUT and through each editor door
("edit as JSON", a JSON field, a text field, the add-step form): each is refused with the same
words, the page shows them next to the field, and nothing is written. What was accepted goes
round GET -> PUT with its ETag unchanged, whichever door saved it.
"""

from __future__ import annotations

import json

import pytest
from werkzeug.datastructures import MultiDict
from werkzeug.test import encode_multipart

from combine_app.portable_json import MAX_SAFE_INTEGER, read_json
from combine_app.workflows.definition_rules import definition_problems, max_definition_bytes
from tests.web.test_workflow_pages import (
    SPD,
    assign,
    editor_post,
    form_fields,
    get_page,
    history_count,
    instance_row,
    project_url,
    text,
)

HUGE_INT = "9" * 4301  # past Python's 4,300-digit int limit: ValueError, once a 500
DEEP_LIST = "[" * 150 + "]" * 150

# Values as JSON text, each refused by the API and by the editor with one message.
HOSTILE_JSON = {
    "huge_int": HUGE_INT,
    "beyond_2_53": str(2**70),
    "one_past_safe": str(MAX_SAFE_INTEGER + 1),
    "1e300": "1e300",
    "1e16_normalised_by_jsonb": "1e16",
    "overflow": "1e400",
    "nan": "NaN",
    "lone_surrogate": '"\\ud800"',
    "nul": '"a\\u0000b"',
    "deep_list": DEEP_LIST,
    "duplicate_key": '{"a": 1, "a": 2}',
}


@pytest.fixture
def signed_in(login, alice):
    """alice signed in through the form; her CSRF token."""
    return login(alice)


@pytest.fixture
def project(alice, make_project):
    """A project of alice's."""
    return make_project(alice, "Rules")


@pytest.fixture
def assigned(client, signed_in, project):
    """The project with software_product_development 1.1.0, assigned through the page."""
    assert assign(client, signed_in, project).status_code == 302
    return project


def editor_url(project) -> str:
    return f"{project_url(project)}/workflow/edit"


def api_message(api, project, value_text: str) -> tuple[int, str]:
    """PUT the current definition with one step field set to ``value_text``; status, messages."""
    current = api.get(f"{project_url(project)}/workflow").get_json()["effective_workflow"]
    body = json.dumps({"effective_workflow": current})
    marker = '"step_id": "' + current["steps"][0]["step_id"] + '"'
    assert marker in body
    body = body.replace(marker, marker + ', "weird": ' + value_text, 1)
    response = api.put(
        f"{project_url(project)}/workflow", data=body, content_type="application/json"
    )
    problem = response.get_json()
    messages = [m for ms in (problem.get("errors") or {}).values() for m in ms]
    return response.status_code, " ".join([problem["detail"], *messages])


def unchanged(db_session, project, revision: int, entries: int) -> bool:
    instance = instance_row(db_session, project)
    return instance.revision == revision and history_count(db_session, instance) == entries


@pytest.mark.parametrize("case", sorted(HOSTILE_JSON))
def test_a_hostile_json_field_is_refused_by_api_and_editor_alike(
    case, client, assigned, api_for, alice, db_session
):
    value = HOSTILE_JSON[case]
    instance = instance_row(db_session, assigned)
    revision, entries = instance.revision, history_count(db_session, instance)
    status, api_text = api_message(api_for(alice), assigned, value)
    assert status in (400, 422), api_text

    page = get_page(client, editor_url(assigned))
    fields = form_fields(page)
    response = editor_post(
        client,
        assigned,
        fields,
        "apply",
        **{"nf-name:0": "weird", "nf-value:0": value, "nf-json:0": "1"},
    )
    assert response.status_code == 422, response.status_code
    shown = text(response.get_data(as_text=True))
    # The editor refuses with the API's own words.
    refusal = next(
        m
        for m in (
            "beyond 2^53 - 1",
            "too large for a double",
            "is not a JSON number",
            "NUL character",
            "unpaired surrogate",
            "nested too deeply",
            "appears twice",
        )
        if m in api_text
    )
    assert refusal in shown, (shown, api_text)
    assert unchanged(db_session, assigned, revision, entries)


@pytest.mark.parametrize("case", sorted(HOSTILE_JSON))
def test_hostile_values_in_edit_as_json_are_refused_and_nothing_is_written(
    case, client, assigned, db_session
):
    instance = instance_row(db_session, assigned)
    revision, entries = instance.revision, history_count(db_session, instance)
    definition = json.dumps(instance.effective_workflow)
    definition = definition.replace('"name": ', '"weird": ' + HOSTILE_JSON[case] + ', "name": ', 1)
    page = get_page(client, editor_url(assigned))
    response = editor_post(
        client, assigned, form_fields(page), "apply_json", definition_json=definition
    )
    assert response.status_code == 422
    assert 'id="json-error"' in response.get_data(as_text=True)
    assert unchanged(db_session, assigned, revision, entries)


@pytest.mark.parametrize("value", ["a\x00b", "\x00"])
def test_a_nul_typed_into_a_step_field_is_refused_next_to_it(value, client, assigned, db_session):
    instance = instance_row(db_session, assigned)
    revision, entries = instance.revision, history_count(db_session, instance)
    page = get_page(client, editor_url(assigned))
    fields = form_fields(page)
    name_field = next(key for key in fields if key.startswith("f:0:") and key != "f:0:step_id")
    response = editor_post(client, assigned, fields, "save", **{name_field: value})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "NUL character" in body and 'class="field-error"' in body
    assert unchanged(db_session, assigned, revision, entries)


def test_a_nul_in_the_add_step_form_is_refused_next_to_that_field(client, assigned, db_session):
    page = get_page(client, editor_url(assigned))
    response = editor_post(
        client, assigned, form_fields(page), "add", **{"new-step_id": "x_new", "new-name": "a\x00"}
    )
    assert response.status_code == 422
    assert 'id="add-error"' in response.get_data(as_text=True)
    assert "NUL character" in response.get_data(as_text=True)


def test_a_definition_nested_past_the_rule_is_refused_at_save_next_to_the_field(
    client, assigned, db_session
):
    instance = instance_row(db_session, assigned)
    revision, entries = instance.revision, history_count(db_session, instance)
    page = get_page(client, editor_url(assigned))
    deep = "[" * 99 + "]" * 99  # readable as a field, too deep inside a step of a definition
    response = editor_post(
        client,
        assigned,
        form_fields(page),
        "save",
        **{"nf-name:0": "deep", "nf-value:0": deep, "nf-json:0": "1"},
    )
    assert response.status_code == 422
    assert "nested more than 99 levels" in response.get_data(as_text=True)
    assert unchanged(db_session, assigned, revision, entries)


def test_the_rule_is_the_same_for_every_door(app):
    with app.app_context():
        base = {
            "workflow_id": "w",
            "name": "W",
            "pow_class": "reference",
            "steps": [{"step_id": "a"}],
        }
        assert definition_problems(base) == {}
        assert "/steps/0/x" in definition_problems(
            {**base, "steps": [{"step_id": "a", "x": 2**60}]}
        )
        assert "/x" in definition_problems({**base, "x": "\ud800"})
        big = {**base, "description": "x" * max_definition_bytes()}
        assert "" in definition_problems(big)


def test_an_unknown_version_names_no_server_path(api, alice, make_project):
    key = make_project(alice, "Paths").project_id
    response = api.post(f"/projects/{key}/workflow", json={"workflow_id": SPD, "version": "9.9.9"})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "9.9.9" in body and "/" not in json.loads(body)["detail"]
    assert "combine-config" not in body and "releases" not in body


# Round trips: what was accepted comes back and goes back unchanged.


def round_trip(api, key: str) -> None:
    """GET then PUT the same definition with the ETag: 200, and the same revision."""
    got = api.get(f"/projects/{key}/workflow")
    assert got.status_code == 200
    before = got.get_json()
    put = api.put(  # compact UTF-8, as the definition's size rule assumes
        f"/projects/{key}/workflow",
        data=json.dumps(
            {"effective_workflow": before["effective_workflow"]},
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode(),
        content_type="application/json",
        headers={"If-Match": got.headers["ETag"]},
    )
    assert put.status_code == 200, put.get_json()
    after = put.get_json()
    assert after["revision"] == before["revision"]
    assert after["effective_workflow"] == before["effective_workflow"]
    assert json.dumps(after["effective_workflow"]) == json.dumps(before["effective_workflow"])


EDGE_VALUES = [
    str(MAX_SAFE_INTEGER),
    str(-MAX_SAFE_INTEGER),
    "1e15",
    "0.1",
    "-0.0",
    "1.5e-7",
    '"é\\u2028😀"',
    "[" * 60 + "]" * 60,
    '{"nested": {"a": [1, 2.5, true, null]}}',
]


@pytest.mark.parametrize("value", EDGE_VALUES)
def test_values_saved_through_the_editor_round_trip_through_the_api(
    value, client, assigned, api_for, alice
):
    page = get_page(client, editor_url(assigned))
    response = editor_post(
        client,
        assigned,
        form_fields(page),
        "save",
        **{"nf-name:0": "edge", "nf-value:0": value, "nf-json:0": "1"},
    )
    assert response.status_code == 302, text(response.get_data(as_text=True))
    round_trip(api_for(alice), assigned.project_id)


@pytest.mark.parametrize("value", EDGE_VALUES)
def test_values_saved_through_the_api_round_trip(value, api, alice, make_project):
    key = make_project(alice, "Round").project_id
    created = api.post(f"/projects/{key}/workflow", json={"workflow_id": SPD, "version": "1.1.0"})
    assert created.status_code == 201
    definition = created.get_json()["effective_workflow"]
    body = json.dumps({"effective_workflow": definition}).replace(
        '"steps": [', '"edge": ' + value + ', "steps": [', 1
    )
    put = api.put(f"/projects/{key}/workflow", data=body, content_type="application/json")
    assert put.status_code == 200, put.get_json()
    round_trip(api, key)
    assert put.get_json()["effective_workflow"]["edge"] == read_json(value)


def test_the_editor_opens_edits_and_saves_a_definition_of_several_megabytes(
    client, assigned, api_for, alice, db_session
):
    api = api_for(alice)
    got = api.get(f"{project_url(assigned)}/workflow").get_json()
    definition = got["effective_workflow"]
    definition["steps"][0]["task_prompt"] = "é" * 700_000 + "x" * 1_400_000  # 2.8 MB of UTF-8
    body = json.dumps({"effective_workflow": definition}, ensure_ascii=False).encode()
    put = api.put(f"{project_url(assigned)}/workflow", data=body, content_type="application/json")
    assert put.status_code == 200, put.get_json()

    def post_as_browser(
        fields: dict, op: str
    ):  # the editor form is multipart, as a browser sends it
        boundary, body = encode_multipart(MultiDict({**fields, "op": op}))
        return client.post(
            editor_url(assigned),
            data=body,
            content_type=f"multipart/form-data; boundary={boundary}",
        )

    page = get_page(client, editor_url(assigned))
    moved = post_as_browser(form_fields(page), "down:0")  # any control, then Save
    assert moved.status_code == 200, text(moved.get_data(as_text=True))[:300]
    saved = post_as_browser(form_fields(moved.get_data(as_text=True)), "save")
    assert saved.status_code == 302, text(saved.get_data(as_text=True))[:300]
    after = api.get(f"{project_url(assigned)}/workflow").get_json()
    assert after["revision"] == got["revision"] + 2
    assert (
        after["effective_workflow"]["steps"][1]["task_prompt"]
        == definition["steps"][0]["task_prompt"]
    )
    round_trip(api, assigned.project_id)


def test_head_on_the_editor_answers_like_get(client, assigned):
    response = client.head(editor_url(assigned))
    assert response.status_code == 200
    assert response.get_data() == b""


def test_the_project_list_links_each_projects_name(client, signed_in, project):
    page = get_page(client, "/projects")
    assert f'href="/projects/{project.project_id}">{project.name}</a>' in page
