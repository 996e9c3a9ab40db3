"""The workflow pages: the project page's panel, assigning, editing, drift, history, completing."""

from __future__ import annotations

import html
import json
import re

import pytest
from sqlalchemy import func, select

from combine_app.definition.editing import locate, place_options
from combine_app.definition.tree import ordered_step_fields
from combine_app.projects import service as project_service
from combine_app.web.workflow_words import describe_entry
from combine_app.workflows.models import WorkflowInstance, WorkflowInstanceHistory
from tests.support.form_session import form_fields

SPD = "software_product_development"
# Moving product_discovery (first) down, in the words every page uses for it.
SWAP = "product_discovery and requirements_definition swapped places (positions 1 and 2)"
LEAN = "lean_product_development"
STALE = (
    "This workflow was changed since you opened this page (now revision {now}). Reload to see the "
    "latest and apply your edit again."
)


def text(page: str) -> str:
    """The visible text of a page, tags dropped and white space collapsed."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def element(page: str, element_id: str) -> str:
    """The HTML of the <li> or <section> with this id, up to its matching close tag."""
    match = re.search(rf'<(li|section|div|fieldset)\b[^>]*\bid="{re.escape(element_id)}"', page)
    assert match, f"no element #{element_id}"
    tag = match.group(1)
    depth, position = 0, match.start()
    for token in re.finditer(rf"<(/?){tag}\b", page[match.start() :]):
        depth += -1 if token.group(1) else 1
        if depth == 0:
            position = match.start() + token.end()
            break
    return page[match.start() : position]


@pytest.fixture
def project(alice, make_project):
    """A project of alice's without a workflow."""
    return make_project(alice, "Software Product Development")


@pytest.fixture
def signed_in(login, alice):
    """alice signed in; the CSRF token of her session."""
    return login(alice)


def project_url(project) -> str:
    return f"/projects/{project.project_id}"


def assign(client, token, project, workflow_id=SPD, version="1.1.0"):
    return client.post(
        f"{project_url(project)}/workflow",
        data={"csrf_token": token, "workflow_id": workflow_id, f"version:{workflow_id}": version},
    )


def get_page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def editor_post(client, project, fields: dict[str, str], op: str, **changes: str):
    """Post the editor form as a browser would after clicking the control ``op``."""
    return client.post(
        f"{project_url(project)}/workflow/edit", data={**fields, **changes, "op": op}
    )


def instance_row(db_session, project) -> WorkflowInstance | None:
    db_session.expire_all()
    return db_session.scalar(
        select(WorkflowInstance).where(WorkflowInstance.project_id == project.id)
    )


def history_count(db_session, instance) -> int:
    return db_session.scalar(
        select(func.count())
        .select_from(WorkflowInstanceHistory)
        .where(WorkflowInstanceHistory.instance_id == instance.id)
    )


@pytest.fixture
def assigned(client, signed_in, project):
    """alice's project with software_product_development 1.1.0 assigned."""
    response = assign(client, signed_in, project)
    assert response.status_code == 302
    return project


def save_edit(client, project, *ops: str, **field_changes: str):
    """Open the editor, click each control in turn, change fields, then Save; the response."""
    page = get_page(client, f"{project_url(project)}/workflow/edit")
    for op in ops:
        response = editor_post(client, project, form_fields(page), op)
        assert response.status_code == 200, text(response.get_data(as_text=True))
        page = response.get_data(as_text=True)
    return editor_post(client, project, form_fields(page), "save", **field_changes)


# The panel without a workflow: the picker.


def test_project_without_workflow_says_so_and_offers_the_picker(client, signed_in, project):
    page = get_page(client, project_url(project))
    assert "No workflow assigned" in text(page)
    assert "Assign workflow" in text(page)
    assert 'action="/projects/SPD-001/workflow"' in page


