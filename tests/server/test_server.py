"""Real gunicorn on PostgreSQL: the production start, end to end over HTTP."""

from __future__ import annotations

import http.client
import json
import os
import runpy
import socket
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import pytest

from combine_app.workflows.models import MAX_DEVIATION_KEY_LENGTH
from tests.conftest import REPO_ROOT, skip_without_postgres
from tests.support.databases import create_database, drop_database
from tests.support.served import call, run_flask, start_gunicorn

pytestmark = pytest.mark.server

PASSWORD = "served password 123"
STARTUP_DEADLINE_SECONDS = 60
LIMIT_REQUEST_LINE = runpy.run_path(str(REPO_ROOT / "gunicorn.conf.py"))["limit_request_line"]


@dataclass
class Served:
    """A running gunicorn and how to talk to it."""

    port: int
    token: str
    log_path: Path

    def call(self, method: str, path: str, *, token: str | None = None, body=None):
        """Send one request asking for JSON; return (status, headers, parsed JSON or text)."""
        return call(
            self.port, method, path, token=token, body=body, headers={"Accept": "application/json"}
        )


@pytest.fixture(scope="module")
def served(tmp_path_factory, postgres_admin_url):
    """gunicorn serving ``wsgi:app`` on a fresh PostgreSQL database, migrated and seeded."""
    skip_without_postgres()
    database_url = create_database(postgres_admin_url, prefix="combine_server")
    env = {
        **os.environ,
        "COMBINE_ENV": "production",
        "SECRET_KEY": "server-test-secret",
        "DATABASE_URL": database_url,
        "FLASK_SKIP_DOTENV": "1",
    }
    log_path = tmp_path_factory.mktemp("gunicorn") / "gunicorn.log"
    try:
        run_flask(env, "db", "upgrade")
        run_flask(env, "users", "create", "operator", "--password-stdin", stdin=PASSWORD + "\n")
        token = run_flask(env, "tokens", "create", "operator").rstrip("\n").splitlines()[-1]
        with start_gunicorn(
            env, log_path, workers=2, startup_seconds=STARTUP_DEADLINE_SECONDS
        ) as server:
            yield Served(server.port, token, log_path)
    finally:
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


def chunked(port: int, method: str, path: str, body: bytes, headers: dict) -> tuple:
    """Send ``body`` with ``Transfer-Encoding: chunked`` (no Content-Length), 64 KiB a chunk."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    pieces = (body[start : start + 65536] for start in range(0, len(body), 65536))
    try:
        connection.request(method, path, body=pieces, headers=headers, encode_chunked=True)
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def served_instance(served) -> tuple[str, dict]:
    """A new project of the operator's with SPD 1.1.0 assigned; its key and instance."""
    status, _, project = served.call(
        "POST", "/api/v1/projects", token=served.token, body={"name": "Chunked Bodies"}
    )
    assert status == 201, project
    key = project["project_id"]
    status, _, instance = served.call(
        "POST",
        f"/api/v1/projects/{key}/workflow",
        token=served.token,
        body={"workflow_id": "software_product_development", "version": "1.1.0"},
    )
    assert status == 201, instance
    return key, instance


def test_a_chunked_body_past_the_limit_is_413_and_writes_nothing(served):
    """Without Content-Length a body is held to the 4 MiB limit too, never read truncated."""
    key, instance = served_instance(served)
    definition = {**instance["effective_workflow"], "description": "Sent in chunks."}
    valid = json.dumps({"effective_workflow": definition}).encode()
    headers = {"Authorization": f"Bearer {served.token}", "Content-Type": "application/json"}
    for padding in (5_000_000, 4 * 1024 * 1024 + 1 - len(valid)):
        status, answer_headers, raw = chunked(
            served.port, "PUT", f"/api/v1/projects/{key}/workflow", valid + b" " * padding, headers
        )
        assert status == 413, raw[:300]
        assert answer_headers["Content-Type"].startswith("application/problem+json")
        assert json.loads(raw)["status"] == 413
    status, _, now = served.call("GET", f"/api/v1/projects/{key}/workflow", token=served.token)
    assert (status, now["revision"]) == (200, 1)

    # Within the limit, a chunked body is read whole and saved.
    status, _, raw = chunked(
        served.port, "PUT", f"/api/v1/projects/{key}/workflow", valid + b" " * 1000, headers
    )
    assert status == 200, raw[:300]
    assert json.loads(raw)["effective_workflow"]["description"] == "Sent in chunks."


def test_a_chunked_form_past_the_limit_is_the_413_page(served):
    body = b"username=x&password=" + b"p" * 5_000_000
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "text/html"}
    status, answer_headers, raw = chunked(served.port, "POST", "/login", body, headers)
    assert status == 413, raw[:300]
    assert answer_headers["Content-Type"].startswith("text/html")
    assert b"413" in raw


def test_the_longest_deviation_key_in_four_byte_characters_reaches_the_app(served):
    """gunicorn's request-line limit fits the key's limit even when every character is an emoji
    (four UTF-8 bytes, twelve percent-encoded), on the longest deviation path."""
    key, _ = served_instance(served)
    deviation = urllib.parse.quote("\U0001f600" * MAX_DEVIATION_KEY_LENGTH, safe="")
    path = f"/api/v1/projects/{key}/workflow/deviations/{deviation}/approve"
    assert len(f"POST {path} HTTP/1.1") <= LIMIT_REQUEST_LINE
    status, headers, answer = served.call("POST", path, token=served.token, body={})
    assert status == 404, answer
    assert headers["Content-Type"].startswith("application/problem+json")


def raw_exchange(port: int, request: bytes) -> tuple[int, str, bytes]:
    """Send ``request`` as it is; the answer's status, Content-Type and body."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(request)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers["Content-Type"], body


def test_a_request_line_past_the_limit_is_a_414_problem(served):
    path = "/api/v1/projects/" + "a" * LIMIT_REQUEST_LINE
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
    status, content_type, body = raw_exchange(served.port, request)
    assert (status, content_type) == (414, "application/problem+json")
    problem = json.loads(body)
    assert problem["status"] == 414
    assert f"{LIMIT_REQUEST_LINE:,} bytes" in problem["detail"]


def test_an_unreadable_request_line_is_a_400_problem(served):
    status, content_type, body = raw_exchange(served.port, b"GET\r\n\r\n")
    assert (status, content_type) == (400, "application/problem+json")
    assert json.loads(body)["title"] == "Bad Request"


def test_the_server_log_shows_no_errors(served):
    assert served.call("GET", "/readyz")[0] == 200
    log = served.log_path.read_text()
    assert "Booting worker" in log
    assert "Traceback" not in log, log
    assert "[ERROR]" not in log, log
