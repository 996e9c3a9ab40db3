"""Pages of a large workflow: the editor sends a step's fields only once the step is opened,
and the project page lists the first steps (all of them on request).

From LAZY_FROM_STEPS steps on, each closed step offers "Fields of X…" (a control like Up or
Down) instead of its inputs, and the whole-definition JSON waits for its own control; the
working copy travels in its hidden field either way, so what was not sent is kept as it is.
"""

from __future__ import annotations

import html
import re

import pytest

from combine_app.web.workflow_editor import LAZY_FROM_STEPS
from combine_app.workflows.models import WorkflowInstance
from tests.web import test_workflow_pages as pages
from tests.web.test_workflow_pages import editor_post, form_fields, get_page, project_url
from tests.workflows.instance_support import all_step_ids, source, with_step_added

project, signed_in, assigned = pages.project, pages.signed_in, pages.assigned


@pytest.fixture
def large(api, assigned):
    """The assigned project's workflow grown past LAZY_FROM_STEPS steps (added at the end)."""
    definition = source()
    for number in range(LAZY_FROM_STEPS):
        definition = with_step_added(definition, f"extra_{number:03d}")
    response = api.put(
        f"/projects/{assigned.project_id}/workflow", json={"effective_workflow": definition}
    )
    assert response.status_code == 200, response.get_json()
    return assigned


def edit_url(project) -> str:
    return f"{project_url(project)}/workflow/edit"


def definition_of(db_session, project) -> dict:
    db_session.expire_all()
    return (
        db_session.query(WorkflowInstance).filter_by(project_id=project.id).one().effective_workflow
    )


def test_a_large_editor_sends_no_step_fields_until_one_is_opened(client, large):
    page = get_page(client, edit_url(large))
    assert re.search(r'name="[fj]:', page) is None
    assert 'value="open:10"' in page and "Fields of extra_000…" in page
    assert 'name="definition_json"' not in page
    assert 'value="open_json"' in page
    every_step = len(all_step_ids(source())) + LAZY_FROM_STEPS
    assert page.count('name="op" value="open:') == every_step


def test_opening_a_step_shows_its_fields_and_keeps_them_open_across_controls(
    client, large, db_session
):
    key = str(len(source()["steps"]) + 5)  # extra_005
    opened = editor_post(
        client, large, form_fields(get_page(client, edit_url(large))), f"open:{key}"
    )
    assert opened.status_code == 200
    page = opened.get_data(as_text=True)
    assert f'name="f:{key}:role"' in page
    assert '<input type="hidden" name="open" value="extra_005">' in page
    assert len(re.findall(r'name="f:\d+:name"', page)) == 1  # only the opened step's fields

    # An edit typed there and another control: the step stays open, the edit is kept.
    fields = {**form_fields(page), f"f:{key}:role": "Auditor 1.0"}
    applied = editor_post(client, large, fields, "apply")
    assert applied.status_code == 200
    assert f'name="f:{key}:role" value="Auditor 1.0"' in applied.get_data(as_text=True)

    before = definition_of(db_session, large)
    saved = editor_post(client, large, form_fields(applied.get_data(as_text=True)), "save")
    assert saved.status_code == 302
    after = definition_of(db_session, large)
    assert after["steps"][int(key)]["role"] == "Auditor 1.0"
    # Every step whose fields were never sent is exactly as it was.
    after["steps"][int(key)]["role"] = before["steps"][int(key)]["role"]
    assert after == before


def test_the_whole_definition_as_json_comes_on_request(client, large):
    response = editor_post(
        client, large, form_fields(get_page(client, edit_url(large))), "open_json"
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert re.search(r'<details class="card json-editor" id="json-editor" open>', page)
    assert '"step_id": "extra_099"' in html.unescape(page)


def test_opening_a_step_that_is_not_there_is_refused_with_the_editor(client, large):
    response = editor_post(
        client, large, form_fields(get_page(client, edit_url(large))), "open:9999"
    )
    assert response.status_code == 422
    assert "That step is gone; reload the page." in response.get_data(as_text=True)


def test_a_small_editor_sends_every_field_at_once(client, assigned):
    page = get_page(client, edit_url(assigned))
    assert 'name="f:0:role"' in page and 'name="definition_json"' in page
    assert 'value="open:' not in page


def test_the_project_page_of_a_large_workflow_lists_the_first_steps_then_all_on_request(
    client, large
):
    from combine_app.web.workflow import PANEL_STEPS

    total = len(all_step_ids(source())) + LAZY_FROM_STEPS
    page = get_page(client, project_url(large))
    assert page.count('class="step-head"') == PANEL_STEPS
    assert f"The first {PANEL_STEPS} of {total} steps are shown." in page
    every = get_page(client, f"{project_url(large)}?steps=all")
    assert every.count('class="step-head"') == total
    assert "steps are shown" not in every


def test_many_differences_offer_accept_as_a_link_and_its_form_on_request(client, large, signed_in):
    from combine_app.web.workflow import FORMS_AT_ONCE

    assert LAZY_FROM_STEPS > FORMS_AT_ONCE  # the large workflow has more differences than that
    drift_url = f"{project_url(large)}/workflow/drift"
    page = get_page(client, drift_url)
    assert 'name="reason"' not in page  # no accept form drawn at once
    assert page.count(f'href="{drift_url}?accept=step_added%3Aextra_') == LAZY_FROM_STEPS
    key = "step_added:extra_005"
    one = get_page(client, f"{drift_url}?accept={key}")
    assert one.count('name="reason"') == 1
    item = re.search(rf'<li data-key="{key}" id="(item-[^"]+)">(.*?)</li>', one, re.S)
    assert item and '<details class="accept" open>' in item.group(2)
    assert f'href="{drift_url}?accept=' in one  # the others stay links
    response = client.post(
        f"{project_url(large)}/workflow/deviations",
        data={"csrf_token": signed_in, "key": key, "reason": "Extra on purpose."},
    )
    assert response.status_code == 302
    after = get_page(client, drift_url)
    assert f"Not explained yet ({LAZY_FROM_STEPS - 1})" in after