def test_picker_lists_the_pows_grouped_by_class_with_details(client, signed_in, project):
    page = get_page(client, project_url(project))
    groups = dict(re.findall(r"<legend>(\w+)</legend>(.*?)</fieldset>", page, flags=re.S))
    assert list(groups) == ["Reference", "Template"]
    assert f'value="{SPD}"' in groups["Reference"]
    assert f'value="{LEAN}"' in groups["Template"]
    assert LEAN not in groups["Reference"] and SPD not in groups["Template"]
    reference = text(groups["Reference"])
    assert "Software Product Development" in reference
    assert "Takes a product idea from discovery to shipped increments" in reference
    assert "9 steps" in reference  # 1.1.0, the active release: 6 top-level, 3 nested
    # Both releases are offered, the active one preselected.
    assert '<option value="1.1.0" selected>1.1.0 (active)</option>' in groups["Reference"]
    assert '<option value="1.0.0">1.0.0</option>' in groups["Reference"]
    # The graph-shaped concierge_intake is not a POW and is never offered.
    assert "concierge_intake" not in page


def test_assigning_creates_the_instance_and_the_panel_shows_it(
    client, signed_in, project, db_session
):
    response = assign(client, signed_in, project)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/projects/SPD-001#workflow")
    instance = instance_row(db_session, project)
    assert instance.base_workflow_ref["version"] == "1.1.0"

    page = get_page(client, project_url(project))
    shown = text(page)
    assert "Assigned software_product_development 1.1.0." in shown
    assert "No workflow assigned" not in shown
    assert "In sync" in shown and "Drifted" not in shown
    assert "Update available" not in shown
    assert '<span class="badge badge-plain badge-active">Workflow active</span>' in page
    assert '<span class="badge badge-plain badge-active">Project active</span>' in page
    assert re.search(r"Based on\s*software_product_development\s*Version\s*1\.1\.0", shown)
    assert re.search(r"Kind\s*Reference workflow\s*Revision\s*1\b", shown)
    assert 'href="/help#reference">Reference workflow</a>' in page
    assert "alice created the workflow from software_product_development 1.1.0 (reference)" in (
        shown
    )


def test_panel_shows_the_steps_in_order_with_nested_steps_inside_their_iteration(client, assigned):
    page = get_page(client, project_url(assigned))
    steps = re.search(r'<ol class="steps">.*</ol>', page, flags=re.S).group(0)
    titles = re.findall(r'<span class="step-title">([^<]+)</span>', steps)
    assert titles == [
        "Product Discovery",
        "Requirements Definition",
        "Solution Architecture",
        "Delivery Planning",
        "Per Epic",
        "Story Breakdown",
        "Epic Implementation",
        "Code Review",
        "Release Readiness",
    ]
    iteration = steps[steps.index("Per Epic") : steps.index("Release Readiness")]
    assert '<ol class="steps nested">' in iteration
    assert "Code Review" in iteration
    shown = text(steps)
    assert "Iterates over each epic in delivery_plan.epics" in shown
    key_fields = (
        "Role Business Analyst 1.0 Produces requirements_spec Inputs product_brief (project)"
    )
    assert key_fields in shown
    assert "epic entity (epic, context)" in shown
    # Other fields, compactly and in a fixed order.
    assert "Task prompt Product Discovery v1.0 Scope project Execution mode auto" in shown
    assert re.search(r"5\.1\s+Story Breakdown", shown)


def test_assigning_an_older_release_shows_update_available(client, signed_in, project):
    assign(client, signed_in, project, version="1.0.0")
    shown = text(get_page(client, project_url(project)))
    assert "In sync" in shown
    assert "Update available (1.1.0)" in shown


def test_assigning_a_template_records_its_class(client, signed_in, project):
    assign(client, signed_in, project, workflow_id=LEAN, version="1.0.0")
    shown = text(get_page(client, project_url(project)))
    assert "created the workflow from lean_product_development 1.0.0 (template)" in shown
    assert "Kind Template workflow" in shown


def test_assigning_an_unknown_version_shows_why_and_creates_nothing(
    client, signed_in, project, db_session
):
    response = assign(client, signed_in, project, version="9.9.9")
    assert response.status_code == 302
    shown = text(client.get(project_url(project)).get_data(as_text=True))
    assert "9.9.9" in shown and "No workflow assigned" in shown
    assert instance_row(db_session, project) is None


