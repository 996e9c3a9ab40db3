"""Migration 20261201_002 gives existing instances their base snapshot only where it is certain."""

from __future__ import annotations

import copy
import uuid

import flask_migrate
import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from combine_app.extensions import db
from combine_app.workflows.diff import content_hash, diff_definitions, history_changes, snapshot
from tests.conftest import make_app
from tests.support.databases import create_database, drop_database

from .instance_support import ACTIVE_SPD, SPD, find_step, source

BEFORE = "20260204_001"
REVISION = "20261201_002"
JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
metadata = sa.MetaData()
users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer),
    sa.Column("username", sa.String),
    sa.Column("password_hash", sa.String),
)
projects = sa.Table(
    "projects",
    metadata,
    sa.Column("id", sa.Uuid),
    sa.Column("project_id", sa.String),
    sa.Column("name", sa.String),
    sa.Column("owner_id", sa.Integer),
)
instances = sa.Table(
    "workflow_instances",
    metadata,
    sa.Column("id", sa.Uuid),
    sa.Column("project_id", sa.Uuid),
    sa.Column("base_workflow_ref", JSON_DOCUMENT),
    sa.Column("effective_workflow", JSON_DOCUMENT),
    sa.Column("status", sa.String),
    sa.Column("revision", sa.Integer),
)
history = sa.Table(
    "workflow_instance_history",
    metadata,
    sa.Column("id", sa.Uuid),
    sa.Column("instance_id", sa.Uuid),
    sa.Column("change_type", sa.String),
    sa.Column("change_detail", JSON_DOCUMENT),
    sa.Column("changed_by", sa.String),
    sa.Column("revision", sa.Integer),
    sa.Column("position", sa.Integer),
)
checkpoints = sa.Table(
    "workflow_instance_checkpoints",
    metadata,
    sa.Column("instance_id", sa.Uuid),
    sa.Column("revision", sa.Integer),
    sa.Column("definition", JSON_DOCUMENT),
    sa.Column("content_hash", sa.String),
)


@pytest.fixture(params=["sqlite", "postgresql"])
def old_app(request, tmp_path):
    """An app whose database is migrated to the revision before this one."""
    admin_url = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'before.sqlite3'}"
    else:
        admin_url = request.getfixturevalue("postgres_admin_url")
        url = create_database(admin_url, prefix="combine_revisions")
    app = make_app(url)
    with app.app_context():
        flask_migrate.upgrade(revision=BEFORE)
        db.session.execute(users.insert().values(id=1, username="alice", password_hash="x"))
        db.session.commit()
        yield app
        db.session.remove()
        db.engine.dispose()
    if admin_url:
        drop_database(admin_url, url)


_keys = iter(range(1, 1000))


def insert_instance(series: list[dict], base_ref: dict, statuses: dict[int, str] | None = None):
    """An instance whose history is the saves between consecutive definitions of the series.

    ``statuses`` adds status-only revisions after the given save number.
    """
    project_id, instance_id = uuid.uuid4(), uuid.uuid4()
    db.session.execute(
        projects.insert().values(
            id=project_id, project_id=f"MG-{next(_keys):03d}", name="Old", owner_id=1
        )
    )
    rows = [("created", {"revision": 1, **base_ref}, 1, 0)]
    revision = 1
    for before, after in zip(series, series[1:], strict=False):
        changes = diff_definitions(before, after)
        if changes.is_empty:
            continue
        revision += 1
        for position, (change_type, detail) in enumerate(history_changes(changes, revision)):
            rows.append((change_type, detail, revision, position))
        if statuses and revision in statuses:
            revision += 1
            rows.append(
                (
                    "status_changed",
                    {"revision": revision, "to": statuses[revision - 1]},
                    revision,
                    0,
                )
            )
    db.session.execute(
        instances.insert().values(
            id=instance_id,
            project_id=project_id,
            base_workflow_ref=base_ref,
            effective_workflow=series[-1],
            status="active",
            revision=revision,
        )
    )
    db.session.execute(
        history.insert(),
        [
            {
                "id": uuid.uuid4(),
                "instance_id": instance_id,
                "change_type": change_type,
                "change_detail": detail,
                "changed_by": "alice",
                "revision": number,
                "position": position,
            }
            for change_type, detail, number, position in rows
        ],
    )
    db.session.commit()
    return instance_id, revision


