"""Migration 20261205_001: every existing project's owner becomes its owner member."""

from __future__ import annotations

import uuid

import flask_migrate
import pytest
from sqlalchemy import inspect, text

from combine_app.extensions import db
from tests.conftest import make_app
from tests.support.databases import create_database, drop_database

BEFORE = "20261201_001"
MEMBERS = "20261205_001"


@pytest.fixture(params=["sqlite", "postgresql"])
def migrated_to_before(request, tmp_path):
    """An app whose database stands at the revision before members, with two owners' projects."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'members.sqlite3'}"
    else:
        admin_url = request.getfixturevalue("postgres_admin_url")
        url = create_database(admin_url, prefix="combine_members")
        request.addfinalizer(lambda: drop_database(admin_url, url))
    app = make_app(url)
    with app.app_context():
        flask_migrate.upgrade(revision=BEFORE)
        with db.engine.begin() as connection:
            for user_id, name in ((1, "alice"), (2, "bob")):
                connection.execute(
                    text(
                        "INSERT INTO users (id, username, password_hash, is_admin, created_at) "
                        "VALUES (:id, :name, 'x', false, CURRENT_TIMESTAMP)"
                    ),
                    {"id": user_id, "name": name},
                )
            for key, owner in (("AP-001", 1), ("AP-002", 1), ("BP-001", 2)):
                connection.execute(
                    text(
                        "INSERT INTO projects (id, project_id, name, description, status, "
                        "owner_id, created_at, updated_at) VALUES (:id, :key, :key, '', "
                        "'active', :owner, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                    ),
                    {"id": _uuid(key), "key": key, "owner": owner},
                )
        yield app
        db.engine.dispose()


def _uuid(key: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, key))


def _members() -> set[tuple[str, str, str, str]]:
    with db.engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT p.project_id, u.username, m.role, m.added_by FROM project_members m "
                "JOIN projects p ON p.id = m.project_id JOIN users u ON u.id = m.user_id"
            )
        )
        return {tuple(row) for row in rows}


def test_upgrade_makes_each_owner_the_owner_member_and_downgrade_removes_the_tables(
    migrated_to_before,
):
    flask_migrate.upgrade(revision=MEMBERS)
    assert _members() == {
        ("AP-001", "alice", "owner", "alice"),
        ("AP-002", "alice", "owner", "alice"),
        ("BP-001", "bob", "owner", "bob"),
    }
    flask_migrate.downgrade(revision=BEFORE)
    tables = set(inspect(db.engine).get_table_names())
    assert not {"project_members", "project_policies"} & tables
    assert "projects" in tables
    flask_migrate.upgrade(revision=MEMBERS)
    assert len(_members()) == 3