def test_assigning_twice_says_the_project_has_one(client, signed_in, assigned, db_session):
    assign(client, signed_in, assigned, workflow_id=LEAN, version="1.0.0")
    shown = text(get_page(client, project_url(assigned)))
    assert "already has a workflow instance" in shown
    assert instance_row(db_session, assigned).base_workflow_ref["workflow_id"] == SPD


# Drift: indicator on the panel, summary only on demand.


def test_drift_summary_is_not_in_the_panel_but_behind_a_lazy_details(client, assigned):
    save_edit(client, assigned, "remove:5")
    page = get_page(client, project_url(assigned))
    details = re.search(r'<details class="drift" data-src="([^"]+)">(.*?)</details>', page, re.S)
    assert details, "a drifted instance offers the summary"
    assert html.unescape(details.group(1)) == "/projects/SPD-001/workflow/drift?partial=1"
    # Without JavaScript the details holds a link to the full page, not the summary itself.
    assert 'href="/projects/SPD-001/workflow/drift"' in details.group(2)
    assert "Steps removed" not in page


def test_in_sync_panel_offers_no_drift_summary(client, assigned):
    page = get_page(client, project_url(assigned))
    assert 'class="drift"' not in page


def test_drift_fragment_lists_what_changed_and_the_full_page_wraps_it(client, assigned):
    save_edit(client, assigned, "down:0", "remove:5", **{"f:1:role": "Lead Product Manager"})
    fragment = client.get(f"{project_url(assigned)}/workflow/drift?partial=1")
    assert fragment.status_code == 200
    body = fragment.get_data(as_text=True)
    assert "<html" not in body
    shown = text(body)
    assert "Steps removed (1) release_readiness" in shown
    # The person moved product_discovery down; the words name both steps, never only one.
    assert f"Steps moved (1) {SWAP}" in shown
    assert "role: 'Product Manager 1.0' → 'Lead Product Manager'" in shown

    full = get_page(client, f"{project_url(assigned)}/workflow/drift")
    assert "<html" in full
    assert "What changed since software_product_development 1.1.0" in text(full)
    assert "Steps removed (1) release_readiness" in text(full)


# Editing.


def test_edit_page_shows_the_working_copy_at_the_loaded_revision(client, assigned):
    page = get_page(client, f"{project_url(assigned)}/workflow/edit")
    fields = form_fields(page)
    assert fields["revision"] == "1"
    working = json.loads(fields["working_copy"])
    assert working["workflow_id"] == SPD
    assert fields["f:0:role"] == "Product Manager 1.0"
    assert json.loads(fields["j:0:inputs"]) == []
    # Enter in a text field submits with the first button: it must only apply, never move.
    first_button = re.search(r'<button type="submit" name="op" value="([^"]+)"', page)
    assert first_button.group(1) == "apply"


def test_moving_and_removing_then_saving_is_one_change_shown_as_drifted_with_history(
    client, assigned, db_session
):
    response = save_edit(client, assigned, "down:0", "remove:5")
    assert response.status_code == 302
    flashed = text(client.get(response.headers["Location"]).get_data(as_text=True))
    assert "Saved the workflow as revision 2." in flashed
    instance = instance_row(db_session, assigned)
    assert instance.revision == 2
    assert [s["step_id"] for s in instance.effective_workflow["steps"]] == [
        "requirements_definition",
        "product_discovery",
        "solution_architecture",
        "delivery_planning",
        "per_epic",
    ]
    assert history_count(db_session, instance) == 3  # created, step_removed, step_reordered

    shown = text(get_page(client, project_url(assigned)))
    assert "Drifted" in shown and "In sync" not in shown
    assert "Revision 2" in shown
    assert "alice removed step release_readiness" in shown
    assert f"alice reordered the steps: {SWAP}" in shown
    # Newest first: this change, then the creation.
    assert shown.index("removed step release_readiness") < shown.index("created the workflow")


