"""Security headers on every route, signed in and signed out, pages and API and errors."""

from __future__ import annotations

import re

import pytest

from combine_app.security_headers import CONTENT_SECURITY_POLICY
from tests.conftest import make_app

SPD = "software_product_development"


def concrete_paths(app, key: str) -> list[tuple[str, str]]:
    """One (method, URL) per method of every route, with real values for its arguments."""
    values = {"project_id": key, "filename": "style.css"}
    paths = []
    for rule in app.url_map.iter_rules():
        url = rule.rule
        for name in rule.arguments:
            value = values.get(name, "x")
            url = re.sub(rf"<(?:[^:>]+:)?{name}>", value, url)
        paths.extend((method, url) for method in sorted(rule.methods - {"OPTIONS"}))
    return paths


def check_common(response, where) -> None:
    headers = response.headers
    csp = headers.get("Content-Security-Policy", "")
    assert csp, where
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, where
    assert "frame-ancestors 'none'" in csp, where
    assert headers.get("X-Frame-Options") == "DENY", where
    assert headers.get("X-Content-Type-Options") == "nosniff", where
    assert headers.get("Referrer-Policy") == "same-origin", where


def test_every_route_sends_the_headers_signed_in_and_out(
    app, client, login, alice, make_project, api_for
):
    key = make_project(alice, "Headers").project_id
    api_for(alice).post(f"/projects/{key}/workflow", json={"workflow_id": SPD, "version": "1.1.0"})
    paths = concrete_paths(app, key)
    assert len(paths) >= 30
    for signed_in in (False, True):
        if signed_in:
            login(alice)
        for method, url in paths:
            if url in ("/logout", "/logout/everywhere"):
                continue  # would end the session under test; covered signed out (403, 302)
            response = client.open(url, method=method)
            response.close()  # a static file's response holds the file open
            where = (signed_in, method, url, response.status_code)
            assert response.status_code < 500, where
            check_common(response, where)
            private = url.startswith("/api/") or (signed_in and not url.startswith("/static/"))
            if private:
                assert response.headers.get("Cache-Control") == "no-store", where
            assert "Strict-Transport-Security" not in response.headers, where


def test_errors_and_problem_responses_carry_the_headers(client, db_session):
    response = client.get("/api/v1/projects")
    assert response.status_code == 401
    check_common(response, "401")
    assert response.headers["Cache-Control"] == "no-store"
    check_common(client.get("/no/such/page"), "404")


def test_the_pages_carry_no_inline_script(client, login, alice):
    login(alice)
    for url in ("/projects", "/login"):
        page = client.get(url).get_data(as_text=True)
        assert "<script>" not in page and " on" + "click=" not in page
    assert "script-src 'self'" in CONTENT_SECURITY_POLICY


@pytest.mark.parametrize("hsts", [0, 31536000])
def test_hsts_only_when_set_and_over_https(database_url, hsts):
    app = make_app(database_url, HSTS_SECONDS=hsts)
    client = app.test_client()
    secure = client.get("/healthz", base_url="https://combine.example")
    plain = client.get("/healthz")
    assert "Strict-Transport-Security" not in plain.headers
    if hsts:
        assert secure.headers["Strict-Transport-Security"] == f"max-age={hsts}; includeSubDomains"
    else:
        assert "Strict-Transport-Security" not in secure.headers


def test_behind_a_trusted_proxy_https_is_read_from_x_forwarded_proto(database_url):
    app = make_app(database_url, HSTS_SECONDS=60, PROXY_HOPS=1)
    response = app.test_client().get("/healthz", headers={"X-Forwarded-Proto": "https"})
    assert response.headers["Strict-Transport-Security"].startswith("max-age=60")
