"""Three people govern one workflow in headless Chromium: alice adds bob as editor and carol as
approver; bob edits and asks for the acceptance; carol approves it from her waiting page."""

from __future__ import annotations

import pytest

from tests.browser.test_deviations_browser import edit_first_role
from tests.browser.test_workflow_browser import LAPTOP, create_with_workflow
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

ROLE_KEY = "step_modified:product_discovery:role"


def signed_in(browser, base_url: str, username: str):
    """A new browser context with ``username`` signed in through the form; its page."""
    context = browser.new_context(viewport=LAPTOP)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{base_url}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base_url}/projects")
    return page


def add_member(page, project_url: str, username: str, role: str) -> None:
    """The owner adds a member from the project page's Members section."""
    from playwright.sync_api import expect

    page.goto(project_url)
    members = page.locator("#members")
    members.get_by_label("Username").fill(username)
    members.get_by_label("Role", exact=True).select_option(role)
    members.get_by_role("button", name="Add member").click()
    page.wait_for_url(f"{project_url}#members")
    expect(page.locator(".flash-success")).to_have_text(f"Added {username} as {role}.")
    expect(page.locator("#members tbody")).to_contain_text(username)


def test_an_editor_requests_and_a_second_person_approves_from_the_waiting_page(
    live_server, browser, screenshot
):
    from playwright.sync_api import expect

    alice = signed_in(browser, live_server, "alice")
    bob = signed_in(browser, live_server, "bob")
    carol = signed_in(browser, live_server, "carol")
    try:
        project_url = create_with_workflow(alice, "Governed Together")
        add_member(alice, project_url, "bob", "editor")
        add_member(alice, project_url, "carol", "approver")
        alice.locator("#policy").get_by_label(
            "Four-eyes: a second person decides every request"
        ).check()
        alice.locator("#policy").get_by_role("button", name="Save policy").click()
        expect(alice.locator("#policy")).to_contain_text("Four-eyes: on.")
        screenshot(alice, "requests-01-assigned")

        bob.goto(project_url)
        edit_first_role(bob, "Our Product Lead")
        bob.goto(f"{project_url}/workflow/drift")
        item = bob.locator(f'li[data-key="{ROLE_KEY}"]')
        item.get_by_text("Request acceptance…").click()
        item.get_by_label("Why is this difference intended?").fill(
            "This team has a product lead, not a product manager."
        )
        item.get_by_role("button", name="Request acceptance", exact=True).click()
        bob.wait_for_url("**/workflow/drift")
        expect(bob.locator(".flash-success")).to_have_text(
            "Requested: an approver or owner must now decide."
        )
        item = bob.locator(f'li[data-key="{ROLE_KEY}"]')
        expect(item).to_contain_text("Acceptance requested by bob")
        expect(item.get_by_role("button", name="Approve")).to_have_count(0)
        expect(item.locator(".decision-refusal")).to_have_text(
            "This needs the role approver or owner."
        )
        expect(bob.locator(".badges")).to_contain_text("Drifted (1 unexplained)")
        screenshot(bob, "requests-02-bob-waits")

        carol.goto(f"{live_server}/projects")
        waiting = carol.locator(".waiting-link")
        expect(waiting.locator(".count")).to_have_text("1")
        waiting.click()
        carol.wait_for_url("**/decisions")
        entry = carol.locator(f'li[data-key="{ROLE_KEY}"]')
        expect(entry).to_contain_text("This team has a product lead, not a product manager.")
        expect(entry).to_contain_text("Acceptance requested by bob")
        screenshot(carol, "requests-03-carol-waiting")
        entry.get_by_label("Note (optional)").fill("Agreed with the product lead.")
        entry.get_by_role("button", name="Approve").click()
        carol.wait_for_url("**/decisions")
        expect(carol.locator(".flash-success")).to_have_text(
            "Approved: the difference is explained."
        )
        expect(waiting.locator(".count")).to_have_text("0")
        expect(carol.locator("main")).to_contain_text("Nothing is waiting for you")

        carol.goto(project_url)
        badges = carol.locator("#workflow .badges")
        expect(badges).to_contain_text("Deviations accepted")
        expect(badges).not_to_contain_text("Drifted")
        bob.goto(f"{project_url}/workflow/drift")
        accepted = bob.locator("details.drift-accepted")
        accepted.locator("summary").click()
        expect(accepted).to_contain_text("accepted by carol")
        expect(accepted).to_contain_text("requested by bob")
        expect(accepted.get_by_role("button", name="Withdraw")).to_have_count(0)
        screenshot(bob, "requests-04-accepted")
    finally:
        for page in (alice, bob, carol):
            page.context.close()
