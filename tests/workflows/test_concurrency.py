"""Concurrent writers against real gunicorn (4 workers) on PostgreSQL: no lost or torn updates."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from combine_app.workflows.diff import WorkflowDiff, replay
from tests.support.databases import create_database, drop_database

from .instance_support import REPO_ROOT, SPD, edited, with_step_added, with_step_field

pytestmark = pytest.mark.server

CLIENTS = 20
BIN = Path(sys.executable).parent
PASSWORD = "correct horse battery"
STARTUP_SECONDS = 30


class Server:
    """A running gunicorn and the token of the user it knows."""

    def __init__(self, base_url: str, token: str):
        self.base_url = base_url
        self.token = token

    def call(self, method: str, path: str, body=None, headers=None) -> tuple[int, dict, dict]:
        """Send one request; return status, headers and the decoded JSON body (or {})."""
        data = None if body is None else json.dumps(body).encode()
        url = self.base_url + "/api/v1" + path
        request = urllib.request.Request(url, data=data, method=method)  # noqa: S310
        request.add_header("Authorization", f"Bearer {self.token}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
                return response.status, dict(response.headers), _decode(response.read())
        except urllib.error.HTTPError as error:
            with error:
                return error.code, dict(error.headers), _decode(error.read())


def _decode(raw: bytes) -> dict:
    return json.loads(raw) if raw else {}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _flask(env: dict, *args: str, stdin: str | None = None) -> str:
    """Run a ``flask --app wsgi`` command; fail the setup with its output when it fails."""
    result = subprocess.run(
        [str(BIN / "flask"), "--app", "wsgi", *args],
        cwd=REPO_ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"flask {' '.join(args)} failed:\n{result.stdout}{result.stderr}"
    return result.stdout


def _wait_until_healthy(base_url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"gunicorn exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(base_url + "/healthz", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"gunicorn did not answer /healthz in {STARTUP_SECONDS}s:\n{log.read_text()}")


@pytest.fixture(scope="module")
def server(postgres_admin_url, tmp_path_factory):
    """gunicorn with 4 workers on a fresh, migrated PostgreSQL database, alice and her token."""
    database_url = create_database(postgres_admin_url)
    port = _free_port()
    env = {
        **os.environ,
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "4",
        "COMBINE_ENV": "production",
        "SECRET_KEY": "concurrency-test-secret",
        "DATABASE_URL": database_url,
        "LOG_LEVEL": "warning",
    }
    env.pop("COMBINE_CONFIG_DIR", None)
    log = tmp_path_factory.mktemp("gunicorn") / "gunicorn.log"
    process = None
    try:
        _flask(env, "db", "upgrade")
        _flask(env, "users", "create", "alice", "--password-stdin", stdin=PASSWORD + "\n")
        token = _flask(env, "tokens", "create", "alice").strip().splitlines()[-1]
        with log.open("w") as log_file:
            process = subprocess.Popen(
                [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "wsgi:app"],
                cwd=REPO_ROOT,
                env=env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )
        base_url = f"http://127.0.0.1:{port}"
        _wait_until_healthy(base_url, process, log)
        yield Server(base_url, token)
    finally:
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        drop_database(postgres_admin_url, database_url)


def all_at_once(requests: list) -> list[tuple[int, dict, dict]]:
    """Run the zero-argument callables together, released by one barrier; return their results."""
    barrier = threading.Barrier(len(requests))

    def run(request):
        barrier.wait(timeout=60)
        return request()

    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        return list(pool.map(run, requests))


def new_project(server: Server, name: str) -> str:
    """Create a project and return its key."""
    status, _, body = server.call("POST", "/projects", {"name": name})
    assert status == 201, body
    return body["project_id"]


def new_instance(server: Server, name: str) -> tuple[str, dict]:
    """A project with an SPD 1.1.0 instance: its key and the instance."""
    key = new_project(server, name)
    status, _, instance = server.call(
        "POST", f"/projects/{key}/workflow", {"workflow_id": SPD, "version": "1.1.0"}
    )
    assert status == 201, instance
    return key, instance


def full_history(server: Server, key: str) -> list[dict]:
    """Every history entry, newest first, read page by page."""
    entries: list[dict] = []
    while True:
        status, _, page = server.call(
            "GET", f"/projects/{key}/workflow/history?limit=100&offset={len(entries)}"
        )
        assert status == 200, page
        entries.extend(page["entries"])
        if len(entries) >= page["total"] or not page["entries"]:
            assert len(entries) == page["total"]
            return entries


def client_edit(definition: dict, client: int) -> dict:
    """The edit client ``client`` sends: its own step, its own description, its own step field."""
    changed = with_step_added(definition, f"client_step_{client}", at=client % 5)
    changed = edited(changed, description=f"Edited by client {client}.")
    return with_step_field(changed, "product_discovery", "task_prompt", f"Discovery v{client}")


def replayed_from_history(original: dict, entries: list[dict]) -> dict:
    """Rebuild the final definition by replaying each revision's entries on the original."""
    by_revision: dict[int, dict[str, dict]] = {}
    for entry in entries:
        if entry["change_type"] in ("created", "status_changed"):
            continue
        detail = entry["change_detail"]
        kinds = by_revision.setdefault(detail["revision"], {})
        assert entry["change_type"] not in kinds, f"two {entry['change_type']} in one revision"
        kinds[entry["change_type"]] = detail
    definition = original
    for revision in sorted(by_revision):
        kinds = by_revision[revision]
        definition = replay(
            definition,
            WorkflowDiff(
                steps_added=kinds.get("step_added", {}).get("steps", []),
                steps_removed=kinds.get("step_removed", {}).get("steps", []),
                steps_moved=kinds.get("step_reordered", {}).get("steps", []),
                steps_modified=kinds.get("step_modified", {}).get("steps", []),
                metadata_changes=kinds.get("metadata_changed", {}).get("changes", []),
            ),
        )
    return definition