def test_editor_controls_change_only_the_working_copy_until_save(client, assigned, db_session):
    page = get_page(client, f"{project_url(assigned)}/workflow/edit")
    moved = editor_post(client, assigned, form_fields(page), "up:4.1")
    assert moved.status_code == 200
    page = moved.get_data(as_text=True)
    assert (
        "Moved step epic_implementation up: epic_implementation and story_breakdown swapped "
        "places inside per_epic (positions 1 and 2)." in text(page)
    )
    working = json.loads(form_fields(page)["working_copy"])
    nested = [s["step_id"] for s in working["steps"][4]["steps"]]
    assert nested == ["epic_implementation", "story_breakdown", "code_review"]
    assert (
        "You reordered the steps: epic_implementation and story_breakdown swapped places "
        "inside per_epic (positions 1 and 2)" in text(page)
    )
    assert instance_row(db_session, assigned).revision == 1


def test_changing_a_field_is_recorded_old_and_new(client, assigned):
    response = save_edit(client, assigned, **{"f:0:role": "Lead Product Manager"})
    assert response.status_code == 302
    shown = text(get_page(client, project_url(assigned)))
    assert (
        "alice changed role of step product_discovery: 'Product Manager 1.0' → "
        "'Lead Product Manager'"
    ) in shown


def test_a_json_field_edit_and_a_removed_field_are_saved(client, assigned, db_session):
    page = get_page(client, f"{project_url(assigned)}/workflow/edit")
    fields = form_fields(page)
    fields["j:1:inputs"] = '[{"doc_type": "product_brief", "scope": "project", "collect": "all"}]'
    dropped = editor_post(client, assigned, fields, "dropfield:1:execution_mode")
    assert dropped.status_code == 200
    response = editor_post(client, assigned, form_fields(dropped.get_data(as_text=True)), "save")
    assert response.status_code == 302
    step = instance_row(db_session, assigned).effective_workflow["steps"][1]
    assert "execution_mode" not in step
    assert step["inputs"] == [{"doc_type": "product_brief", "scope": "project", "collect": "all"}]
    shown = text(get_page(client, project_url(assigned)))
    assert "alice removed execution mode from step requirements_definition (was 'auto')" in shown


def test_adding_a_step_inside_an_iteration(client, assigned, db_session):
    page = get_page(client, f"{project_url(assigned)}/workflow/edit")
    assert '<option value="before:4.0">Before 5.1 story_breakdown</option>' in page
    fields = form_fields(page)
    fields.update(
        {
            "new-step_id": "security_review",
            "new-name": "Security Review",
            "new-role": "Security Engineer 1.0",
            "new-produces": "review_record",
            "new-task_prompt": "Security Review v1.0",
            "new-place": "end:4",
        }
    )
    added = editor_post(client, assigned, fields, "add")
    assert added.status_code == 200
    assert "Added step security_review." in text(added.get_data(as_text=True))
    response = editor_post(client, assigned, form_fields(added.get_data(as_text=True)), "save")
    assert response.status_code == 302
    nested = instance_row(db_session, assigned).effective_workflow["steps"][4]["steps"]
    assert nested[-1] == {
        "step_id": "security_review",
        "name": "Security Review",
        "role": "Security Engineer 1.0",
        "produces": "review_record",
        "task_prompt": "Security Review v1.0",
    }
    shown = text(get_page(client, project_url(assigned)))
    assert "alice added step security_review inside per_epic at position 4" in shown


def test_adding_a_step_with_a_taken_id_is_refused_next_to_the_add_form(client, assigned):
    page = get_page(client, f"{project_url(assigned)}/workflow/edit")
    fields = {**form_fields(page), "new-step_id": "code_review"}
    response = editor_post(client, assigned, fields, "add")
    assert response.status_code == 422
    add_form = element(response.get_data(as_text=True), "add-step")
    assert "There is already a step code_review." in text(add_form)
    assert 'value="code_review"' in add_form  # what was typed is kept
    # The message sits next to the step ID field it is about, not under "Place it".
    field = re.search(r'<span>\s*<label for="new-step_id">.*?</span>\s*</span>', add_form, re.S)
    assert field and "There is already a step code_review." in field.group(0)
    assert 'aria-describedby="new-step_id-hint add-error"' in field.group(0)


