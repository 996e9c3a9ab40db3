"""The project page shows the problems of its workflow: errors and warnings, each with where."""

from __future__ import annotations

import copy

import pytest

from combine_app.definition import rules
from tests.web.test_workflow_pages import (
    assign,
    get_page,
    instance_row,
    project_url,
    save_edit,
    text,
)


@pytest.fixture
def project(alice, make_project):
    """A project of alice's without a workflow."""
    return make_project(alice, "Problems")


@pytest.fixture
def assigned(client, login, alice, project):
    """alice signed in, her project with software_product_development 1.1.0 assigned."""
    assert assign(client, login(alice), project).status_code == 302
    return project


def problems_section(client, project) -> str:
    page = get_page(client, project_url(project))
    start = page.find('id="workflow-problems"')
    return text(page[start : page.index("</section>", start)]) if start >= 0 else ""


def test_a_workflow_without_problems_shows_no_problems_section(client, assigned):
    assert problems_section(client, assigned) == ""


def test_removing_code_review_shows_the_warning_with_its_pointer(client, assigned, db_session):
    assert save_edit(client, assigned, "remove:4.2").status_code == 302
    (warning,) = rules.problems(instance_row(db_session, assigned).effective_workflow)
    shown = problems_section(client, assigned)
    assert "Can this workflow run? Yes, with 1 warning" in shown
    assert warning.code == "input_never_produced"
    assert f"Warning at {warning.pointer} : {warning.message}" in shown  # text() spaces tags
    assert "The input 'review_record' is produced by no step of this workflow." in shown


def test_an_error_already_in_the_instance_is_shown_as_an_error(client, assigned, db_session):
    instance = instance_row(db_session, assigned)
    broken = copy.deepcopy(instance.effective_workflow)
    broken["steps"][0]["produces"] = "no_such_document"
    instance.effective_workflow = broken
    db_session.commit()
    errors = [p for p in rules.problems(broken) if p.severity == rules.ERROR]
    assert errors, "the renamed produces must be an error"
    shown = problems_section(client, assigned)
    assert f"Can this workflow run? No: {len(errors)} error" in shown
    for error in errors:
        assert f"Error at {error.pointer} : {error.message}" in shown
