"""The side-by-side page: two versions in two columns, its pickers, its errors and its links."""

from __future__ import annotations

import html
import re

import pytest

from tests.conftest import csrf_token_from
from tests.web.test_workflow_pages import get_page, text
from tests.workflows.deviation_support import assign
from tests.workflows.instance_support import (
    source,
    with_step_added,
    with_step_field,
    with_step_moved_first,
    with_step_removed,
)

NOT_A_SIDE = "Must be a revision number (1, 2, ...), 'current' or 'source'."


@pytest.fixture
def key(api, alice, make_project) -> str:
    """alice's project with SPD 1.1.0 assigned (revision 1)."""
    project = make_project(alice)
    assign(api, project.project_id)
    return project.project_id


@pytest.fixture
def edited(api, key, login, alice) -> str:
    """Revision 2: solution_architecture moved first and given another prompt, release_readiness
    removed, security_review added at the end, two roles changed (one of a nested step); alice
    signed in to the pages."""
    definition = with_step_moved_first(source(), "solution_architecture")
    definition = with_step_field(definition, "solution_architecture", "task_prompt", "Arch v2")
    definition = with_step_removed(definition, "release_readiness")
    definition = with_step_added(definition, "security_review")
    definition = with_step_field(definition, "requirements_definition", "role", "Lead Analyst")
    definition = with_step_field(definition, "code_review", "role", "Staff Engineer 1.0")
    response = api.put(f"/projects/{key}/workflow", json={"effective_workflow": definition})
    assert response.status_code == 200, response.get_json()
    login(alice)
    return key


def url(key: str, **sides: str) -> str:
    query = "&".join(f"{name}={value}" for name, value in sides.items())
    return f"/projects/{key}/workflow/side-by-side" + (f"?{query}" if query else "")


def rows(page: str) -> dict[str, tuple[list[str], str]]:
    """Each row by its id: its classes and its text, in page order."""
    found = re.finditer(r'<tr id="([^"]+)"\s+class="([^"]+)">(.*?)</tr>', page, re.S)
    return {match[1]: (match[2].split(), text(match[3])) for match in found}


def field_error(page: str, name: str) -> str | None:
    """The message shown next to the ``name`` picker, if any."""
    found = re.search(rf'id="side-{name}-error"[^>]*>(.*?)</p>', page, re.S)
    return text(found[1]) if found else None


def test_the_source_and_the_current_revision_side_by_side_by_default(client, edited):
    page = get_page(client, url(edited))
    heading = "From the source software_product_development 1.1.0 (as it is now) to the current"
    assert f"{heading} revision (2)" in text(page)
    shown = rows(page)
    # The right column follows the current revision; what left it stands where it was.
    assert list(shown) == [
        "to-solution_architecture",
        "s-product_discovery",
        "s-requirements_definition",
        "from-solution_architecture",
        "s-delivery_planning",
        "s-per_epic",
        "s-story_breakdown",
        "s-epic_implementation",
        "s-code_review",
        "from-release_readiness",
        "to-security_review",
    ]
    classes, words = shown["to-security_review"]
    assert "row-added" in classes and "Added" in words and "Role Tester 1.0" in words
    classes, words = shown["from-release_readiness"]
    assert "row-removed" in classes and "Removed" in words
    assert words.startswith("From 6 Release Readiness release_readiness")
    for row_id in ("from-solution_architecture", "to-solution_architecture"):
        classes, words = shown[row_id]
        assert {"row-moved", "row-modified"} <= set(classes) and "Moved Modified" in words
        assert "solution_architecture moved from position 3 to 1." in words
    assert "Where it is now" in shown["from-solution_architecture"][1]
    assert "Where it was" in shown["to-solution_architecture"][1]
    classes, words = shown["s-requirements_definition"]
    assert "row-modified" in classes
    assert "Role Business Analyst 1.0 Modified" in words and words.endswith("Role Lead Analyst")
    classes, words = shown["s-code_review"]
    assert {"row-modified", "depth-2"} <= set(classes)
    assert "Technical Lead 1.0" in words and "Staff Engineer 1.0" in words
    classes, words = shown["s-product_discovery"]
    assert "row-same" in classes and "depth-1" in classes


def test_any_two_revisions_either_way_round(client, edited):
    forward = rows(get_page(client, url(edited, **{"from": "1", "to": "2"})))
    backward = rows(get_page(client, url(edited, **{"from": "2", "to": "current"})))
    assert "row-added" in forward["to-security_review"][0]
    reverse = rows(get_page(client, url(edited, **{"from": "2", "to": "1"})))
    assert "row-removed" in reverse["from-security_review"][0]
    assert "row-added" in reverse["to-release_readiness"][0]
    assert all(classes.count("row-same") == 1 for classes, _ in backward.values())
    assert "No differences: both hold the same workflow." in text(
        get_page(client, url(edited, **{"from": "2", "to": "current"}))
    )


def test_both_bad_sides_are_refused_at_once_each_next_to_its_own_field(client, edited):
    response = client.get(url(edited, **{"from": "later", "to": "9"}))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert field_error(page, "from") == NOT_A_SIDE
    assert field_error(page, "to") == "Revision 9 does not exist: the workflow is at revision 2."
    both_missing = client.get(url(edited, **{"from": "7", "to": "9"}))
    assert both_missing.status_code == 422
    page = both_missing.get_data(as_text=True)
    assert field_error(page, "from").startswith("Revision 7 does not exist")
    assert field_error(page, "to").startswith("Revision 9 does not exist")
    assert "<table" not in page


def test_the_compare_page_checks_both_sides_at_once_too(client, edited):
    response = client.get(f"/projects/{edited}/workflow/compare?from=7&to=9")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert field_error(page, "from").startswith("Revision 7 does not exist")
    assert field_error(page, "to").startswith("Revision 9 does not exist")


def test_someone_elses_project_is_404(client, edited, make_user, login):
    client.post("/logout", data={"csrf_token": csrf_token_from(get_page(client, "/projects"))})
    login(make_user("bob"))
    assert client.get(url(edited)).status_code == 404
    assert client.get(url(edited, **{"from": "1", "to": "2"})).status_code == 404


def test_the_drift_summary_history_and_compare_link_to_it(client, edited):
    source_side = html.escape(url(edited, **{"from": "source", "to": "current"}))
    drift = get_page(client, f"/projects/{edited}/workflow/drift")
    assert f'href="{source_side}">Side by side with the source' in drift
    fragment = get_page(client, f"/projects/{edited}/workflow/drift?partial=1")
    assert f'href="{source_side}">Side by side with the source' in fragment
    project = get_page(client, f"/projects/{edited}")
    assert f'href="{source_side}">Side by side with the source' in project
    one_before = html.escape(url(edited, **{"from": "1", "to": "2"}))
    assert f'href="{one_before}">Side by side with the one before' in project
    compare = get_page(client, f"/projects/{edited}/workflow/compare?from=1&to=current")
    same_sides = html.escape(url(edited, **{"from": "1", "to": "current"}))
    assert f'href="{same_sides}">Show side by side' in compare
