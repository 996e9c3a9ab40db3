"""Migration 20261205_004: the project list's counts are filled exactly from what is there."""

from __future__ import annotations

import uuid

import flask_migrate
import pytest
from sqlalchemy import inspect, text

from combine_app.extensions import db
from tests.conftest import make_app
from tests.support.databases import create_database, drop_database

BEFORE = "20261205_003"
COUNTS = "20261205_004"
USERS = ((1, "alice", False), (2, "bob", False), (3, "carol", False), (4, "root", True))
# key, owner, archived, other members (user id -> role)
PROJECTS = (
    ("AP-001", 1, False, {2: "viewer"}),
    ("AP-002", 1, True, {}),
    ("BP-001", 2, False, {}),
    ("BP-002", 2, True, {1: "editor"}),
    ("BP-003", 2, False, {1: "approver", 4: "viewer"}),
)


def _uuid(key: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, key))


def _database(request, tmp_path, name: str) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / f'{name}.sqlite3'}"
    admin_url = request.getfixturevalue("postgres_admin_url")
    url = create_database(admin_url, prefix=f"combine_{name}")
    request.addfinalizer(lambda: drop_database(admin_url, url))
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def migrated_to_before(request, tmp_path):
    """An app whose database stands at the revision before the counts, with members' projects."""
    app = make_app(_database(request, tmp_path, "counts"))
    with app.app_context():
        flask_migrate.upgrade(revision=BEFORE)
        with db.engine.begin() as connection:
            for user_id, name, admin in USERS:
                connection.execute(
                    text(
                        "INSERT INTO users (id, username, password_hash, is_admin, created_at) "
                        "VALUES (:id, :name, 'x', :admin, CURRENT_TIMESTAMP)"
                    ),
                    {"id": user_id, "name": name, "admin": admin},
                )
            for key, owner, archived, others in PROJECTS:
                connection.execute(
                    text(
                        "INSERT INTO projects (id, project_id, name, description, status, "
                        "owner_id, created_at, updated_at, archived_at) VALUES (:id, :key, :key, "
                        "'', 'active', :owner, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, "
                        + ("CURRENT_TIMESTAMP)" if archived else "NULL)")
                    ),
                    {"id": _uuid(key), "key": key, "owner": owner},
                )
                for user_id, role in {owner: "owner", **others}.items():
                    connection.execute(
                        text(
                            "INSERT INTO project_members (project_id, user_id, role, added_by) "
                            "VALUES (:project, :user, :role, 'test')"
                        ),
                        {"project": _uuid(key), "user": user_id, "role": role},
                    )
        yield app
        db.engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_before(request, tmp_path):
    """An app whose empty database stands at the revision before the counts."""
    app = make_app(_database(request, tmp_path, "counts_empty"))
    with app.app_context():
        flask_migrate.upgrade(revision=BEFORE)
        yield app
        db.engine.dispose()


def _rows(table: str, key: str) -> dict:
    with db.engine.connect() as connection:
        rows = connection.execute(
            text(f"SELECT {key}, visible, visible_not_archived FROM {table}")  # noqa: S608
        )
        return {row[0]: (row[1], row[2]) for row in rows}


def _counted_afresh() -> dict:
    with db.engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT m.user_id, COUNT(*), COUNT(*) - COUNT(p.archived_at) "
                "FROM project_members m JOIN projects p ON p.id = m.project_id GROUP BY m.user_id"
            )
        )
        return {row[0]: (row[1], row[2]) for row in rows}


def test_upgrade_fills_each_members_counts_and_the_totals_exactly_and_downgrade_drops_them(
    migrated_to_before,
):
    flask_migrate.upgrade(revision=COUNTS)
    # alice: AP-001, AP-002 (archived), BP-002 (archived), BP-003; bob: AP-001 and his three,
    # one archived; root: BP-003; carol is a member of nothing and has no row.
    assert _rows("project_counts", "user_id") == {1: (4, 2), 2: (4, 3), 4: (1, 1)}
    assert _rows("project_counts", "user_id") == _counted_afresh()
    assert _rows("project_totals", "id") == {1: (5, 3)}

    flask_migrate.downgrade(revision=BEFORE)
    tables = set(inspect(db.engine).get_table_names())
    assert not {"project_counts", "project_totals"} & tables
    flask_migrate.upgrade(revision=COUNTS)
    assert _rows("project_totals", "id") == {1: (5, 3)}


def test_upgrade_of_an_empty_database_makes_the_totals_row_of_zeros(empty_before):
    flask_migrate.upgrade(revision=COUNTS)
    assert _rows("project_counts", "user_id") == {}
    assert _rows("project_totals", "id") == {1: (0, 0)}