def ref_of(definition: dict, workflow_id: str = SPD, version: str = ACTIVE_SPD) -> dict:
    """A base_workflow_ref recording this definition's hash."""
    return {
        "workflow_id": workflow_id,
        "version": version,
        "pow_class": "reference",
        "content_hash": content_hash(definition),
    }


def kept_checkpoints(instance_id) -> dict[int, dict]:
    """The checkpoints the migration kept for the instance, by revision."""
    rows = db.session.execute(
        sa.select(checkpoints.c.revision, checkpoints.c.definition, checkpoints.c.content_hash)
        .where(checkpoints.c.instance_id == instance_id)
        .order_by(checkpoints.c.revision)
    ).all()
    result = {}
    for number, definition, digest in rows:
        assert digest == content_hash(definition)
        result[number] = definition
    return result


def long_series(start: dict, saves: int) -> list[dict]:
    """The start and ``saves`` successive definitions, each a small change of the one before."""
    series = [start]
    for number in range(saves):
        following = copy.deepcopy(series[-1])
        following["description"] = f"edit {number}"
        if number == 3:
            following["steps"].pop(1)  # a removed step
        if number == 7:
            following["steps"].insert(0, {"step_id": "added_later", "name": "Added", "role": "R"})
        if number == 9:
            following["steps"].reverse()
        series.append(following)
    return series


def test_source_that_still_matches_gives_the_base_and_checkpoints_every_fifty(old_app):
    base = snapshot(source())[0]
    series = long_series(base, 104)
    instance_id, latest = insert_instance(series, ref_of(base), statuses={60: "completed"})
    assert latest == 106
    flask_migrate.upgrade(revision=REVISION)
    kept = kept_checkpoints(instance_id)
    assert sorted(kept) == [1, 50, 100]
    assert kept[1] == base
    # Revision r (r <= 60) is series[r - 1]; after the status-only revision 61, series[r - 2].
    assert content_hash(kept[50]) == content_hash(series[49])
    assert content_hash(kept[100]) == content_hash(series[98])


def test_edited_source_base_is_rebuilt_by_undoing_the_history(old_app):
    base = snapshot(source())[0]
    base["description"] = "as it was released, before an in-place edit"
    find_step(base, base["steps"][0]["step_id"])["name"] = "Renamed since"
    series = long_series(base, 12)  # removes a step the source file still has unchanged
    instance_id, latest = insert_instance(series, ref_of(base))
    flask_migrate.upgrade(revision=REVISION)
    assert kept_checkpoints(instance_id) == {1: base}
    assert latest == 13


def test_base_that_cannot_be_known_keeps_only_the_current_definition(old_app):
    base = snapshot(source())[0]
    removed = base["steps"][1]
    removed["task_prompt"] = "a prompt the source file never had"
    series = long_series(base, 12)  # removes that step: its fields are nowhere else
    assert all(removed["step_id"] != step["step_id"] for step in series[-1]["steps"])
    instance_id, latest = insert_instance(series, ref_of(base))
    flask_migrate.upgrade(revision=REVISION)
    assert kept_checkpoints(instance_id) == {latest: series[-1]}


def test_deleted_source_with_no_removals_is_rebuilt_from_the_history_alone(old_app):
    base = snapshot(source())[0]
    series = [base]
    for number in range(3):
        following = copy.deepcopy(series[-1])
        following["steps"].append({"step_id": f"extra_{number}", "name": "E", "role": "R"})
        series.append(following)
    instance_id, _ = insert_instance(series, ref_of(base, workflow_id="deleted_since"))
    flask_migrate.upgrade(revision=REVISION)
    assert kept_checkpoints(instance_id) == {1: base}


def test_downgrade_removes_checkpoints_and_reasons_and_upgrade_rebuilds_them(old_app):
    base = snapshot(source())[0]
    instance_id, _ = insert_instance(long_series(base, 3), ref_of(base))
    flask_migrate.upgrade(revision=REVISION)
    flask_migrate.downgrade(revision=BEFORE)
    inspector = sa.inspect(db.engine)
    assert "workflow_instance_checkpoints" not in inspector.get_table_names()
    assert "reason" not in {c["name"] for c in inspector.get_columns("workflow_instance_history")}
    flask_migrate.upgrade(revision=REVISION)
    assert kept_checkpoints(instance_id) == {1: base}
