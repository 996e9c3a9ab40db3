"""The deviation pages on both databases: accept with a reason, see it explained, withdraw."""

from __future__ import annotations

import re

from combine_app.catalog.app_loader import EXTENSION_KEY, get_loader
from combine_app.catalog.loader import PackageLoader
from combine_app.workflows.service import WorkflowInstanceService
from tests.web import test_workflow_pages as pages
from tests.web.test_workflow_pages import get_page, project_url, save_edit, text
from tests.workflows.instance_support import (
    SPD,
    config_with_release_edited,
    find_step,
    source,
    with_step_field,
)

# The workflow pages' fixtures: alice signed in, her project with SPD 1.1.0 assigned.
project, signed_in, assigned = pages.project, pages.signed_in, pages.assigned

ROLE_KEY = "step_modified:product_discovery:role"


def drifted(client, project) -> None:
    """Change the first step's role in the editor and save (one unexplained item)."""
    response = save_edit(client, project, **{"f:0:role": "Our Product Lead"})
    assert response.status_code == 302, text(response.get_data(as_text=True))


def accept(client, token, project, key=ROLE_KEY, reason="We have no product manager."):
    return client.post(
        f"{project_url(project)}/workflow/deviations",
        data={"csrf_token": token, "key": key, "reason": reason},
    )


def badges(page: str) -> str:
    match = re.search(r'<div class="badges">(.*?)</div>', page, re.S)
    assert match, "the page shows no badges"
    return text(match.group(1))


def test_an_unexplained_item_offers_accept_with_a_reason_field(client, assigned):
    drifted(client, assigned)
    assert "Drifted (1 unexplained)" in badges(get_page(client, project_url(assigned)))
    page = get_page(client, f"{project_url(assigned)}/workflow/drift")
    shown = text(page)
    assert "Not explained yet (1)" in shown
    assert "Changed in this project (1)" in shown
    assert (
        "product_discovery Product Discovery: role: 'Product Manager 1.0' → 'Our Product Lead'"
        in (shown)
    )
    assert f'name="key" value="{ROLE_KEY}"' in page
    assert "Why is this difference intended?" in shown
    assert "Accepting records that this difference is intended, with your reason." in shown
    assert "Differences from the source that nobody has accepted." in shown
    assert "Accepted on purpose (" not in shown


def test_accepting_explains_the_item_and_the_badges_say_so(client, signed_in, assigned):
    drifted(client, assigned)
    response = accept(client, signed_in, assigned)
    assert response.status_code == 302
    page = get_page(client, response.headers["Location"])
    shown = text(page)
    assert "Accepted: the difference is explained, with your reason." in shown
    assert "Not explained yet (" not in shown
    assert "Accepted on purpose (1)" in shown
    assert "“We have no product manager.” — accepted by alice on" in shown
    assert "Withdraw" in shown
    assert "Deviations accepted" in badges(get_page(client, project_url(assigned)))
    listing = text(get_page(client, "/projects"))
    assert "Deviations accepted" in listing and "Drifted" not in listing
    history = text(get_page(client, project_url(assigned)))
    assert (
        f"alice accepted the difference {ROLE_KEY} Reason: We have no product manager." in history
    )
    assert history.count("We have no product manager.") == 1  # the reason, said once


def test_changing_the_accepted_step_again_shows_it_unexplained_with_the_old_reason(
    client, signed_in, assigned
):
    drifted(client, assigned)
    accept(client, signed_in, assigned)
    response = save_edit(client, assigned, **{"f:0:role": "Our Product Lead, again"})
    assert response.status_code == 302
    assert "Drifted (1 unexplained)" in badges(get_page(client, project_url(assigned)))
    shown = text(get_page(client, f"{project_url(assigned)}/workflow/drift"))
    assert "Not explained yet (1)" in shown
    assert "Accepted earlier, but changed since: “We have no product manager.” (alice," in shown


def test_withdrawing_makes_it_unexplained_again(client, signed_in, assigned):
    drifted(client, assigned)
    accept(client, signed_in, assigned)
    response = client.post(
        f"{project_url(assigned)}/workflow/deviations/withdraw",
        data={"csrf_token": signed_in, "key": ROLE_KEY},
    )
    assert response.status_code == 302
    shown = text(get_page(client, response.headers["Location"]))
    assert "Withdrawn: the difference is unexplained again." in shown
    assert "Not explained yet (1)" in shown and "Accepted on purpose (" not in shown
    history = text(get_page(client, project_url(assigned)))
    assert f"alice withdrew the acceptance of {ROLE_KEY}" in history


