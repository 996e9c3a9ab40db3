"""The help page ("What do these words mean?") and the links to it where its words appear."""

from __future__ import annotations

import re

from tests.web import test_workflow_pages as pages
from tests.web.test_workflow_pages import get_page, project_url, save_edit, text

project, signed_in, assigned = pages.project, pages.signed_in, pages.assigned

WORDS = ("source", "reference", "template", "instance", "revision", "drift", "unexplained")


def test_the_help_page_explains_every_word_the_pages_use_without_signing_in(client):
    response = client.get("/help")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for anchor in WORDS:
        assert f'id="{anchor}"' in page, anchor
    shown = text(page)
    assert "What do these words mean?" in shown
    assert "Accepting a difference records that it is intended" in shown
    assert "one save may record several entries" in shown


def test_the_top_bar_links_to_help_on_every_page(client, assigned):
    for url in ("/projects", project_url(assigned), f"{project_url(assigned)}/workflow/edit"):
        assert '<a class="help-link" href="/help">Help</a>' in get_page(client, url), url


def test_the_drift_summary_and_history_link_to_their_words(client, assigned):
    assert save_edit(client, assigned, **{"f:0:role": "Our Lead"}).status_code == 302
    drift = get_page(client, f"{project_url(assigned)}/workflow/drift")
    assert 'href="/help#unexplained"' in drift
    panel = get_page(client, project_url(assigned))
    assert 'href="/help#revision"' in panel
    assert re.search(r"History <span class=\"muted\">\(2 revisions\)</span>", panel)
    # The standalone drift page is linked from the panel.
    assert f'href="{project_url(assigned)}/workflow/drift"' in panel


def test_field_names_are_shown_as_readable_labels(client, assigned):
    editor = get_page(client, f"{project_url(assigned)}/workflow/edit")
    assert ">Task prompt" in editor and ">task_prompt<" not in editor
    assert save_edit(client, assigned, **{"f:0:task_prompt": "Ours"}).status_code == 302
    assert "changed task prompt of step product_discovery" in text(
        get_page(client, project_url(assigned))
    )
