"""Fixtures: every database test runs on PostgreSQL and on SQLite, isolated by rollback."""

from __future__ import annotations

import contextlib
import itertools
import os
import re
from datetime import date, timedelta
from pathlib import Path

import flask_migrate
import pytest
from flask_sqlalchemy.session import Session
from sqlalchemy import event

from combine_app import create_app
from combine_app.auth import service as auth_service
from combine_app.extensions import db
from combine_app.projects import service as project_service
from tests.support.databases import create_database, drop_database, probe_postgres

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DIR = REPO_ROOT.parent / "shared"
PASSWORD = "correct horse battery"

os.environ.setdefault("COMBINE_ENV", "testing")
os.environ.setdefault("SECRET_KEY", "test-secret-key")

_POSTGRES = probe_postgres()


def pytest_configure(config):
    """Stop at once when CI demands PostgreSQL and it is not there."""
    if _POSTGRES.required and not _POSTGRES.available:
        pytest.exit(
            f"PostgreSQL is required (COMBINE_REQUIRE_POSTGRES=1) but {_POSTGRES.admin_url} "
            f"did not answer: {_POSTGRES.reason}",
            returncode=3,
        )


def pytest_terminal_summary(terminalreporter):
    """Say plainly which database legs ran."""
    if _POSTGRES.available:
        terminalreporter.write_line(f"database legs: SQLite and PostgreSQL ({_POSTGRES.admin_url})")
    else:
        terminalreporter.write_line(
            f"database legs: SQLite only. PostgreSQL leg SKIPPED: {_POSTGRES.admin_url} did not "
            f"answer ({_POSTGRES.reason}). Set COMBINE_TEST_POSTGRES_URL to run it.",
            yellow=True,
        )


def skip_without_postgres():
    """Skip (or, in CI, fail) a test that needs PostgreSQL itself."""
    if not _POSTGRES.available:
        pytest.skip(f"PostgreSQL leg skipped: {_POSTGRES.reason}")


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    """The URL of the PostgreSQL server's maintenance database."""
    skip_without_postgres()
    return _POSTGRES.admin_url


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request, tmp_path_factory):
    """A fresh, empty database for the session, on each engine."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'combine.sqlite3'}"
        return
    skip_without_postgres()
    url = create_database(_POSTGRES.admin_url)
    yield url
    drop_database(_POSTGRES.admin_url, url)


def make_app(database_url: str, **overrides):
    """An app configured for tests against ``database_url``."""
    config = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "test-secret-key",
        "COMBINE_CONFIG_DIR": REPO_ROOT / "combine-config",
        "SESSION_COOKIE_SECURE": False,
        # A cheap hash keeps the suite fast; production uses Werkzeug's default (scrypt).
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
    }
    config.update(overrides)
    return create_app(config)


@pytest.fixture(scope="session")
def app(database_url):
    """The app, with the schema built by running the real migrations."""
    application = make_app(database_url)
    with application.app_context():
        flask_migrate.upgrade()
    yield application
    with application.app_context():
        db.engine.dispose()


@pytest.fixture
def backend(app) -> str:
    """'sqlite' or 'postgresql'."""
    return app.config["SQLALCHEMY_DATABASE_URI"].split(":", 1)[0]


@pytest.fixture
def db_session(app):
    """A session inside a transaction rolled back after the test; commits become savepoints."""
    with app.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        original = db.session
        db.session = db._make_scoped_session(
            {
                "bind": connection,
                "join_transaction_mode": "create_savepoint",
                "class_": ConnectionBoundSession,
            }
        )
        try:
            yield db.session
        finally:
            db.session.remove()
            db.session = original
            if outer.is_active:
                outer.rollback()
            connection.close()


@pytest.fixture
def client(app, db_session):
    """A test client sharing the test's transaction."""
    return app.test_client()


class ConnectionBoundSession(Session):
    """Flask-SQLAlchemy's session picks an engine per bind key; tests pin it to one connection."""

    def get_bind(self, *args, **kwargs):
        """Always the test's connection."""
        return self.bind


