"""Reading revision n of a 1,000-step workflow: at revision 1, 100 and 5,000 (run with -m).

``python -m benchmarks.bench_revisions [--quick]`` creates a throwaway PostgreSQL database,
migrates it, assigns a 1,000-step workflow (written to a temporary config folder) to a project
and saves it 4,999 times (each save changes one step's prompt, every tenth also moves a step;
see ``build_history``), so the instance is at revision 5,000 with a checkpoint every 50.
It then reads revisions through the service (``read_revision``) and through the API
(``GET /api/v1/projects/{id}/workflow/revisions/{n}`` with the Flask test client, JSON included),
and prints the wall time per read (median and best of the repeats), the saves replayed and the
SQL statements run. Besides the three asked-for revisions, which fall on checkpoints or the
current revision, it reads the worst case of the checkpoint window (49 saves replayed).
``--quick`` stops at revision 1,000. The database is dropped whatever happens.

The PostgreSQL server is ``COMBINE_BENCH_POSTGRES_URL``, else ``COMBINE_TEST_POSTGRES_URL``,
else the local default (a maintenance database; the bench creates its own next to it).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import flask_migrate
from sqlalchemy import event, select, update

from combine_app import create_app
from combine_app.auth import service as auth_service
from combine_app.catalog.app_loader import get_loader
from combine_app.extensions import db
from combine_app.projects import service as project_service
from combine_app.workflows.diff import content_hash, diff_definitions, history_changes, snapshot
from combine_app.workflows.models import (
    WorkflowInstance,
    WorkflowInstanceCheckpoint,
    WorkflowInstanceHistory,
)
from combine_app.workflows.revisions import CHECKPOINT_EVERY, checkpoint_due, read_revision
from combine_app.workflows.service import WorkflowInstanceService
from tests.support.databases import DEFAULT_ADMIN_URL, create_database, drop_database

WORKFLOW_ID = "bench_thousand"
STEPS = 1_000
REPEATS = 15
SERVICE_SAVES = 60  # the first saves, across one checkpoint, go through the service
SECRET_KEY = "bench-secret-key-not-for-production"  # noqa: S105  (a throwaway local app)


def thousand_step_definition(count: int = STEPS) -> dict:
    """A reference POW of ``count`` (1,000) flat steps, each step reading two earlier ones."""
    rng = random.Random(12)
    steps = []
    for number in range(count):
        inputs = [
            {"doc_type": f"doc_{source}", "scope": "project"}
            for source in rng.sample(range(number), min(number, 2))
        ]
        steps.append(
            {
                "step_id": f"step_{number:04d}",
                "name": f"Step {number}",
                "role": rng.choice(["Business Analyst 1.0", "Developer 1.0", "Architect 1.0"]),
                "task_prompt": f"Task {number} v1.0",
                "produces": f"doc_{number}",
                "scope": "project",
                "inputs": inputs,
            }
        )
    return {
        "schema_version": "workflow.v2",
        "workflow_id": WORKFLOW_ID,
        "name": "A thousand steps",
        "description": "Benchmark workflow",
        "pow_class": "reference",
        "steps": steps,
    }


def write_config(folder: Path) -> None:
    """A config folder holding only the 1,000-step workflow."""
    release = folder / "workflows" / WORKFLOW_ID / "releases" / "1.0.0"
    release.mkdir(parents=True)
    (release / "definition.json").write_text(json.dumps(thousand_step_definition()))
    active = folder / "_active"
    active.mkdir()
    (active / "active_releases.json").write_text(json.dumps({"workflows": {WORKFLOW_ID: "1.0.0"}}))


def build_history(
    service: WorkflowInstanceService, project, revisions: int, read: set[int]
) -> dict[int, str]:
    """Bring the instance to ``revisions``; return the content hash after each ``read`` one.

    The instance and its first saves go through the service; the rest of the 4,999 saves are
    written as the service writes them (the same pure diff and history entries, a checkpoint
    every CHECKPOINT_EVERY revisions), in bulk: through the service a save of 1,000 steps takes
    0.1-0.3 s on this machine (mostly validating the definition), which would make the
    setup alone a quarter of an hour. Every read below is checked against these hashes.
    """
    rng = random.Random(7)
    instance = service.create_instance(project, WORKFLOW_ID, "1.0.0", "bench")
    db.session.commit()
    hashes = {1: content_hash(instance.effective_workflow)}
    definition = _copy(instance.effective_workflow)
    through_service = min(revisions, SERVICE_SAVES)
    previous = _copy(definition)
    for number in range(2, revisions + 1):
        step = definition["steps"][rng.randrange(STEPS)]
        step["task_prompt"] = f"Task revised at revision {number}"
        if number % 10 == 0:
            moving = definition["steps"].pop(rng.randrange(STEPS))
            definition["steps"].insert(rng.randrange(STEPS), moving)
        if number in read:
            hashes[number] = content_hash(definition)
        if number <= through_service:
            service.update_instance(project, definition, "bench", reason=f"save {number}")
            db.session.commit()
        else:
            changes = diff_definitions(previous, definition)
            db.session.add_all(
                WorkflowInstanceHistory(
                    id=uuid.uuid4(),
                    instance_id=instance.id,
                    change_type=change_type,
                    change_detail=detail,
                    changed_by="bench",
                    revision=number,
                    position=position,
                    reason=f"save {number}",
                )
                for position, (change_type, detail) in enumerate(history_changes(changes, number))
            )
            if checkpoint_due(number):
                kept, digest = snapshot(definition)
                db.session.add(
                    WorkflowInstanceCheckpoint(
                        instance_id=instance.id,
                        revision=number,
                        definition=kept,
                        content_hash=digest,
                    )
                )
            if number % 500 == 0:
                db.session.commit()
                print(f"  written up to revision {number:,}", flush=True)
        previous = _copy(definition)
    db.session.execute(
        update(WorkflowInstance)
        .where(WorkflowInstance.id == instance.id)
        .values(effective_workflow=snapshot(definition)[0], revision=revisions)
    )
    db.session.commit()
    return hashes


def _copy(definition: dict) -> dict:
    return json.loads(json.dumps(definition))


def timed(function, repeats: int = REPEATS) -> tuple[float, float, float, object]:
    """Median and best wall time of ``function()`` in ms, its best CPU time, its last result.

    CPU time (this process only: the database's share is not in it) stays steady on a busy
    machine, where wall time does not.
    """
    times, cpu, result = [], [], None
    for _ in range(repeats):
        started, started_cpu = time.perf_counter(), time.process_time()
        result = function()
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    return statistics.median(times), min(times), min(cpu), result


def count_statements(function) -> int:
    """How many SQL statements ``function()`` runs."""
    statements = []

    def record(*_args):
        statements.append(1)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        function()
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    return len(statements)


def main(argv: list[str] | None = None) -> int:
    """Build the history, read the revisions, print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="stop at revision 1,000")
    args = parser.parse_args(argv)
    latest = 1_000 if args.quick else 5_000
    asked = [1, 100, latest]
    worst = [CHECKPOINT_EVERY - 1, latest - 1]  # 48 and 49 saves after a checkpoint
    admin_url = (
        os.environ.get("COMBINE_BENCH_POSTGRES_URL")
        or os.environ.get("COMBINE_TEST_POSTGRES_URL")
        or DEFAULT_ADMIN_URL
    )
    database_url = create_database(admin_url, prefix="combine_bench_revisions")
    try:
        with tempfile.TemporaryDirectory() as folder:
            write_config(Path(folder))
            app = create_app(
                {
                    "TESTING": True,
                    "SQLALCHEMY_DATABASE_URI": database_url,
                    "SECRET_KEY": SECRET_KEY,
                    "COMBINE_CONFIG_DIR": Path(folder),
                }
            )
            with app.app_context():
                flask_migrate.upgrade()
                status = run(app, latest, asked, worst)
                db.session.remove()
                db.engine.dispose()
            return status
    finally:
        drop_database(admin_url, database_url)


