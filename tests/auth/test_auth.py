"""Users and tokens from the command line, bearer and session authentication, signing in/out."""

from __future__ import annotations

import hashlib
import re
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select, text

from combine_app.auth import service as auth_service
from combine_app.auth.models import ApiToken, User
from combine_app.projects.models import Project
from tests.conftest import PASSWORD, csrf_token_from
from tests.support.problems import assert_problem

NEW_PASSWORD = "a long enough password"
PRINTED_USERNAME = re.compile(r"^\s*username: (\S+)$", re.MULTILINE)
PRINTED_PASSWORD = re.compile(r"^\s*password: (\S+)$", re.MULTILINE)


def user_count(db_session) -> int:
    """How many users the database holds."""
    db_session.expire_all()
    return db_session.scalar(select(func.count()).select_from(User))


def project_count(db_session) -> int:
    """How many projects the database holds."""
    db_session.expire_all()
    return db_session.scalar(select(func.count()).select_from(Project))


@pytest.fixture
def cli(app, db_session):
    """Invoke ``flask --app wsgi ...`` commands inside the test's transaction."""
    runner = app.test_cli_runner()

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(args=list(args), input=input)

    return invoke


# --- users create -------------------------------------------------------------------------


def test_users_create_prompts_twice_and_stores_a_working_password(cli, db_session):
    result = cli("users", "create", "carol", input=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert result.output.count("Password") == 1
    assert "Repeat for confirmation" in result.output
    assert "Created user carol." in result.output

    user = auth_service.authenticate("carol", NEW_PASSWORD)
    assert user is not None
    assert user.is_admin is False
    assert NEW_PASSWORD not in user.password_hash


def test_users_create_asks_again_when_the_two_prompts_differ(cli, db_session):
    result = cli(
        "users",
        "create",
        "carol",
        input=f"{NEW_PASSWORD}\nsomething else\n{NEW_PASSWORD}\n{NEW_PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert "do not match" in result.output
    assert auth_service.authenticate("carol", NEW_PASSWORD) is not None


def test_users_create_reads_the_password_from_stdin(cli, db_session):
    result = cli(
        "users", "create", "dave", "--admin", "--password-stdin", input=NEW_PASSWORD + "\n"
    )
    assert result.exit_code == 0, result.output
    assert "Password" not in result.output
    assert "Created administrator dave." in result.output
    user = auth_service.authenticate("dave", NEW_PASSWORD)
    assert user is not None
    assert user.is_admin is True


def test_users_create_for_an_existing_user_fails_clearly_and_keeps_the_old_password(
    cli, db_session, alice
):
    before = user_count(db_session)
    result = cli("users", "create", "alice", "--password-stdin", input=NEW_PASSWORD + "\n")
    assert result.exit_code != 0
    assert "already exists" in result.output
    assert "alice" in result.output
    assert user_count(db_session) == before
    assert auth_service.authenticate("alice", PASSWORD) is not None
    assert auth_service.authenticate("alice", NEW_PASSWORD) is None


@pytest.mark.parametrize("password", ["", "short", "7 chars"])
def test_users_create_refuses_a_short_password(cli, db_session, password):
    result = cli("users", "create", "erin", "--password-stdin", input=password + "\n")
    assert result.exit_code != 0
    assert "at least 8 characters" in result.output
    assert auth_service.find_user("erin") is None


# --- tokens create ------------------------------------------------------------------------


def test_tokens_create_prints_the_token_alone_on_the_last_line(cli, db_session, alice):
    result = cli("tokens", "create", "alice", "--name", "laptop")
    assert result.exit_code == 0, result.output
    token = result.stdout.rstrip("\n").splitlines()[-1]
    assert re.fullmatch(r"\S{32,}", token), token
    assert auth_service.user_for_token(token).username == "alice"


def test_tokens_create_stores_only_the_sha256_of_the_token(cli, db_session, alice):
    token = cli("tokens", "create", "alice").stdout.rstrip("\n").splitlines()[-1]

    rows = db_session.execute(text("SELECT * FROM api_tokens")).all()
    assert len(rows) == 1
    stored = " ".join(str(value) for value in rows[0])
    assert token not in stored
    assert rows[0]._mapping["token_hash"] == hashlib.sha256(token.encode()).hexdigest()


def test_tokens_create_for_an_unknown_user_fails_and_stores_nothing(cli, db_session):
    result = cli("tokens", "create", "nobody")
    assert result.exit_code != 0
    assert "nobody" in result.output
    assert db_session.scalar(select(func.count()).select_from(ApiToken)) == 0


# --- users ensure-admin -------------------------------------------------------------------


def test_users_ensure_admin_creates_one_admin_once_and_prints_how_to_sign_in(
    cli, db_session, client
):
    first = cli("users", "ensure-admin")
    assert first.exit_code == 0, first.output
    username = PRINTED_USERNAME.search(first.stdout).group(1)
    password = PRINTED_PASSWORD.search(first.stdout).group(1)
    admin = auth_service.authenticate(username, password)
    assert admin is not None
    assert admin.is_admin is True
    assert user_count(db_session) == 1

    second = cli("users", "ensure-admin")
    assert second.exit_code == 0, second.output
    assert not PRINTED_PASSWORD.search(second.stdout)
    assert password not in second.stdout
    assert user_count(db_session) == 1
    assert auth_service.authenticate(username, password) is not None


def test_users_ensure_admin_creates_nothing_when_any_user_exists(cli, db_session, alice):
    result = cli("users", "ensure-admin")
    assert result.exit_code == 0, result.output
    assert not PRINTED_PASSWORD.search(result.stdout)
    assert user_count(db_session) == 1
    assert auth_service.find_user("admin") is None


# --- bearer tokens ------------------------------------------------------------------------


def test_a_bearer_token_authenticates_as_its_owner(api, make_project, alice):
    project = make_project(alice, "Token Visible")
    response = api.get("/projects")
    assert response.status_code == 200
    assert [p["project_id"] for p in response.get_json()["projects"]] == [project.project_id]


def test_the_bearer_scheme_is_case_insensitive(client, api):
    response = client.get("/api/v1/projects", headers={"Authorization": f"bearer {api.token}"})
    assert response.status_code == 200


@pytest.mark.parametrize(
    "header",
    ["Basic YWxpY2U6cGFzc3dvcmQ=", "Token {token}", "{token}", "Bearer", "Bearer ", ""],
)
def test_a_wrong_authorization_scheme_is_401_with_a_challenge(client, api, header):
    response = client.get(
        "/api/v1/projects", headers={"Authorization": header.format(token=api.token)}
    )
    assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "Set-Cookie" not in response.headers


@pytest.mark.parametrize("value", ["cmb_unknown", "{token}x", "{token_upper}"])
def test_an_unknown_bearer_token_is_401_invalid_token(client, api, value):
    token = value.format(token=api.token, token_upper=api.token.upper())
    response = client.get("/api/v1/projects", headers={"Authorization": f"Bearer {token}"})
    assert_problem(response, 401)
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_a_bad_token_is_not_rescued_by_a_signed_in_session(client, login, alice):
    login(alice)
    response = client.get("/api/v1/projects", headers={"Authorization": "Bearer cmb_wrong"})
    assert_problem(response, 401)


def test_a_token_call_never_sets_a_cookie(api, db_session):
    created = api.post("/projects", json={"name": "Cookie Less Key"})
    key = created.get_json()["project_id"]
    responses = [
        api.get("/projects"),
        created,
        api.get(f"/projects/{key}"),
        api.patch(f"/projects/{key}", json={"description": "still none"}),
        api.post("/projects", json={}),
        api.get("/projects/NOPE-001"),
        api.post(f"/projects/{key}/archive"),
        api.delete(f"/projects/{key}"),
    ]
    assert [r.status_code for r in responses] == [200, 201, 200, 200, 422, 404, 200, 204]
    for response in responses:
        assert "Set-Cookie" not in response.headers, response.request.path


def test_a_token_call_does_not_sign_the_client_in(api, client):
    assert api.get("/projects").status_code == 200
    assert client.get("/api/v1/projects").status_code == 401
    assert client.get("/projects").status_code == 302


# --- browser sessions on the API ----------------------------------------------------------


def test_a_signed_in_session_can_read_the_api(client, login, alice, make_project):
    project = make_project(alice, "Session Visible")
    login(alice)
    response = client.get("/api/v1/projects")
    assert response.status_code == 200
    assert response.get_json()["projects"][0]["project_id"] == project.project_id


def test_a_session_post_to_the_api_without_csrf_header_is_403_and_writes_nothing(
    client, login, alice, db_session
):
    login(alice)
    response = client.post("/api/v1/projects", json={"name": "Forged"})
    assert_problem(response, 403)
    assert project_count(db_session) == 0


def test_a_session_post_to_the_api_with_a_wrong_csrf_header_is_403(
    client, login, alice, db_session
):
    login(alice)
    response = client.post(
        "/api/v1/projects", json={"name": "Forged"}, headers={"X-CSRFToken": "not-the-token"}
    )
    assert_problem(response, 403)
    assert project_count(db_session) == 0


def test_a_session_post_to_the_api_with_the_csrf_header_works(client, login, alice, db_session):
    token = login(alice)
    response = client.post(
        "/api/v1/projects", json={"name": "Legit Session"}, headers={"X-CSRFToken": token}
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["owner"] == "alice"
    assert project_count(db_session) == 1


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [("patch", "", {"name": "Forged"}), ("delete", "", None), ("post", "/archive", None)],
)
def test_every_unsafe_session_call_needs_the_csrf_header(
    client, login, alice, make_project, db_session, method, suffix, body
):
    project = make_project(alice, "Guarded")
    login(alice)
    response = getattr(client, method)(f"/api/v1/projects/{project.project_id}{suffix}", json=body)
    assert_problem(response, 403)
    db_session.expire_all()
    unchanged = db_session.get(Project, project.id)
    assert unchanged.name == "Guarded"
    assert unchanged.is_archived is False


# --- signing in and out through pages -----------------------------------------------------


def sign_in_form(client, path: str = "/login") -> str:
    """Open the sign-in page and return its CSRF token."""
    return csrf_token_from(client.get(path).get_data(as_text=True))


def is_signed_in(client) -> bool:
    """Whether the client's session is signed in (the project list answers without redirect)."""
    return client.get("/projects").status_code == 200


def test_wrong_password_shows_an_error_with_401_and_signs_nothing_in(client, alice):
    token = sign_in_form(client)
    response = client.post(
        "/login", data={"username": "alice", "password": "wrong password", "csrf_token": token}
    )
    assert response.status_code == 401
    assert response.mimetype == "text/html"
    assert "Unknown username or wrong password." in response.get_data(as_text=True)
    assert not is_signed_in(client)
    assert client.get("/api/v1/projects").status_code == 401


def test_unknown_user_gets_the_same_error_as_a_wrong_password(client, db_session):
    token = sign_in_form(client)
    response = client.post(
        "/login", data={"username": "ghost", "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 401
    assert "Unknown username or wrong password." in response.get_data(as_text=True)
    assert not is_signed_in(client)


@pytest.mark.parametrize(
    ("username", "password"), [("ali\x00ce", PASSWORD), ("alice", "correct\x00horse")]
)
def test_sign_in_with_a_nul_character_is_a_plain_401(client, alice, username, password):
    token = sign_in_form(client)
    response = client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}
    )
    assert response.status_code == 401
    assert "Unknown username or wrong password." in response.get_data(as_text=True)
    assert not is_signed_in(client)


def test_sign_in_without_csrf_token_is_refused(client, alice):
    sign_in_form(client)
    response = client.post("/login", data={"username": "alice", "password": PASSWORD})
    assert response.status_code == 403
    assert not is_signed_in(client)


def test_sign_in_with_the_right_password_goes_to_the_projects(client, alice):
    token = sign_in_form(client)
    response = client.post(
        "/login", data={"username": "alice", "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/projects"
    assert is_signed_in(client)


def test_logout_by_get_is_not_allowed_and_keeps_the_session(client, login, alice):
    login(alice)
    assert client.get("/logout").status_code == 405
    assert is_signed_in(client)


def test_logout_by_post_without_csrf_is_403_and_keeps_the_session(client, login, alice):
    login(alice)
    response = client.post("/logout")
    assert response.status_code == 403
    assert is_signed_in(client)


def test_logout_by_post_with_csrf_signs_out(client, login, alice):
    token = login(alice)
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/login"
    assert not is_signed_in(client)
    assert client.get("/api/v1/projects").status_code == 401


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "///evil.example/",
        "/\\evil.example/",
        "\\\\evil.example/",
        "/\t/evil.example/",
        "javascript:alert(1)",
        "http:/evil.example",
        "evil.example",
    ],
)
def test_next_never_redirects_off_site(client, alice, target):
    token = sign_in_form(client)
    response = client.post(
        "/login",
        query_string={"next": target},
        data={"username": "alice", "password": PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302
    location = response.headers["Location"]
    parts = urlsplit(location)
    assert parts.netloc in ("", "localhost"), location
    assert parts.scheme in ("", "http"), location
    assert location.startswith("/") and not location.startswith(("//", "/\\")), location
    assert "\\" not in location and "\t" not in location


@pytest.mark.parametrize("target", ["/projects\r\nX-Injected: 1", "/projects\n", "/pro\x00jects"])
def test_next_with_control_characters_falls_back_to_the_project_list(client, alice, target):
    token = sign_in_form(client)
    response = client.post(
        "/login",
        query_string={"next": target},
        data={"username": "alice", "password": PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/projects"
    assert "X-Injected" not in response.headers
    assert is_signed_in(client)


def test_next_on_this_site_is_followed(client, alice):
    token = sign_in_form(client)
    response = client.post(
        "/login",
        query_string={"next": "/projects?search=abc"},
        data={"username": "alice", "password": PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/projects?search=abc"


@pytest.mark.parametrize("path", ["/projects", "/projects/SPD-001", "/"])
def test_pages_redirect_to_sign_in_when_signed_out(client, db_session, path):
    response = client.get(path, headers={"Accept": "text/html"})
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/login"


def test_the_sign_in_redirect_remembers_the_page(client, db_session):
    response = client.get("/projects/SPD-001")
    assert response.headers["Location"] == "/login?next=%2Fprojects%2FSPD-001"


def test_a_signed_in_user_opening_the_sign_in_page_goes_to_the_projects(client, login, alice):
    login(alice)
    response = client.get("/login")
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/projects"


def test_users_ensure_admin_prints_the_address_the_app_will_listen_on(cli, db_session):
    first = cli("users", "ensure-admin", "--host", "127.0.0.1", "--port", "5077")
    assert "Sign in at http://127.0.0.1:5077/login" in first.stdout
    again = cli("users", "ensure-admin", "--port", "5077")
    assert "http://127.0.0.1:5077/login" in again.stdout


def test_make_run_passes_its_host_and_port_to_ensure_admin():
    from pathlib import Path

    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text()
    assert "users ensure-admin --host $(HOST) --port $(PORT)" in makefile
