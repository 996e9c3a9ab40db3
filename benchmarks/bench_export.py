"""The history export of 100,000 entries: time, size and peak memory (run with -m).

``python -m benchmarks.bench_export [--entries N]`` creates a throwaway PostgreSQL database,
migrates it, assigns software_product_development to a project, appends N history entries
(100,000 by default; ``seed_history``), then downloads
``GET /api/v1/projects/{id}/workflow/history/export`` as CSV and as JSON Lines through the Flask
test client, reading the streamed body chunk by chunk. It prints the bytes, the wall time and
the peak of Python's traced memory (``tracemalloc``) during each download, beside the memory
that holding every entry at once would take, so "constant memory" is a figure, not a claim.
The database is dropped whatever happens.
"""

from __future__ import annotations

import argparse
import os
import time
import tracemalloc

import flask_migrate

from benchmarks.seed import seed_history
from combine_app import create_app
from combine_app.auth import service as auth_service
from combine_app.catalog.app_loader import get_loader
from combine_app.extensions import db
from combine_app.projects import service as project_service
from combine_app.workflows import history_export
from combine_app.workflows.service import WorkflowInstanceService
from tests.support.databases import DEFAULT_ADMIN_URL, create_database, drop_database

SECRET_KEY = "bench-secret-key-not-for-production"  # noqa: S105  (a throwaway local app)


def main(argv: list[str] | None = None) -> int:
    """Seed, download both formats, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--quick", action="store_true", help="10,000 entries")
    args = parser.parse_args(argv)
    count = 10_000 if args.quick else args.entries
    admin_url = (
        os.environ.get("COMBINE_BENCH_POSTGRES_URL")
        or os.environ.get("COMBINE_TEST_POSTGRES_URL")
        or DEFAULT_ADMIN_URL
    )
    database_url = create_database(admin_url, prefix="combine_bench_export")
    try:
        app = create_app(
            {"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": SECRET_KEY}
        )
        with app.app_context():
            flask_migrate.upgrade()
            run(app, database_url, count)
            db.session.remove()
            db.engine.dispose()
        return 0
    finally:
        drop_database(admin_url, database_url)


def run(app, database_url: str, count: int) -> None:
    user = auth_service.create_user("bench", "bench-password-1234")
    token = auth_service.create_token(user, "bench")
    project = project_service.create_project(user, "Export Bench", "")
    service = WorkflowInstanceService(db.session, get_loader())
    instance = service.create_instance(project, "software_product_development", "1.1.0", "bench")
    db.session.commit()
    seed_history(database_url, str(instance.id), count, "bench")
    client = app.test_client()
    path = f"/api/v1/projects/{project.project_id}/workflow/history/export"
    print(f"history export of {count + 1:,} entries (PostgreSQL, Flask test client, streamed)")
    print(f"{'format':>6} {'bytes':>13} {'wall s':>7} {'peak traced MiB':>16}")
    for fmt in history_export.FORMATS:
        tracemalloc.start()
        started = time.perf_counter()
        response = client.get(
            f"{path}?format={fmt}", headers={"Authorization": f"Bearer {token}"}, buffered=False
        )
        size = sum(len(chunk) for chunk in response.response)
        response.close()
        wall = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        if response.status_code != 200:
            raise SystemExit(f"export answered {response.status_code}")
        print(f"{fmt:>6} {size:>13,} {wall:>7.2f} {peak / 2**20:>16.1f}")
    tracemalloc.start()
    held = list(history_export.entries(db.session, instance.id))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(f"for comparison, all {len(held):,} entries held at once: {peak / 2**20:.1f} MiB traced")


if __name__ == "__main__":
    raise SystemExit(main())