def test_a_blank_reason_is_refused_next_to_the_field_with_the_api_message(
    client, signed_in, assigned
):
    drifted(client, assigned)
    response = accept(client, signed_in, assigned, reason="   ")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    error = re.search(
        r'<p class="field-error" id="(reason-[^"]+)-error" role="alert">(.*?)</p>', page
    )
    assert error and error.group(2) == "A reason is required."
    assert f'id="{error.group(1)}" name="reason"' in page
    assert "Not explained yet (1)" in text(page)


def test_a_too_long_reason_keeps_what_was_typed(client, signed_in, assigned):
    drifted(client, assigned)
    response = accept(client, signed_in, assigned, reason="x" * 1001)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "At most 1,000 characters (this one has 1,001)." in page
    assert ">" + "x" * 1001 + "</textarea>" in page


def test_accepting_in_an_archived_project_is_refused_with_the_api_message(
    client, signed_in, assigned, db_session
):
    drifted(client, assigned)
    client.post(
        f"{project_url(assigned)}/archive", data={"csrf_token": signed_in, "action": "archive"}
    )
    response = accept(client, signed_in, assigned)
    assert response.status_code == 409
    shown = text(response.get_data(as_text=True))
    assert "is archived: its workflow can be read but not changed" in shown
    # A read-only workflow offers no Accept form at all.
    page = get_page(client, f"{project_url(assigned)}/workflow/drift")
    assert "Why is this difference intended?" not in text(page)


def release_board(definition: dict) -> None:
    """The governance team's edit in place: release_readiness gets another role."""
    find_step(definition, "release_readiness")["role"] = "Release Board"


def test_an_in_place_edit_of_the_source_is_grouped_apart_from_the_projects_changes(
    app, client, assigned, tmp_path, monkeypatch
):
    drifted(client, assigned)
    config = config_with_release_edited(tmp_path / "combine-config", release_board)
    monkeypatch.setitem(app.extensions, EXTENSION_KEY, PackageLoader(config))
    page = get_page(client, f"{project_url(assigned)}/workflow/drift")
    groups = dict(
        re.findall(r'<div class="drift-origin drift-origin-(\w+)">(.*?)</div>', page, re.S)
    )
    assert set(groups) == {"instance", "source"}
    assert (
        "product_discovery" in groups["instance"] and "release_readiness" not in groups["instance"]
    )
    assert "release_readiness" in groups["source"] and "product_discovery" not in groups["source"]
    shown = text(page)
    assert "Changed in the source release since it was assigned (not by this project) (1)" in shown
    assert "The source file of software_product_development 1.1.0 has changed" in shown


def test_the_list_shows_each_projects_drift_state_in_a_bounded_number_of_statements(
    client, signed_in, alice, make_project, db_session, count_queries
):
    service = WorkflowInstanceService(db_session, get_loader())

    def add_projects(count: int) -> None:
        for number in range(count):
            project = make_project(alice, f"Listed {number}")
            instance = service.create_instance(project, SPD, "1.1.0", "alice")
            if number % 3 == 1:
                changed = with_step_field(
                    instance.effective_workflow, "product_discovery", "role", "Ours"
                )
                service.update_instance(project, changed, "alice")
        db_session.commit()

    def list_statements() -> tuple[int, str]:
        with count_queries() as statements:
            page = get_page(client, "/projects")
        return len(statements), text(page)

    add_projects(2)
    few, _ = list_statements()
    add_projects(198)
    many, shown = list_statements()
    assert many == few, "the list reads more statements for more projects"
    # The first view computes the drifts it does not find kept, and keeps them.
    assert many <= 10
    assert "In sync" in shown and "Drifted (1 unexplained)" in shown
    # Later views read the kept summaries: no base snapshots, no definitions, no writes.
    kept, shown_again = list_statements()
    assert kept <= 7
    assert shown_again == shown


def test_a_difference_whose_key_is_past_the_limit_is_refused_alike_by_page_and_api(
    client, signed_in, assigned, api
):
    """A field name long enough makes a drift item whose key cannot be accepted: the page
    refuses it next to the item's form with the API's words."""
    field = "f" * 620
    definition = with_step_field(source(), "product_discovery", field, "ours")
    put = api.put(
        f"/projects/{assigned.project_id}/workflow", json={"effective_workflow": definition}
    )
    assert put.status_code == 200, put.get_json()
    key = f"step_modified:product_discovery:{field}"
    by_api = api.post(
        f"/projects/{assigned.project_id}/workflow/deviations", json={"key": key, "reason": "Why."}
    )
    assert by_api.status_code == 422
    (message,) = by_api.get_json()["errors"]["/key"]
    response = accept(client, signed_in, assigned, key=key, reason="Why.")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    error = re.search(r'<p class="field-error" id="key-[^"]+-error" role="alert">(.*?)</p>', page)
    assert error and error.group(1) == message
