"""The revision pages: reasons in the forms and the history, view, compare and restore."""

from __future__ import annotations

import re

import pytest

from combine_app.workflows.diff import content_hash
from tests.conftest import csrf_token_from
from tests.web.test_workflow_pages import (
    assign,
    form_fields,
    get_page,
    instance_row,
    project_url,
    save_edit,
    text,
)
from tests.workflows.instance_support import source

STALE_RESTORE = (
    "This workflow was changed since you opened this page (now revision {now}). Check the "
    "preview below again, then restore."
)
TOO_LONG = "At most 1000 characters."
# Moving product_discovery (first) down, in the words every page uses for it.
SWAP = "product_discovery and requirements_definition swapped places (positions 1 and 2)"


@pytest.fixture
def project(alice, make_project):
    """A project of alice's without a workflow."""
    return make_project(alice, "Revisions")


@pytest.fixture
def signed_in(login, alice):
    """alice signed in; the CSRF token of her session."""
    return login(alice)


@pytest.fixture
def assigned(client, signed_in, project):
    """alice's project with software_product_development 1.1.0 assigned."""
    assert assign(client, signed_in, project).status_code == 302
    return project


def revision_url(project, number: int) -> str:
    return f"{project_url(project)}/workflow/revisions/{number}"


def test_saving_with_a_reason_shows_it_in_the_history_with_the_revision_links(client, assigned):
    response = save_edit(client, assigned, "down:0", reason="  Discovery after requirements ")
    assert response.status_code == 302
    page = get_page(client, project_url(assigned))
    shown = text(page)
    assert "Reason: Discovery after requirements" in shown
    assert f'href="{revision_url(assigned, 2)}"' in page
    assert "View this revision" in shown and "Compare with the one before" in shown
    compare = re.search(
        r'href="([^"]*/workflow/compare\?[^"]*)"[^>]*>Compare with the one before', page
    )
    assert compare and "from=1" in compare.group(1) and "to=2" in compare.group(1)


def test_a_reason_over_1000_characters_is_refused_next_to_the_field(client, assigned, db_session):
    response = save_edit(client, assigned, "down:0", reason="r" * 1001)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert re.search(r'id="reason-error"[^>]*>' + re.escape(TOO_LONG), page)
    assert instance_row(db_session, assigned).revision == 1


def test_complete_and_archive_forms_take_a_reason(client, signed_in, assigned, db_session):
    page = get_page(client, project_url(assigned))
    assert 'id="complete-reason"' in page and 'id="archive-reason"' in page
    url = f"{project_url(assigned)}/workflow/complete"
    refused = client.post(
        url, data={"csrf_token": signed_in, "confirm": "yes", "reason": "x" * 1001}
    )
    assert refused.status_code == 422
    assert re.search(
        r'id="complete-reason-error"[^>]*>' + re.escape(TOO_LONG), refused.get_data(as_text=True)
    )
    assert instance_row(db_session, assigned).status == "active"
    done = client.post(url, data={"csrf_token": signed_in, "confirm": "yes", "reason": "Shipped"})
    assert done.status_code == 302
    archived = client.post(
        f"{project_url(assigned)}/workflow/archive",
        data={"csrf_token": signed_in, "confirm": "yes", "reason": "Project closed"},
    )
    assert archived.status_code == 302
    shown = text(get_page(client, project_url(assigned)))
    assert "The workflow is archived." in shown
    assert "Reason: Shipped" in shown and "Reason: Project closed" in shown
    assert instance_row(db_session, assigned).status == "archived"


def test_archive_needs_its_confirmation(client, signed_in, assigned, db_session):
    response = client.post(
        f"{project_url(assigned)}/workflow/archive", data={"csrf_token": signed_in}
    )
    assert response.status_code == 302
    assert "Yes, archive it" in text(client.get(project_url(assigned)).get_data(True))
    assert instance_row(db_session, assigned).status == "active"


