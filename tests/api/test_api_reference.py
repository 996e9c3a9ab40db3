"""The browsable API reference page: behind sign-in, its assets served by the app itself."""

from __future__ import annotations

import re

from swagger_ui_bundle import swagger_ui_path

REFERENCE = "/api-reference/"


def test_reference_page_needs_sign_in(client):
    response = client.get(REFERENCE)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    asset = client.get(REFERENCE + "swagger-ui/swagger-ui-bundle.js")
    assert asset.status_code == 302


def test_reference_page_loads_only_local_assets_and_points_at_the_document(client, login, alice):
    login(alice)
    page = client.get(REFERENCE)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-spec-url="/api/v1/openapi.json"' in html
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and all(source.startswith("/") for source in sources), sources
    for source in sources:
        with client.get(source) as response:
            assert response.status_code == 200, source
            assert response.get_data(), source


def test_reference_assets_are_the_packaged_swagger_ui_and_nothing_else(client, login, alice):
    login(alice)
    with client.get(REFERENCE + "swagger-ui/swagger-ui-bundle.js") as response:
        assert response.status_code == 200
        assert response.get_data() == (swagger_ui_path / "swagger-ui-bundle.js").read_bytes()
    assert client.get(REFERENCE + "swagger-ui/index.html").status_code == 404
    assert client.get(REFERENCE + "swagger-ui/..%2Fsetup.cfg").status_code == 404
