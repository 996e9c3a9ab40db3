"""Sign-in throttling and sign-out under real gunicorn: two replicas of two workers each.

The replicas share one PostgreSQL database and sit behind a (simulated) proxy that reports the
client address in X-Forwarded-For, so each test speaks for clients of its own addresses.
"""

from __future__ import annotations

import pytest

from tests.support.form_session import FormSession
from tests.support.served import call, serve_fresh_database

pytestmark = pytest.mark.server

PASSWORD = "correct horse battery"
LIMIT = 10


@pytest.fixture(scope="module")
def replicas(postgres_admin_url, tmp_path_factory):
    """Two gunicorn arbiters (2 workers each) on one database; alice's token."""
    log_dir = tmp_path_factory.mktemp("gunicorn")
    with serve_fresh_database(
        postgres_admin_url,
        log_dir,
        workers=2,
        password=PASSWORD,
        replicas=2,
        settings={"COMBINE_PROXY_HOPS": "1"},
    ) as served:
        yield served


def test_a_cookie_signed_out_on_one_replica_is_refused_by_the_other(replicas):
    servers, _ = replicas
    browser = FormSession(servers[0].port, forwarded_for="203.0.113.10")
    assert browser.sign_in("alice", PASSWORD) == 302
    copied = dict(browser.cookies)
    elsewhere = FormSession(servers[1].port, forwarded_for="203.0.113.10")
    elsewhere.cookies = dict(copied)
    assert elsewhere.request("GET", "/projects")[0] == 200  # the same session on the other one
    token = elsewhere.csrf_token("/projects")
    assert elsewhere.request("POST", "/logout", {"csrf_token": token})[0] == 302
    stale = FormSession(servers[0].port, forwarded_for="203.0.113.10")
    stale.cookies = copied
    status, headers, _ = stale.request("GET", "/projects")
    assert status == 302 and "/login" in headers["Location"]
    assert call(servers[0].port, "GET", "/api/v1/projects", headers=stale_cookie(copied))[0] == 401


def stale_cookie(cookies: dict[str, str]) -> dict[str, str]:
    return {"Cookie": "; ".join(f"{name}={value}" for name, value in cookies.items())}


def test_failures_spread_over_replicas_and_workers_add_up_to_one_throttle(replicas):
    servers, _ = replicas
    for attempt in range(LIMIT):  # fresh connections from fresh addresses, alternating replicas
        browser = FormSession(servers[attempt % 2].port, forwarded_for=f"198.51.100.{attempt}")
        assert browser.sign_in("alice", f"wrong {attempt}") == 401
    for server in servers:
        browser = FormSession(server.port, forwarded_for="198.51.100.200")
        token = browser.csrf_token("/login")
        status, headers, page = browser.request(
            "POST", "/login", {"username": "alice", "password": PASSWORD, "csrf_token": token}
        )
        assert status == 429 and int(headers["Retry-After"]) >= 1
        assert "Too many failed sign-ins" in page
    for server in servers:
        assert "Traceback" not in server.log()


def test_bad_tokens_from_one_address_are_throttled_across_replicas(replicas):
    servers, token = replicas
    address = {"X-Forwarded-For": "192.0.2.7"}
    statuses = [
        call(servers[n % 2].port, "GET", "/api/v1/projects", token="cmb_wrong", headers=address)[0]
        for n in range(LIMIT + 1)
    ]
    assert statuses == [401] * LIMIT + [429]
    # Only failures are counted and checked: the right token from there still works.
    assert call(servers[1].port, "GET", "/api/v1/projects", token=token, headers=address)[0] == 200