def test_simultaneous_creates_make_exactly_one_instance_and_one_created_entry(server):
    key = new_project(server, "Race To Create")
    body = {"workflow_id": SPD, "version": "1.1.0"}

    results = all_at_once(
        [lambda: server.call("POST", f"/projects/{key}/workflow", body)] * CLIENTS
    )

    statuses = Counter(status for status, _, _ in results)
    assert statuses == {201: 1, 409: CLIENTS - 1}, [r[2] for r in results if r[0] >= 500]
    assert all(r[1]["Content-Type"] == "application/problem+json" for r in results if r[0] == 409)
    entries = full_history(server, key)
    assert [entry["change_type"] for entry in entries] == ["created"]


def test_simultaneous_puts_with_the_same_etag_let_exactly_one_through(server):
    key, instance = new_instance(server, "Race With Etag")
    status, headers, _ = server.call("GET", f"/projects/{key}/workflow")
    assert status == 200
    etag, start = headers["ETag"], instance["revision"]
    original = instance["effective_workflow"]

    results = all_at_once(
        [
            (
                lambda client=client: server.call(
                    "PUT",
                    f"/projects/{key}/workflow",
                    {"effective_workflow": client_edit(original, client)},
                    {"If-Match": etag},
                )
            )
            for client in range(CLIENTS)
        ]
    )

    statuses = Counter(status for status, _, _ in results)
    assert statuses == {200: 1, 412: CLIENTS - 1}, [r[2] for r in results if r[0] >= 500]
    [winner] = [client for client, result in enumerate(results) if result[0] == 200]
    status, _, final = server.call("GET", f"/projects/{key}/workflow")
    assert final["revision"] == start + 1
    assert final["effective_workflow"] == client_edit(original, winner)
    entries = full_history(server, key)
    newest = [entry for entry in entries if entry["change_detail"]["revision"] == start + 1]
    assert sorted(entry["change_type"] for entry in newest) == [
        "metadata_changed",
        "step_added",
        "step_modified",
    ]
    added = next(entry for entry in newest if entry["change_type"] == "step_added")
    assert [step["step_id"] for step in added["change_detail"]["steps"]] == [
        f"client_step_{winner}"
    ]
    assert len(entries) == 1 + len(newest)


def test_simultaneous_puts_without_if_match_leave_a_history_that_replays_to_the_result(server):
    key, instance = new_instance(server, "Race Without Etag")
    original = instance["effective_workflow"]

    results = all_at_once(
        [
            (
                lambda client=client: server.call(
                    "PUT",
                    f"/projects/{key}/workflow",
                    {"effective_workflow": client_edit(original, client)},
                )
            )
            for client in range(CLIENTS)
        ]
    )

    statuses = [status for status, _, _ in results]
    assert all(status == 200 or 400 <= status < 500 for status in statuses), statuses
    assert statuses.count(200) >= 1
    status, _, final = server.call("GET", f"/projects/{key}/workflow")
    assert status == 200

    entries = full_history(server, key)
    revisions_newest_first = [entry["change_detail"]["revision"] for entry in entries]
    assert revisions_newest_first == sorted(revisions_newest_first, reverse=True)
    assert revisions_newest_first[-1] == 1
    # Every revision from 2 to the final one is there, each as one contiguous group.
    groups = [
        revision
        for index, revision in enumerate(revisions_newest_first)
        if index == 0 or revisions_newest_first[index - 1] != revision
    ]
    assert groups == list(range(final["revision"], 0, -1))
    assert final["revision"] == 1 + statuses.count(200)
    assert replayed_from_history(original, entries) == final["effective_workflow"]
