"""The editor tells workflow.js whether the working copy holds unsaved changes (so leaving can
ask first); without JavaScript the form and its links are as they were."""

from __future__ import annotations

from tests.web.test_revision_pages import assigned, project, signed_in
from tests.web.test_workflow_pages import editor_post, form_fields, get_page, project_url

__all__ = ["assigned", "project", "signed_in"]  # fixtures shared with the revision pages


def test_the_editor_marks_a_working_copy_with_unsaved_changes(client, assigned):
    page = get_page(client, f"{project_url(assigned)}/workflow/edit")
    assert 'data-unsaved="0"' in page
    assert "data-typed hidden" in page  # filled by workflow.js only
    moved = editor_post(client, assigned, form_fields(page), "down:0").get_data(as_text=True)
    assert 'data-unsaved="1"' in moved
    back = editor_post(client, assigned, form_fields(moved), "up:1").get_data(as_text=True)
    assert 'data-unsaved="0"' in back  # moved back: nothing left to lose


def test_cancel_and_start_over_stay_plain_links(client, assigned):
    page = get_page(client, f"{project_url(assigned)}/workflow/edit")
    assert f'href="{project_url(assigned)}#workflow" data-discard>Cancel</a>' in page
    assert f'href="{project_url(assigned)}/workflow/edit" data-discard>Start over</a>' in page
