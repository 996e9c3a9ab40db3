"""A large workflow in the editor, in Chromium: a step's fields come when it is opened, an
edit there is saved, and every other step is kept as it was."""

from __future__ import annotations

import json

import pytest

from combine_app.web.workflow_editor import LAZY_FROM_STEPS
from tests.browser.test_workflow_browser import LAPTOP, create_with_workflow, sign_in
from tests.workflows.instance_support import source, with_step_added

pytestmark = pytest.mark.browser


def test_open_one_step_of_a_large_workflow_edit_it_and_save(live_server, browser, screenshot):
    from playwright.sync_api import expect

    definition = source()
    for number in range(LAZY_FROM_STEPS):
        definition = with_step_added(definition, f"extra_{number:03d}")
    context = browser.new_context(viewport=LAPTOP)
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        sign_in(page, live_server)
        create_with_workflow(page, "Large Editor")
        page.get_by_role("link", name="Edit steps").click()

        # Grow it through the JSON editor, then save: the editor is now a large one.
        page.get_by_text("Edit the whole definition as JSON").click()
        page.locator("#definition_json").fill(json.dumps(definition))
        page.get_by_role("button", name="Apply JSON").click()
        expect(page.locator("[data-notice]")).to_contain_text("Applied the JSON")
        page.get_by_role("button", name="Save changes").click()
        page.wait_for_url(f"{live_server}/projects/LE-001#workflow")
        page.get_by_role("link", name="Edit steps").click()

        step = page.locator('[data-step-id="extra_005"]')
        expect(step.locator('input[name$=":role"]')).to_have_count(0)
        step.get_by_role("button", name="Fields of extra_005…").click()
        role = step.locator('input[name$=":role"]')
        expect(role).to_have_value("Tester 1.0")
        role.fill("Auditor 1.0")
        screenshot(page, "20-large-editor-one-step-open")
        page.get_by_role("button", name="Save changes").click()
        page.wait_for_url(f"{live_server}/projects/LE-001#workflow")
        expect(page.locator("#history")).to_be_visible()
        expect(page.locator(".history").first).to_contain_text(
            "changed role of step extra_005: 'Tester 1.0' → 'Auditor 1.0'"
        )
    finally:
        context.close()
