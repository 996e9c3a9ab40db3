"""Sign-in hardening: throttled failures, the same time for every user name, real sign-out."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from werkzeug.security import check_password_hash

from combine_app.auth.models import SignInFailure, UserSession
from tests.conftest import PASSWORD, csrf_token_from
from tests.support.problems import assert_problem

LIMIT = 10  # the default: 10 failures in 15 minutes


def sign_in(client, username: str, password: str, address: str = "10.0.0.1"):
    """Post the sign-in form from ``address``."""
    client.environ_base["REMOTE_ADDR"] = address
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    return client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}
    )


def failures(db_session) -> int:
    db_session.expire_all()
    return db_session.scalar(select(func.count()).select_from(SignInFailure))


def test_ten_wrong_passwords_for_a_user_then_429_even_for_the_right_one(client, alice, db_session):
    for attempt in range(LIMIT):  # from ever-new addresses: only the user name counts them all
        assert sign_in(client, "alice", "wrong", f"10.1.0.{attempt}").status_code == 401
    refused = sign_in(client, "alice", PASSWORD, "10.2.0.1")
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 15 * 60
    assert "Too many failed sign-ins" in refused.get_data(as_text=True)
    # Another user from a fresh address is not affected.
    assert sign_in(client, "bob_unknown", "wrong", "10.3.0.1").status_code == 401


def test_ten_failures_from_one_address_throttle_every_user_name_from_it(client, alice, db_session):
    for attempt in range(LIMIT):
        assert sign_in(client, f"nobody{attempt}", "wrong", "10.9.9.9").status_code == 401
    assert sign_in(client, "alice", PASSWORD, "10.9.9.9").status_code == 429
    assert sign_in(client, "alice", PASSWORD, "10.9.9.10").status_code == 302


def test_a_throttled_attempt_is_not_counted_and_writes_nothing(client, alice, db_session):
    for attempt in range(LIMIT):
        sign_in(client, "alice", "wrong", f"10.4.0.{attempt}")
    before = failures(db_session)
    assert sign_in(client, "alice", "wrong", "10.4.1.1").status_code == 429
    assert failures(db_session) == before


def test_a_successful_sign_in_clears_the_user_names_failures(client, alice, db_session):
    for attempt in range(LIMIT - 1):
        sign_in(client, "alice", "wrong", f"10.5.0.{attempt}")
    assert sign_in(client, "alice", PASSWORD, "10.5.1.1").status_code == 302
    client.post("/logout", data={"csrf_token": csrf_token_from(client.get("/projects").text)})
    assert sign_in(client, "alice", "wrong", "10.5.2.1").status_code == 401
    assert sign_in(client, "alice", PASSWORD, "10.5.3.1").status_code == 302


def test_failures_are_stored_only_as_hashes(client, db_session):
    sign_in(client, "my secret password typed as name", "x", "10.6.0.1")
    rows = db_session.scalars(select(SignInFailure)).all()
    assert {row.scope for row in rows} == {"user", "address"}
    assert all(len(row.key_hash) == 64 and "secret" not in row.key_hash for row in rows)


def test_bad_api_tokens_are_throttled_per_address_and_good_ones_are_never_checked(
    client, api, count_queries
):
    client.environ_base["REMOTE_ADDR"] = "10.7.0.1"
    for _ in range(LIMIT):
        response = client.get("/api/v1/projects", headers={"Authorization": "Bearer cmb_wrong"})
        assert_problem(response, 401)
    refused = client.get("/api/v1/projects", headers={"Authorization": "Bearer cmb_wrong"})
    assert_problem(refused, 429)
    assert int(refused.headers["Retry-After"]) >= 1
    with count_queries() as statements:
        assert api.get("/projects").status_code == 200  # a valid token still works
    assert not any("sign_in_failures" in statement for statement in statements)


# Timing: an unknown user name costs a password hash too. Checked by the work done (one hash
# check of the configured method either way), never by a clock: timed assertions flake on a
# loaded machine.


def hash_checks(monkeypatch, client, username: str) -> list[str]:
    """The methods of the password hashes checked while ``username`` fails to sign in."""
    methods: list[str] = []

    def spy(stored: str, password: str) -> bool:
        methods.append(stored.split("$", 1)[0])
        return check_password_hash(stored, password)

    monkeypatch.setattr("combine_app.auth.service.check_password_hash", spy)
    monkeypatch.setattr("combine_app.auth.models.check_password_hash", spy)
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login", data={"username": username, "password": "wrong", "csrf_token": token}
    )
    assert response.status_code == 401
    return methods


def test_unknown_and_known_user_names_cost_the_same_hash_check(app, client, make_user, monkeypatch):
    make_user("timed")
    method = app.config["PASSWORD_HASH_METHOD"]
    assert hash_checks(monkeypatch, client, "timed") == [method]
    assert hash_checks(monkeypatch, client, "nobody_at_all") == [method]


# Sign-out ends the session.


def test_after_sign_out_the_old_cookie_is_refused_on_pages_and_api(client, login, alice):
    token = login(alice)
    old_cookie = client.get_cookie("session").value
    assert client.get("/projects").status_code == 200
    client.post("/logout", data={"csrf_token": token})
    client.set_cookie("session", old_cookie)  # a copy taken before signing out
    page = client.get("/projects")
    assert page.status_code == 302 and "/login" in page.headers["Location"]
    assert_problem(client.get("/api/v1/projects"), 401)


class Browser:
    """A test client of its own whose every request runs in a fresh app context.

    The test's outer app context would otherwise share ``g`` (Flask-Login's cached user,
    Flask-WTF's token) between all clients, as no two real browsers ever do.
    """

    def __init__(self, app):
        self.app = app
        self.client = app.test_client()

    def open(self, path: str, method: str = "GET", **kwargs):
        """One request, as a browser of its own sends it."""
        with self.app.app_context():
            return self.client.open(path, method=method, **kwargs)

    def sign_in(self, username: str) -> str:
        """Sign in through the form; the CSRF token of the new session."""
        token = csrf_token_from(self.open("/login").get_data(as_text=True))
        data = {"username": username, "password": PASSWORD, "csrf_token": token}
        assert self.open("/login", "POST", data=data).status_code == 302
        return csrf_token_from(self.open("/projects").get_data(as_text=True))


def test_sign_out_everywhere_ends_every_session_of_the_user(app, make_user, db_session):
    make_user("carol")
    make_user("bob")
    laptop, phone, bobs = Browser(app), Browser(app), Browser(app)
    token = laptop.sign_in("carol")
    phone.sign_in("carol")
    bobs.sign_in("bob")
    response = laptop.open("/logout/everywhere", "POST", data={"csrf_token": token})
    assert response.status_code == 302
    assert "Signed out of 2 sessions" in laptop.open("/login").get_data(as_text=True)
    for browser in (laptop, phone):
        page = browser.open("/projects")
        assert page.status_code == 302 and "/login" in page.headers["Location"]
    assert bobs.open("/projects").status_code == 200  # someone else's session stays


def test_signing_in_creates_one_session_row_and_signing_out_removes_it(
    client, login, alice, db_session
):
    token = login(alice)
    db_session.expire_all()
    assert db_session.scalar(select(func.count()).select_from(UserSession)) == 1
    client.post("/logout", data={"csrf_token": token})
    db_session.expire_all()
    assert db_session.scalar(select(func.count()).select_from(UserSession)) == 0


@pytest.mark.parametrize("path", ["/logout", "/logout/everywhere"])
def test_sign_out_needs_the_csrf_token(client, login, alice, path):
    login(alice)
    assert client.post(path).status_code == 403
    assert client.get("/projects").status_code == 200
