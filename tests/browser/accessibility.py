"""axe-core over every page the browser tests visit, every section opened, no violation allowed.

``watch_accessibility(context)`` is called once per browser context by the ``browser`` fixture, so
every page of every test is checked without the test asking for it: each document is checked
before the test's first action or assertion on it, and again after its content changes (a
section loaded in place, an editor control's result), and the last state of each page is
checked when its context closes. A violation fails the test with axe's findings: raised by the
test's next Playwright call after the action the check ran before (Playwright's rule for an
error in a handler), or by the context's close. The axe-core file comes from npm (package.json
at the top of the repository; ``make install-dev`` installs it).
"""

from __future__ import annotations

import os
import sys
from functools import cache

import pytest

from tests.conftest import REPO_ROOT

AXE_CORE = REPO_ROOT / "node_modules" / "axe-core" / "axe.min.js"
# The <html> of a document axe has checked carries this until its content changes again.
CHECKED = "data-axe-checked"

# Run in the page: open every closed <details> (their toggle events are held back, so a section
# that loads its body on opening does not fetch for the check), run axe over the whole document,
# close them again, and mark the document checked unless the page itself changed meanwhile. A
# MutationObserver, started on the first check, takes the mark off at the page's next change.
CHECK_SCRIPT = """
async (checked) => {
  const root = document.documentElement;
  const opened = Array.from(document.querySelectorAll("details:not([open])"));
  const settled = new Set();
  const holdBack = (event) => {
    if (!opened.includes(event.target)) return;
    event.stopImmediatePropagation();
    if (!event.target.open) settled.add(event.target);
  };
  const ours = (record) =>
    (record.type === "attributes" && record.attributeName === checked) ||
    (record.type === "attributes" && record.attributeName === "open" &&
      opened.includes(record.target));
  if (!window.__axeObserver) {
    window.__axeObserver = new MutationObserver((records) => {
      if (records.every(ours)) return;
      if (window.__axeChecking) window.__axePageChanged = true;
      else root.removeAttribute(checked);
    });
    window.__axeObserver.observe(document, {
      subtree: true, childList: true, characterData: true, attributes: true,
    });
  }
  window.__axeChecking = true;
  window.__axePageChanged = false;
  window.addEventListener("toggle", holdBack, true);
  opened.forEach((details) => { details.open = true; });
  try {
    const result = await axe.run(document, { resultTypes: ["violations"] });
    return result.violations.map((violation) => ({
      id: violation.id,
      impact: violation.impact,
      help: violation.help,
      targets: violation.nodes.map((node) => node.target.join(" ")),
    }));
  } finally {
    opened.forEach((details) => { details.open = false; });
    // Wait (a second at most) for the closing toggle events, so that none reaches the page's
    // own listeners; a <details> the page replaced meanwhile sends none that could.
    for (let waits = 0; waits < 100; waits++) {
      if (opened.every((details) => settled.has(details) || !details.isConnected)) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    window.removeEventListener("toggle", holdBack, true);
    const pending = window.__axeObserver.takeRecords();
    if (!pending.every(ours)) window.__axePageChanged = true;
    window.__axeChecking = false;
    if (!window.__axePageChanged) root.setAttribute(checked, "");
  }
}
"""
# A document that goes away while it is checked (the test's last click navigated) is not an
# error: its successor is checked in turn.
GONE = ("Execution context was destroyed", "Target page, context or browser has been closed")


@cache
def axe_source() -> str:
    """axe.min.js as installed by npm; skips (or fails under COMBINE_REQUIRE_BROWSER=1)."""
    if not AXE_CORE.is_file():
        message = (
            f"axe-core not found at {AXE_CORE.relative_to(REPO_ROOT)}: run `make install-dev` "
            "(npm ci) to install it"
        )
        if os.environ.get("COMBINE_REQUIRE_BROWSER") == "1":
            pytest.fail(f"COMBINE_REQUIRE_BROWSER=1 but {message}.")
        pytest.skip(f"{message}; browser tests skipped.")
    return AXE_CORE.read_text(encoding="utf-8")


def describe(url: str, violations: list[dict], shown: int = 10) -> str:
    """One paragraph per violated rule: its id, impact and what it asks, then the selectors of
    the elements that break it (the first ``shown`` of them)."""
    lines = [f"axe-core found {len(violations)} violated rule(s) on {url}:"]
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
        targets = violation["targets"]
        lines.extend(f"    {target}" for target in targets[:shown])
        if len(targets) > shown:
            lines.append(f"    … and {len(targets) - shown} more")
    return "\n".join(lines)


def check_page(page) -> None:
    """Check ``page`` as it is now, its <details> opened; fail listing every violation."""
    from playwright.sync_api import Error

    try:
        if page.evaluate("() => typeof window.axe") == "undefined":
            page.evaluate(axe_source())
        violations = page.evaluate(CHECK_SCRIPT, CHECKED)
    except Error as error:
        if any(reason in str(error) for reason in GONE):
            return
        raise
    assert not violations, describe(page.url, violations)


def check_if_changed(page) -> None:
    """Check ``page`` unless its document is unchanged since its last check."""
    from playwright.sync_api import Error

    try:
        unchecked = page.evaluate("(mark) => !document.documentElement.hasAttribute(mark)", CHECKED)
    except Error:
        return  # closed or navigating away: nothing left to check
    if unchecked:
        check_page(page)


def watch_accessibility(context) -> None:
    """Check every page of ``context`` as the test goes along and when the context closes."""

    def watch(page) -> None:
        # Playwright runs a locator handler before an action or an auto-waiting assertion
        # whenever its locator matches: here, whenever the document is not checked as it is.
        page.add_locator_handler(
            page.locator(f"html:not([{CHECKED}])"),
            lambda: check_page(page),
            no_wait_after=True,
        )

    context.on("page", watch)
    # Wrapped on the object itself, so that page.context.close() checks too (the same object).
    close = context.close

    def close_after_checking(*args, **kwargs):
        try:
            # After a failure the test's own error is the one to read: no second report.
            if sys.exc_info()[1] is None:
                for page in context.pages:
                    check_if_changed(page)
        finally:
            close(*args, **kwargs)

    context.close = close_after_checking
