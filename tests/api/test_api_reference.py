"""The browsable API reference page: behind sign-in, every operation and schema of the served
document on it, in the app's layout, loading nothing but the app's own files."""

from __future__ import annotations

import html
import re

from combine_app.api.openapi import openapi_document
from combine_app.api.reference_outline import HTTP_METHODS

REFERENCE = "/api-reference/"


def test_reference_page_needs_sign_in(client):
    response = client.get(REFERENCE)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_every_operation_and_schema_of_the_document_has_its_section(app, client, login, alice):
    login(alice)
    page = client.get(REFERENCE)
    assert page.status_code == 200
    text = html.unescape(page.get_data(as_text=True))
    with app.app_context():
        document = openapi_document()
    operations = [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS
    ]
    assert len(operations) > 20
    for method, path, operation in operations:
        section = re.search(
            rf'<section class="operation" id="{operation["operationId"]}">(.*?)</section>',
            text,
            re.S,
        )
        assert section, operation["operationId"]
        assert f">{method.upper()}</span> <code>{path}</code>" in section.group(1)
        for status in operation["responses"]:
            assert f"<td><code>{status}</code></td>" in section.group(1), (path, status)
    for name in document["components"]["schemas"]:
        assert f'id="schema-{name}"' in text, name


def test_reference_page_has_the_app_layout_and_loads_only_local_files(client, login, alice):
    login(alice)
    text = client.get(REFERENCE).get_data(as_text=True)
    assert '<header class="topbar">' in text
    assert f'<a href="{REFERENCE}">API reference</a>' in text  # the top bar links to it
    assert "<script" not in text
    links = re.findall(r'(?:src|href|action)="([^"#][^"]*)"', text)
    assert links and all(link.startswith("/") for link in links), links
    assets = re.findall(r'<(?:link|img|script)\b[^>]*\b(?:src|href)="([^"]+)"', text)
    assert assets
    for asset in assets:
        with client.get(asset) as response:
            assert response.status_code == 200, asset
    anchors = set(re.findall(r'href="#([^"]+)"', text))
    ids = set(re.findall(r'id="([^"]+)"', text))
    assert anchors and anchors <= ids, anchors - ids


def test_the_top_bar_of_every_signed_in_page_links_to_the_reference(client, login, alice):
    assert "API reference" not in client.get("/login").get_data(as_text=True)
    login(alice)
    assert f'<a href="{REFERENCE}">API reference</a>' in client.get("/projects").get_data(
        as_text=True
    )