def test_revision_page_shows_the_definition_then_and_previews_the_restore(client, assigned):
    save_edit(client, assigned, "remove:5", reason="No release step")
    page = get_page(client, revision_url(assigned, 1))
    shown = text(page)
    assert "Revision 1" in shown and "release_readiness" in shown
    assert "Restore this revision" in shown
    assert "Steps added (1)" in shown  # restoring revision 1 adds the removed step back
    assert restore_form(page)["revision"] == "1"
    two = text(get_page(client, revision_url(assigned, 2)))
    assert "Revision 2 (current)" in two and "Reason No release step" in two
    assert "restoring it would change nothing" in two


def restore_form(page: str) -> dict[str, str]:
    """The restore form's fields."""
    return form_fields(page, "restore-form")


def test_restoring_with_a_reason_makes_a_new_revision_the_history_explains(
    client, assigned, db_session
):
    save_edit(client, assigned, "remove:5")
    page = get_page(client, revision_url(assigned, 1))
    fields = restore_form(page)
    assert fields["revision"] == "1" and fields["current_revision"] == "2"
    response = client.post(
        f"{project_url(assigned)}/workflow/restore",
        data={**fields, "reason": "Keep the release step"},
    )
    assert response.status_code == 302
    shown = text(get_page(client, project_url(assigned)))
    assert "Restored revision 1 as revision 3." in shown
    assert "This change restored revision 1." in shown
    assert "Reason: Keep the release step" in shown
    instance = instance_row(db_session, assigned)
    assert instance.revision == 3
    assert content_hash(instance.effective_workflow) == content_hash(source())


def test_restoring_after_the_workflow_changed_is_refused_with_the_stale_message(
    client, assigned, db_session
):
    save_edit(client, assigned, "remove:5")
    fields = restore_form(get_page(client, revision_url(assigned, 1)))
    save_edit(client, assigned, "down:0")  # someone else saves meanwhile: revision 3
    response = client.post(f"{project_url(assigned)}/workflow/restore", data=fields)
    assert response.status_code == 409
    assert STALE_RESTORE.format(now=3) in text(response.get_data(as_text=True))
    assert instance_row(db_session, assigned).revision == 3


def test_restore_reason_over_the_limit_is_refused_next_to_the_field(client, assigned, db_session):
    save_edit(client, assigned, "remove:5")
    fields = restore_form(get_page(client, revision_url(assigned, 1)))
    response = client.post(
        f"{project_url(assigned)}/workflow/restore", data={**fields, "reason": "r" * 1001}
    )
    assert response.status_code == 422
    assert re.search(
        r'id="restore-reason-error"[^>]*>' + re.escape(TOO_LONG), response.get_data(as_text=True)
    )
    assert instance_row(db_session, assigned).revision == 2


def test_compare_page_lists_the_differences_like_the_drift_summary(client, assigned):
    save_edit(client, assigned, "down:0")
    save_edit(client, assigned, "remove:5")
    shown = text(get_page(client, f"{project_url(assigned)}/workflow/compare?from=1&to=3"))
    assert "From revision 1 to revision 3" in shown
    assert "Steps removed (1)" in shown
    assert "release_readiness Release Readiness, was at the top level (position 6)" in shown
    assert "Steps moved (1)" in shown
    assert f"Steps moved (1) {SWAP}" in shown
    source_side = text(
        get_page(client, f"{project_url(assigned)}/workflow/compare?from=source&to=1")
    )
    assert "No differences" in source_side


def test_compare_page_shows_a_bad_side_next_to_its_field(client, assigned):
    response = client.get(f"{project_url(assigned)}/workflow/compare?from=7&to=current")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert re.search(r'id="side-from-error"[^>]*>Revision 7 does not exist', page)
    bad = client.get(f"{project_url(assigned)}/workflow/compare?from=1&to=later")
    assert bad.status_code == 422
    assert 'id="side-to-error"' in bad.get_data(as_text=True)
    # Both sides wrong: both are told at once, each next to its own picker.
    both = client.get(f"{project_url(assigned)}/workflow/compare?from=later&to=9")
    assert both.status_code == 422
    page = both.get_data(as_text=True)
    assert re.search(r'id="side-from-error"[^>]*>Must be a revision number', page)
    assert re.search(r'id="side-to-error"[^>]*>Revision 9 does not exist', page)
    # What was asked stays chosen in its picker, so the person sees what was wrong.
    assert '<option value="later" selected>later</option>' in page
    empty = client.get(f"{project_url(assigned)}/workflow/compare")
    assert empty.status_code == 200 and "Compare revisions" in text(empty.get_data(as_text=True))


