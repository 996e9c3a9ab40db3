"""One order change, the same words on every page that shows it: the editor's notice and
Unsaved changes, the history, the drift summary, compare and the restore preview."""

from __future__ import annotations

from tests.web.test_deviation_request_pages import team
from tests.web.test_revision_pages import assigned, project, revision_url, signed_in
from tests.web.test_workflow_pages import (
    editor_post,
    form_fields,
    get_page,
    project_url,
    text,
)
from tests.workflows.deviation_support import request, workflow_url

__all__ = ["assigned", "project", "signed_in", "team"]  # fixtures shared with other pages

# Down on solution_architecture (third): it and delivery_planning swap places. The diff records
# delivery_planning as the step that moved; no page may name only that one.
SWAPPED = "delivery_planning and solution_architecture swapped places (positions 3 and 4)"


def test_a_swap_of_neighbours_reads_the_same_on_every_page(client, assigned):
    editor = get_page(client, f"{project_url(assigned)}/workflow/edit")
    moved = editor_post(client, assigned, form_fields(editor), "down:2")
    shown = text(moved.get_data(as_text=True))
    assert f"Moved step solution_architecture down: {SWAPPED}." in shown
    assert f"You reordered the steps: {SWAPPED}" in shown

    saved = editor_post(
        client, assigned, form_fields(moved.get_data(as_text=True)), "save", reason="Plan first"
    )
    assert saved.status_code == 302
    assert f"alice reordered the steps: {SWAPPED}" in text(get_page(client, project_url(assigned)))

    drift = text(get_page(client, f"{project_url(assigned)}/workflow/drift"))
    assert f"Steps moved (1) {SWAPPED}" in drift
    for sides in ("from=1&to=2", "from=source&to=current", "from=2&to=1"):
        compared = text(get_page(client, f"{project_url(assigned)}/workflow/compare?{sides}"))
        assert f"Steps moved (1) {SWAPPED}" in compared, sides
    # Restoring revision 1 undoes the swap: the same two steps, the same words.
    assert f"Steps moved (1) {SWAPPED}" in text(get_page(client, revision_url(assigned, 1)))

    for page in (shown, drift):
        assert "delivery_planning moved" not in page and "solution_architecture moved" not in page


def test_a_request_to_accept_a_swap_reads_the_same_where_it_waits_for_a_decision(team):
    api = team.api["bob"]
    current = api.get(workflow_url(team.key)).get_json()["effective_workflow"]
    steps = current["steps"]
    steps[2], steps[3] = steps[3], steps[2]
    assert api.put(workflow_url(team.key), json={"effective_workflow": current}).status_code == 200
    items = api.get(f"{workflow_url(team.key)}/drift").get_json()["items"]
    (moved,) = [item["key"] for item in items if item["kind"] == "step_moved"]
    assert request(api, team.key, moved, reason="Plan first.").status_code == 201
    assert SWAPPED in text(team.browser("carol").page("/decisions"))
    assert SWAPPED in text(team.browser("carol").page(team.drift_url))