def run(app, latest: int, asked: list[int], worst: list[int]) -> int:
    """Seed and measure inside the app context; 0 when every read matched what was saved."""
    user = auth_service.create_user("bench", "bench-password-1234")
    token = auth_service.create_token(user, "bench")
    project = project_service.create_project(user, "Thousand Steps", "")
    db.session.commit()
    service = WorkflowInstanceService(db.session, get_loader())
    print(f"building {latest:,} revisions of a {STEPS:,}-step workflow ...", flush=True)
    hashes = build_history(service, project, latest, set(asked + worst))
    db.session.expire_all()
    instance = db.session.scalar(select(WorkflowInstance))
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    path = f"/api/v1/projects/{project.project_id}/workflow/revisions/"
    print(
        f"\nreading revisions (checkpoint every {CHECKPOINT_EVERY}; wall ms, median / best of "
        f"{REPEATS})"
    )
    print(
        f"{'revision':>9} {'replayed':>9} {'SQL':>4} {'service ms':>16} {'CPU ms':>7} "
        f"{'GET API ms':>16} {'CPU ms':>7}  ok"
    )
    print("-" * 82)
    wrong = 0
    for number in asked + worst:
        median, best, cpu, revision = timed(lambda n=number: read_revision(db.session, instance, n))
        statements = count_statements(lambda n=number: client.get(path + str(n), headers=headers))
        http_median, http_best, http_cpu, response = timed(
            lambda n=number: client.get(path + str(n), headers=headers)
        )
        ok = (
            response.status_code == 200
            and revision.content_hash == hashes[number]
            and content_hash(response.get_json()["definition"]) == hashes[number]
        )
        wrong += not ok
        label = f"{number:,}" + ("*" if number in worst else "")
        print(
            f"{label:>9} {revision.replayed_saves:>9} {statements:>4} "
            f"{median:>8.1f} / {best:>5.1f} {cpu:>7.1f} "
            f"{http_median:>8.1f} / {http_best:>5.1f} {http_cpu:>7.1f}  "
            f"{'yes' if ok else 'NO'}"
        )
    print("* the worst case of a checkpoint window (most saves replayed)")
    current = timed(lambda: client.get(path.removesuffix("/revisions/"), headers=headers))
    print(
        f"for scale: GET …/workflow (the current one) {current[0]:.1f} / {current[1]:.1f} ms, "
        f"CPU {current[2]:.1f} ms"
    )
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