def test_saving_a_stale_revision_shows_the_message_and_writes_nothing(client, assigned, db_session):
    stale_page = get_page(client, f"{project_url(assigned)}/workflow/edit")
    # Meanwhile the same workflow is changed from another tab.
    assert save_edit(client, assigned, "remove:5").status_code == 302
    before = instance_row(db_session, assigned)
    entries = history_count(db_session, before)

    response = editor_post(client, assigned, form_fields(stale_page), "save", **{"f:0:role": "X"})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert STALE.format(now=2) in text(page)
    assert 'href="/projects/SPD-001/workflow/edit">Reload the latest revision' in page
    after = instance_row(db_session, assigned)
    assert after.revision == 2
    assert after.effective_workflow["steps"][0]["role"] == "Product Manager 1.0"
    assert history_count(db_session, after) == entries


def test_a_validation_error_is_shown_next_to_the_step_that_caused_it(client, assigned, db_session):
    response = save_edit(client, assigned, **{"f:2:step_id": "Solution Architecture"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    step = element(page, "s-2")
    assert "has-error" in step.split(">", 1)[0]
    assert "must start with a lowercase letter" in text(step)
    assert 'aria-invalid="true"' in step
    # Only that step is marked; the summary on top links to it.
    assert "must start with a lowercase letter" not in text(element(page, "s-1"))
    assert '<a href="#s-2">Step 3 Solution Architecture</a>' in page
    assert instance_row(db_session, assigned).revision == 1


def test_a_nested_steps_duplicate_id_is_shown_on_the_nested_step(client, assigned, db_session):
    response = save_edit(client, assigned, **{"f:4.2:step_id": "story_breakdown"})
    assert response.status_code == 422
    step = element(response.get_data(as_text=True), "s-4-2")
    assert "duplicate step_id 'story_breakdown'" in text(step)
    assert instance_row(db_session, assigned).revision == 1


def test_a_field_that_is_not_json_is_refused_next_to_it_and_nothing_is_applied(
    client, assigned, db_session
):
    page = get_page(client, f"{project_url(assigned)}/workflow/edit")
    response = editor_post(client, assigned, form_fields(page), "down:0", **{"j:1:inputs": "[oops"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Not valid JSON" in text(element(page, "s-1"))
    working = json.loads(form_fields(page)["working_copy"])
    assert working["steps"][0]["step_id"] == "product_discovery"  # the move was not applied
    assert instance_row(db_session, assigned).revision == 1


def test_saving_without_changes_writes_nothing(client, assigned, db_session):
    response = save_edit(client, assigned)
    assert response.status_code == 302
    assert "Nothing to save" in text(client.get(response.headers["Location"]).get_data(True))
    instance = instance_row(db_session, assigned)
    assert instance.revision == 1 and history_count(db_session, instance) == 1


def test_editing_the_whole_definition_as_json(client, assigned, db_session):
    page = get_page(client, f"{project_url(assigned)}/workflow/edit")
    fields = form_fields(page)
    definition = json.loads(fields["definition_json"])
    assert list(definition)[:3] == ["schema_version", "workflow_id", "name"]  # reading order
    definition["name"] = "Our Product Development"
    fields["definition_json"] = json.dumps(definition)
    applied = editor_post(client, assigned, fields, "apply_json")
    assert applied.status_code == 200
    response = editor_post(client, assigned, form_fields(applied.get_data(as_text=True)), "save")
    assert response.status_code == 302
    shown = text(get_page(client, project_url(assigned)))
    assert (
        "alice changed name of the workflow: 'Software Product Development' → "
        "'Our Product Development'"
    ) in shown


def test_the_editor_answers_a_script_with_only_the_form_body(client, assigned):
    page = get_page(client, f"{project_url(assigned)}/workflow/edit")
    response = client.post(
        f"{project_url(assigned)}/workflow/edit",
        data={**form_fields(page), "op": "down:0"},
        headers={"X-Combine-Partial": "1"},
    )
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "<html" not in body and 'name="working_copy"' in body
    assert 'data-focus="down-1"' in body


# Completing, read-only states.


def test_mark_completed_needs_the_confirmation_then_completes(
    client, signed_in, assigned, db_session
):
    url = f"{project_url(assigned)}/workflow/complete"
    refused = client.post(url, data={"csrf_token": signed_in})
    assert refused.status_code == 302
    assert "Yes, mark it completed" in text(client.get(project_url(assigned)).get_data(True))
    assert instance_row(db_session, assigned).status == "active"

    done = client.post(url, data={"csrf_token": signed_in, "confirm": "yes"})
    assert done.status_code == 302
    page = get_page(client, project_url(assigned))
    shown = text(page)
    assert "The workflow is marked completed." in shown
    assert '<span class="badge badge-plain badge-completed">Workflow completed</span>' in page
    assert "alice marked the workflow completed" in shown
    assert "This workflow is completed: it can be read but no longer changed." in shown
    assert "/workflow/edit" not in page and "/workflow/complete" not in page
    assert instance_row(db_session, assigned).status == "completed"
    # The editor is closed to a completed workflow.
    edit = client.get(f"{project_url(assigned)}/workflow/edit")
    assert edit.status_code == 302


def test_an_archived_projects_workflow_is_read_only(client, signed_in, assigned, alice, db_session):
    project_service.archive_project(assigned, alice)
    db_session.commit()
    page = get_page(client, project_url(assigned))
    assert "is archived: its workflow can be read but not changed" in text(page)
    assert "/workflow/edit" not in page
    # A form posted anyway is refused with the service's reason, and nothing changes.
    client.post(
        f"{project_url(assigned)}/workflow/complete",
        data={"csrf_token": signed_in, "confirm": "yes"},
    )
    shown = text(client.get(project_url(assigned)).get_data(as_text=True))
    assert "Unarchive the project first" in shown
    assert instance_row(db_session, assigned).status == "active"
    assert client.get(f"{project_url(assigned)}/workflow/edit").status_code == 302


def test_an_archived_project_without_workflow_offers_no_picker(
    client, signed_in, project, alice, db_session
):
    project_service.archive_project(project, alice)
    db_session.commit()
    page = get_page(client, project_url(project))
    assert "No workflow assigned" in text(page)
    assert "Assign workflow" not in text(page)
    assign(client, signed_in, project)
    assert instance_row(db_session, project) is None


# History.


def test_history_is_paginated_ten_entries_per_page_newest_first(client, assigned):
    for number in range(11):
        response = save_edit(client, assigned, **{"f:0:role": f"Role {number}"})
        assert response.status_code == 302
    first = text(get_page(client, project_url(assigned)))
    assert "History (12 revisions)" in first
    assert "Page 1 of 2" in first
    assert "'Role 9' → 'Role 10'" in first
    assert "revision 12" in first and "revision 3 " in first
    assert "created the workflow" not in first

    second = get_page(client, f"{project_url(assigned)}?history_page=2")
    assert "'Product Manager 1.0' → 'Role 0'" in text(second)
    assert "created the workflow from software_product_development" in text(second)
    assert "Page 2 of 2" in text(second)
    assert 'href="/projects/SPD-001?history_page=1#history"' in second
    # A page past the end shows the last one.
    assert "Page 2 of 2" in text(get_page(client, f"{project_url(assigned)}?history_page=99"))


# Access: sign-in, ownership, CSRF.


def test_workflow_pages_need_sign_in(client, db_session, project):
    for url in ("/workflow/edit", "/workflow/drift"):
        response = client.get(project_url(project) + url)
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]


def test_another_users_project_workflow_pages_are_404(
    client, login, make_user, make_project, db_session
):
    bob = make_user("bob")
    theirs = make_project(bob, "Bob Secret Plan")
    token = login(make_user("carol"))
    url = project_url(theirs)
    assert client.get(url).status_code == 404
    assert client.get(f"{url}/workflow/edit").status_code == 404
    assert client.get(f"{url}/workflow/drift").status_code == 404
    assert assign(client, token, theirs).status_code == 404
    complete = client.post(f"{url}/workflow/complete", data={"csrf_token": token, "confirm": "yes"})
    assert complete.status_code == 404
    edit = client.post(
        f"{url}/workflow/edit",
        data={"csrf_token": token, "revision": "1", "working_copy": "{}", "op": "save"},
    )
    assert edit.status_code == 404
    assert instance_row(db_session, theirs) is None


def test_forms_without_csrf_token_are_refused_and_write_nothing(
    client, signed_in, assigned, project, db_session
):
    page = get_page(client, f"{project_url(assigned)}/workflow/edit")
    fields = {k: v for k, v in form_fields(page).items() if k != "csrf_token"}
    assert editor_post(client, assigned, fields, "save", **{"f:0:role": "X"}).status_code == 403
    complete = client.post(f"{project_url(assigned)}/workflow/complete", data={"confirm": "yes"})
    assert complete.status_code == 403
    instance = instance_row(db_session, assigned)
    assert instance.revision == 1 and instance.status == "active"


def test_assign_without_csrf_token_is_403_and_creates_nothing(
    client, signed_in, project, db_session
):
    response = client.post(
        f"{project_url(project)}/workflow",
        data={"workflow_id": SPD, f"version:{SPD}": "1.1.0"},
    )
    assert response.status_code == 403
    assert "refused" in text(response.get_data(as_text=True))
    assert instance_row(db_session, project) is None


def test_a_tampered_working_copy_is_400(client, signed_in, assigned):
    response = client.post(
        f"{project_url(assigned)}/workflow/edit",
        data={"csrf_token": signed_in, "revision": "1", "working_copy": "[1]", "op": "save"},
    )
    assert response.status_code == 400


# The pure helpers behind the pages.


@pytest.mark.parametrize(
    ("pointer", "expected"),
    [
        ("/effective_workflow/steps/2/step_id", ((2,), "step_id")),
        ("/effective_workflow/steps/4/steps/1/inputs/0/doc_type", ((4, 1), "inputs")),
        ("/effective_workflow/steps/4/steps", ((4,), "steps")),
        ("/effective_workflow/name", (None, "name")),
        ("/effective_workflow/steps/0/a~1b", ((0,), "a/b")),
        ("", (None, None)),
    ],
)
def test_validation_pointers_land_on_their_step_and_field(pointer, expected):
    assert locate(pointer) == expected


def test_history_sentences_for_every_change_type():
    move = {
        "step_id": "b",
        "from_parent": None,
        "to_parent": "p",
        "from_position": 0,
        "to_position": 2,
    }
    assert describe_entry("step_reordered", {"steps": [move]}, "alice") == [
        "alice reordered the steps: b moved from the top level (position 1) into p (position 3)"
    ]
    assert describe_entry("status_changed", {"from": "active", "to": "archived"}, None) == [
        "Someone archived the workflow"
    ]
    change = {"field": "tags", "old": ["a"], "new": None, "change": "removed"}
    assert describe_entry("metadata_changed", {"changes": [change]}, "bo") == [
        'bo removed tags from the workflow (was ["a"])'
    ]
    assert describe_entry("mystery", {}, "bo") == ["bo made a change (mystery)"]


def test_step_fields_come_in_a_fixed_order_whatever_the_stored_order():
    step = {"inputs": [], "zeta": 1, "role": "R", "step_id": "s", "alpha": 2, "name": "N"}
    assert [name for name, _ in ordered_step_fields(step)] == [
        "step_id",
        "name",
        "role",
        "inputs",
        "alpha",
        "zeta",
    ]


def test_add_places_end_each_iteration_after_its_nested_steps():
    definition = {"steps": [{"step_id": "a"}, {"step_id": "p", "steps": [{"step_id": "c"}]}]}
    assert place_options(definition) == [
        ("before:0", "Before 1 a"),
        ("before:1", "Before 2 p"),
        ("before:1.0", "Before 2.1 c"),
        ("end:1", "At the end inside 2 p"),
        ("end:", "At the end"),
    ]