_names = itertools.count(1)


@pytest.fixture
def make_user(db_session):
    """Factory: a user (optionally admin) with the test password."""

    def factory(username: str | None = None, *, admin: bool = False):
        user = auth_service.create_user(username or f"user{next(_names)}", PASSWORD, is_admin=admin)
        db_session.commit()
        return user

    return factory


@pytest.fixture
def make_project(db_session):
    """Factory: a project owned by ``owner``."""

    def factory(owner, name: str = "Software Product Development", description: str = ""):
        project = project_service.create_project(owner, name, description)
        db_session.commit()
        return project

    return factory


class ApiClient:
    """A test client that sends a bearer token to /api/v1."""

    def __init__(self, client, token: str | None):
        self.client = client
        self.token = token

    def _call(self, method: str, path: str, headers: dict | None = None, **kwargs):
        headers = dict(headers or {})
        if self.token is not None:
            headers.setdefault("Authorization", f"Bearer {self.token}")
        return self.client.open("/api/v1" + path, method=method, headers=headers, **kwargs)

    def get(self, path, **kwargs):
        """GET /api/v1 + path."""
        return self._call("GET", path, **kwargs)

    def post(self, path, **kwargs):
        """POST /api/v1 + path."""
        return self._call("POST", path, **kwargs)

    def put(self, path, **kwargs):
        """PUT /api/v1 + path."""
        return self._call("PUT", path, **kwargs)

    def patch(self, path, **kwargs):
        """PATCH /api/v1 + path."""
        return self._call("PATCH", path, **kwargs)

    def delete(self, path, **kwargs):
        """DELETE /api/v1 + path."""
        return self._call("DELETE", path, **kwargs)


@pytest.fixture
def api_for(client, db_session):
    """Factory: an ApiClient authenticated as ``user`` with a fresh token."""

    def factory(user):
        token = auth_service.create_token(user, "test")
        db_session.commit()
        return ApiClient(client, token)

    return factory


@pytest.fixture
def alice(make_user):
    """A regular user."""
    return make_user("alice")


@pytest.fixture
def api(api_for, alice):
    """An API client signed in as alice."""
    return api_for(alice)


@pytest.fixture
def count_queries(app, db_session):
    """Context manager collecting the SQL statements run inside it."""

    @contextlib.contextmanager
    def counter():
        statements: list[str] = []

        def record(conn, cursor, statement, parameters, context, executemany):
            if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
                statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", record)
        try:
            yield statements
        finally:
            event.remove(db.engine, "before_cursor_execute", record)

    return counter


def csrf_token_from(html: str) -> str:
    """The CSRF token a rendered page carries."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', html) or re.search(
        r'name="csrf-token" content="([^"]+)"', html
    )
    assert match, "page carries no CSRF token"
    return match.group(1)


@pytest.fixture
def login(client):
    """Factory: sign ``user`` in through the real form; returns the CSRF token of the session."""

    def factory(user, password: str = PASSWORD) -> str:
        page = client.get("/login")
        token = csrf_token_from(page.get_data(as_text=True))
        response = client.post(
            "/login", data={"username": user.username, "password": password, "csrf_token": token}
        )
        assert response.status_code == 302, response.get_data(as_text=True)
        return csrf_token_from(client.get("/projects").get_data(as_text=True))

    return factory


class Clock:
    """A UTC "today" the test sets and moves: the app's ``TODAY`` clock."""

    def __init__(self, today: date):
        self.today = today

    def __call__(self) -> date:
        return self.today

    def advance(self, days: int = 1) -> None:
        """Move today ``days`` days on."""
        self.today += timedelta(days=days)


@pytest.fixture
def clock(app):
    """The app's today, fixed at 2026-12-05 UTC until the test moves it."""
    moved = Clock(date(2026, 12, 5))
    app.config["TODAY"] = moved
    yield moved
    app.config.pop("TODAY", None)
