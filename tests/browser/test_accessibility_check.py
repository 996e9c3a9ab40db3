"""The axe-core check every browser test gets (tests/browser/accessibility.py) catches what it
should: a violation added after the page loaded, one inside a closed <details> (opened for the
check without the page's toggle listeners noticing), and one left on the page at the end."""

from __future__ import annotations

import pytest

from tests.browser.test_workflow_browser import LAPTOP

pytestmark = pytest.mark.browser

# An image without a text alternative: axe's image-alt rule (critical).
NO_ALT = '<img src="data:,">'


def test_a_change_after_loading_is_checked_before_the_next_action(live_server, browser):
    context = browser.new_context(viewport=LAPTOP)
    page = context.new_page()
    try:
        page.goto(f"{live_server}/login")
        page.get_by_label("Username").fill("alice")  # the page as served passes
        page.evaluate(
            "(html) => document.querySelector('main').insertAdjacentHTML('beforeend', html)", NO_ALT
        )
        with pytest.raises(AssertionError, match=r"image-alt \(critical\)"):
            page.get_by_label("Password").fill("x")
            page.title()  # Playwright raises a handler's error in the call after its action
    finally:
        context.close()


def test_closed_sections_are_opened_for_the_check_and_closed_again_unnoticed(live_server, browser):
    context = browser.new_context(viewport=LAPTOP)
    page = context.new_page()
    try:
        page.goto(f"{live_server}/login")
        page.evaluate(
            """(html) => {
              const main = document.querySelector("main");
              const more = `<details><summary>More</summary>${html}</details>`;
              main.insertAdjacentHTML("beforeend", more);
              window.toggles = 0;
              main.querySelector("details").addEventListener("toggle", () => { window.toggles++; });
            }""",
            NO_ALT,
        )
        with pytest.raises(AssertionError, match="image-alt"):
            page.get_by_label("Username").fill("alice")
            page.title()
        assert page.evaluate("document.querySelector('main details').open") is False
        page.wait_for_timeout(100)  # a toggle event let through would have arrived by now
        assert page.evaluate("window.toggles") == 0
    finally:
        context.close()


def test_the_last_state_of_a_page_is_checked_when_its_context_closes(live_server, browser):
    context = browser.new_context(viewport=LAPTOP)
    page = context.new_page()
    page.goto(f"{live_server}/login")
    page.evaluate(
        "(html) => document.querySelector('main').insertAdjacentHTML('beforeend', html)", NO_ALT
    )
    with pytest.raises(AssertionError, match="image-alt"):
        page.context.close()
    assert context.pages == []  # closed all the same
