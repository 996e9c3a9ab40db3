"""The editor shows the rules' problems live, before Save, on the step and next to the field
they concern; Save refuses an error the working copy adds, with its message next to the field."""

from __future__ import annotations

import re

import pytest

from combine_app.definition import rules
from tests.web.test_workflow_pages import (
    assign,
    editor_post,
    element,
    form_fields,
    get_page,
    instance_row,
    project_url,
    text,
)

UNPRODUCED = "The input 'review_record' is produced by no step of this workflow."


@pytest.fixture
def project(alice, make_project):
    return make_project(alice, "Live Problems")


@pytest.fixture
def editor(client, login, alice, project):
    """alice signed in on the editor of her project's SPD 1.1.0; the editor page."""
    assert assign(client, login(alice), project).status_code == 302
    return get_page(client, f"{project_url(project)}/workflow/edit")


def step_html(page: str, step_id: str) -> str:
    match = re.search(rf'id="([^"]+)" data-step-id="{step_id}"', page)
    assert match, f"no step {step_id} in the editor"
    return element(page, match.group(1))


def field_row(step: str, field: str) -> str:
    """The editor's row of one field of a step (its input and what is shown under it)."""
    (row,) = [row for row in step.split('class="field-row"') if f':{field}"' in row]
    return row


def click(client, project, page: str, op: str, **changes: str) -> str:
    response = editor_post(client, project, form_fields(page), op, **changes)
    assert response.status_code == 200, text(response.get_data(as_text=True))
    return response.get_data(as_text=True)


def test_a_fresh_editor_shows_no_problems(editor):
    assert 'id="editor-problems"' not in editor
    assert "field-problem" not in editor


def test_removing_code_review_warns_next_to_release_readiness_inputs_before_saving(
    client, project, editor, db_session
):
    page = click(client, project, editor, "remove:4.2")
    summary = text(element(page, "editor-problems"))
    assert "Can this working copy run? Yes, with 1 warning" in summary
    release = step_html(page, "release_readiness")
    inputs_row = field_row(release, "inputs")
    assert f"Warning: {UNPRODUCED}" in text(inputs_row)
    assert "Save will refuse" not in text(release)  # a warning never blocks
    assert instance_row(db_session, project).revision == 1  # nothing saved yet


def test_an_undeclared_produces_is_shown_as_an_error_save_will_refuse_and_save_refuses_it(
    client, project, editor, db_session
):
    first = re.search(r'name="(f:0:produces)"', editor).group(1)
    page = click(client, project, editor, "apply", **{first: "renamed_brief"})
    message = "The step produces 'renamed_brief', which is not a declared document type."
    produces = text(field_row(step_html(page, "product_discovery"), "produces"))
    assert f"Error: {message} Save will refuse this change." in produces
    assert "Can this working copy run? No: 1 error" in text(element(page, "editor-problems"))

    saved = editor_post(client, project, form_fields(page), "save")
    assert saved.status_code == 422
    refused = saved.get_data(as_text=True)
    assert message in text(step_html(refused, "product_discovery"))
    assert 'aria-invalid="true"' in step_html(refused, "product_discovery")
    assert instance_row(db_session, project).revision == 1


def test_moving_delivery_planning_above_its_input_warns_on_its_inputs(client, project, editor):
    page = click(client, project, editor, "up:3")
    planning = text(field_row(step_html(page, "delivery_planning"), "inputs"))
    expected = [
        p.message
        for p in rules.problems(instance_after_move())
        if p.code == "input_not_produced_earlier"
    ]
    assert expected
    for message in expected:
        assert f"Warning: {message}" in planning


def instance_after_move() -> dict:
    import yaml

    from tests.definition.test_rules import OURS

    definition = yaml.safe_load((OURS / "1.1.0" / "definition.yaml").read_text())
    steps = definition["steps"]
    steps[2], steps[3] = steps[3], steps[2]
    return definition