def test_compare_pickers_offer_current_source_and_recent_revisions_with_reasons(client, assigned):
    response = save_edit(client, assigned, "down:0", reason="Discovery goes second")
    assert response.status_code == 302
    page = get_page(client, f"{project_url(assigned)}/workflow/compare")
    picker = re.search(r'<select id="side-from" name="from">(.*?)</select>', page, re.S).group(1)
    values = re.findall(r'<option value="([^"]+)"', picker)
    assert values == ["current", "source", "2", "1"]
    assert "Current (revision 2)" in picker
    assert "Source: software_product_development 1.1.0, as it is now" in picker
    assert re.search(
        r"Revision 2 · \d{4}-\d\d-\d\d \d\d:\d\d · alice: Discovery goes second", picker
    )
    # With no choice yet, From is the revision before the current one and To is current.
    assert '<option value="1" selected>' in picker
    to_picker = re.search(r'<select id="side-to" name="to">(.*?)</select>', page, re.S).group(1)
    assert '<option value="current" selected>' in to_picker


def test_the_api_names_both_missing_revisions_at_once(api, assigned):
    response = api.get(f"/projects/{assigned.project_id}/workflow/compare?from=8&to=9")
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {"from", "to"}


def test_a_revision_that_does_not_exist_is_404(client, assigned):
    assert client.get(revision_url(assigned, 2)).status_code == 404


def test_revision_pages_of_someone_elses_project_are_404(client, assigned, make_user, login):
    client.post("/logout", data={"csrf_token": get_csrf(client)})
    token = login(make_user("bob"))
    assert client.get(revision_url(assigned, 1)).status_code == 404
    assert client.get(f"{project_url(assigned)}/workflow/compare?from=1&to=1").status_code == 404
    restore = client.post(
        f"{project_url(assigned)}/workflow/restore",
        data={"csrf_token": token, "revision": "1", "current_revision": "1"},
    )
    archive = client.post(
        f"{project_url(assigned)}/workflow/archive", data={"csrf_token": token, "confirm": "yes"}
    )
    assert restore.status_code == 404 and archive.status_code == 404


def get_csrf(client) -> str:
    """The CSRF token of the signed-in session."""
    return csrf_token_from(client.get("/projects").get_data(as_text=True))


@pytest.mark.parametrize("action", ["complete", "archive"])
def test_complete_and_archive_from_a_stale_page_are_refused_and_change_nothing(
    client, signed_in, assigned, db_session, action
):
    page = get_page(client, project_url(assigned))
    form_action = f"{project_url(assigned)}/workflow/{action}"
    start = page.index(f'action="{form_action}"')
    form = page[start : page.index("</form>", start)]
    assert 'name="revision" value="1"' in form  # the form carries the revision it shows
    shown = {"revision": "1", "reason": ""}
    save_edit(client, assigned, "remove:5", reason="Someone else's change meanwhile")
    stale = client.post(form_action, data={**shown, "csrf_token": signed_in, "confirm": "yes"})
    assert stale.status_code == 302
    message = "The workflow changed since you read it: it is at revision 2, not 1."
    assert message in text(get_page(client, project_url(assigned)))
    row = instance_row(db_session, assigned)
    assert (row.status, row.revision) == ("active", 2)
    fresh = client.post(
        form_action, data={**shown, "revision": "2", "csrf_token": signed_in, "confirm": "yes"}
    )
    assert fresh.status_code == 302
    assert instance_row(db_session, assigned).status != "active"
