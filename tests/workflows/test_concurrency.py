"""Concurrent writers against real gunicorn (4 workers) on PostgreSQL: no lost or torn updates."""

from __future__ import annotations

import os
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from email.message import Message
from typing import Any

import pytest

from combine_app.workflows.diff import WorkflowDiff, replay
from tests.support.databases import create_database, drop_database
from tests.support.served import call, run_flask, start_gunicorn

from .instance_support import SPD, edited, with_step_added, with_step_field

pytestmark = pytest.mark.server

CLIENTS = 20
PASSWORD = "correct horse battery"
STARTUP_SECONDS = 30


@dataclass
class Server:
    """A running gunicorn and the token of the user it knows."""

    port: int
    token: str

    def call(self, method: str, path: str, body=None, headers=None) -> tuple[int, Message, Any]:
        """Send one /api/v1 request as the user; return status, headers and the parsed body."""
        return call(
            self.port,
            method,
            "/api/v1" + path,
            token=self.token,
            body=body,
            headers=headers,
            timeout=60,
        )


@pytest.fixture(scope="module")
def server(postgres_admin_url, tmp_path_factory):
    """gunicorn with 4 workers on a fresh, migrated PostgreSQL database, alice and her token."""
    database_url = create_database(postgres_admin_url)
    env = {
        **os.environ,
        "COMBINE_ENV": "production",
        "SECRET_KEY": "concurrency-test-secret",
        "DATABASE_URL": database_url,
        "LOG_LEVEL": "warning",
    }
    env.pop("COMBINE_CONFIG_DIR", None)
    log = tmp_path_factory.mktemp("gunicorn") / "gunicorn.log"
    try:
        run_flask(env, "db", "upgrade")
        run_flask(env, "users", "create", "alice", "--password-stdin", stdin=PASSWORD + "\n")
        token = run_flask(env, "tokens", "create", "alice").strip().splitlines()[-1]
        with start_gunicorn(env, log, workers=4, startup_seconds=STARTUP_SECONDS) as gunicorn:
            yield Server(gunicorn.port, token)
    finally:
        drop_database(postgres_admin_url, database_url)


def all_at_once(requests: list) -> list[tuple[int, Message, Any]]:
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
