"""Real gunicorn on PostgreSQL: the production start, end to end over HTTP."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, skip_without_postgres
from tests.support.databases import create_database, drop_database

pytestmark = pytest.mark.server

BIN = Path(sys.executable).parent
PASSWORD = "served password 123"
STARTUP_DEADLINE_SECONDS = 60


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_flask(env: dict, *args: str, input: str | None = None) -> str:
    """Run ``flask --app wsgi ARGS`` as the operator would; return its stdout."""
    result = subprocess.run(
        [str(BIN / "flask"), "--app", "wsgi", *args],
        cwd=REPO_ROOT,
        env=env,
        input=input,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"flask {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


class Served:
    """A running gunicorn and how to talk to it."""

    def __init__(self, base_url: str, token: str, log_path: Path):
        self.base_url = base_url
        self.token = token
        self.log_path = log_path

    def call(self, method: str, path: str, *, token: str | None = None, body=None):
        """Send one request; return (status, headers, parsed JSON or raw text)."""
        data = None
        headers = {"Accept": "application/json"}
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        # The URL is always http://127.0.0.1:<port> built above, never user input.
        request = urllib.request.Request(  # noqa: S310
            self.base_url + path, data=data, headers=headers, method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                status, response_headers, raw = response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            status, response_headers, raw = error.code, error.headers, error.read()
        content_type = response_headers.get("Content-Type", "")
        payload = json.loads(raw) if raw and "json" in content_type else raw.decode()
        return status, response_headers, payload


def _wait_until_healthy(process: subprocess.Popen, base_url: str, log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_DEADLINE_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"gunicorn exited with {process.returncode}:\n{log_path.read_text()}")
        try:
            with urllib.request.urlopen(base_url + "/healthz", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"gunicorn did not answer /healthz:\n{log_path.read_text()}")


@pytest.fixture(scope="module")
def served(tmp_path_factory, postgres_admin_url):
    """gunicorn serving ``wsgi:app`` on a fresh PostgreSQL database, migrated and seeded."""
    skip_without_postgres()
    database_url = create_database(postgres_admin_url, prefix="combine_server")
    port = free_port()
    env = {
        **os.environ,
        "COMBINE_ENV": "production",
        "SECRET_KEY": "server-test-secret",
        "DATABASE_URL": database_url,
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "2",
        "FLASK_SKIP_DOTENV": "1",
    }
    log_path = tmp_path_factory.mktemp("gunicorn") / "gunicorn.log"
    process = None
    try:
        run_flask(env, "db", "upgrade")
        run_flask(env, "users", "create", "operator", "--password-stdin", input=PASSWORD + "\n")
        token = run_flask(env, "tokens", "create", "operator").rstrip("\n").splitlines()[-1]

        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "wsgi:app"],
                cwd=REPO_ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        base_url = f"http://127.0.0.1:{port}"
        _wait_until_healthy(process, base_url, log_path)
        yield Served(base_url, token, log_path)
    finally:
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        drop_database(postgres_admin_url, database_url)


def test_healthz_and_readyz_answer(served):
    status, _, body = served.call("GET", "/healthz")
    assert (status, body) == (200, {"status": "ok"})
    status, _, body = served.call("GET", "/readyz")
    assert status == 200
    assert body["status"] == "ready"


def test_a_token_creates_lists_and_reads_a_project(served):
    status, headers, created = served.call(
        "POST", "/api/v1/projects", token=served.token, body={"name": "Served Over HTTP"}
    )
    assert status == 201, created
    assert created["owner"] == "operator"
    key = created["project_id"]

    status, _, listing = served.call("GET", "/api/v1/projects?search=served", token=served.token)
    assert status == 200
    assert key in [project["project_id"] for project in listing["projects"]]

    status, _, fetched = served.call("GET", f"/api/v1/projects/{key}", token=served.token)
    assert status == 200
    assert fetched["id"] == created["id"]


def test_without_a_token_the_api_answers_401_problem_json(served):
    status, headers, body = served.call("GET", "/api/v1/projects")
    assert status == 401
    assert headers["Content-Type"].startswith("application/problem+json")
    assert headers["WWW-Authenticate"].startswith("Bearer")
    assert body["status"] == 401


def test_a_token_call_gets_no_cookie(served):
    for method, path, body in [
        ("GET", "/api/v1/projects", None),
        ("POST", "/api/v1/projects", {"name": "No Cookie Here"}),
    ]:
        status, headers, _ = served.call(method, path, token=served.token, body=body)
        assert status in (200, 201)
        assert headers.get_all("Set-Cookie") is None, (method, path)


def test_production_session_cookies_are_secure_and_http_only(served):
    status, headers, _ = served.call("GET", "/login")
    assert status == 200
    cookie = headers["Set-Cookie"]
    assert "Secure" in cookie
    assert "HttpOnly" in cookie


def test_the_server_log_shows_no_errors(served):
    assert served.call("GET", "/readyz")[0] == 200
    log = served.log_path.read_text()
    assert "Booting worker" in log
    assert "Traceback" not in log, log
    assert "[ERROR]" not in log, log
