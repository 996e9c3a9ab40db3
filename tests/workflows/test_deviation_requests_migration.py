"""Migration 20261205_002: existing acceptances become accepted ones their acceptor requested."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import flask_migrate
import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory

from combine_app.extensions import db
from tests.conftest import REPO_ROOT, make_app
from tests.support.databases import create_database, drop_database

REVISION = "20261205_002"
BEFORE = ScriptDirectory(str(REPO_ROOT / "migrations")).get_revision(REVISION).down_revision
WHEN = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
TABLE = "workflow_accepted_deviations"


@pytest.fixture(params=["sqlite", "postgresql"])
def old_app(request, tmp_path):
    """An app whose database stands at the revision before this one, with one acceptance."""
    admin_url = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'before.sqlite3'}"
    else:
        admin_url = request.getfixturevalue("postgres_admin_url")
        url = create_database(admin_url, prefix="combine_requests")
    app = make_app(url)
    with app.app_context():
        flask_migrate.upgrade(revision=BEFORE)
        instance_id = _seed()
        yield app, instance_id
        db.session.remove()
        db.engine.dispose()
    if admin_url:
        drop_database(admin_url, url)


def _seed() -> uuid.UUID:
    project_id, instance_id = uuid.uuid4(), uuid.uuid4()
    statements = [
        ("INSERT INTO users (id, username, password_hash) VALUES (1, 'alice', 'x')", {}),
        (
            "INSERT INTO projects (id, project_id, name, owner_id) "
            "VALUES (:id, 'MG-001', 'Old', 1)",
            {"id": project_id},
        ),
        (
            "INSERT INTO workflow_instances (id, project_id, base_workflow_ref, "
            "effective_workflow, status, revision) VALUES (:id, :project, '{}', '{}', 'active', 3)",
            {"id": instance_id, "project": project_id},
        ),
        (
            f"INSERT INTO {TABLE} (instance_id, key, kind, reason, fingerprint, accepted_by, "  # noqa: S608 - fixed names
            "accepted_at, revision) VALUES (:instance, 'metadata_changed:name', "
            "'metadata_changed', 'Ours.', 'sha256:1', 'alice', :when, 3)",
            {"instance": instance_id, "when": WHEN},
        ),
    ]
    for statement, parameters in statements:
        execute(statement, parameters)
    db.session.commit()
    return instance_id


def execute(statement: str, parameters: dict) -> None:
    """Run SQL text with UUID and time parameters bound as the columns hold them."""
    types = {uuid.UUID: sa.Uuid(), datetime: sa.DateTime(timezone=True)}
    bound = [sa.bindparam(name, type_=types[type(value)]) for name, value in parameters.items()]
    db.session.execute(sa.text(statement).bindparams(*bound), parameters)


def rows() -> list[dict]:
    table = sa.Table(TABLE, sa.MetaData(), autoload_with=db.engine)
    return [dict(row._mapping) for row in db.session.execute(sa.select(table))]


def test_an_existing_acceptance_becomes_accepted_and_requested_by_its_acceptor(old_app):
    flask_migrate.upgrade(revision=REVISION)
    [row] = rows()
    assert row["status"] == "accepted"
    assert (row["requested_by"], row["accepted_by"]) == ("alice", "alice")
    assert row["requested_at"].replace(tzinfo=UTC) == WHEN
    assert row["accepted_at"].replace(tzinfo=UTC) == WHEN
    assert (row["note"], row["review_by"]) == (None, None)


def test_downgrade_keeps_acceptances_and_drops_requests(old_app):
    _, instance_id = old_app
    flask_migrate.upgrade(revision=REVISION)
    execute(
        f"INSERT INTO {TABLE} (instance_id, key, kind, status, reason, fingerprint, "  # noqa: S608 - fixed names
        "requested_by, revision) VALUES (:instance, 'metadata_changed:description', "
        "'metadata_changed', 'requested', 'Please.', 'sha256:2', 'bob', 4)",
        {"instance": instance_id},
    )
    db.session.commit()
    assert len(rows()) == 2
    db.session.remove()
    flask_migrate.downgrade(revision=BEFORE)
    [row] = rows()
    assert row["key"] == "metadata_changed:name" and row["accepted_by"] == "alice"
    assert "status" not in row
