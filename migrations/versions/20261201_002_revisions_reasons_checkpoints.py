"""Revisions: a reason on history entries, and checkpoints (revision 1 is the base snapshot).

Existing instances get their base snapshot where it can be known for certain: the source file
still hashes to the recorded ``content_hash``, or undoing the history from the current
definition rebuilds a definition with that hash. Their later checkpoints are replayed from it.
Where the base cannot be known, only the current definition is kept (as a checkpoint at the
current revision), and reading an earlier revision answers 409 saying why.

Revision ID: 20261201_002
Revises: 20260204_001 (20261201_001, of issue 11, was not on main when this landed)
Create Date: 2026-12-01
"""

from itertools import groupby
from pathlib import Path

import sqlalchemy as sa
from alembic import context, op
from flask import current_app
from sqlalchemy.dialects import postgresql

# Pure or file-reading modules, no models: what the app does to a definition, done the same way.
from combine_app.catalog.loader import PackageLoader
from combine_app.workflows.diff import content_hash, snapshot
from combine_app.workflows.history_replay import replay_revisions, undo_to_base

revision = "20261201_002"
down_revision = "20260204_001"
branch_labels = None
depends_on = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)
# The app's CHECKPOINT_EVERY when this migration was written; later changes need no backfill,
# because reading a revision uses the newest checkpoint at or before it, whatever the spacing.
CHECKPOINT_EVERY = 50

instances = sa.table(
    "workflow_instances",
    sa.column("id", sa.Uuid()),
    sa.column("base_workflow_ref", JSON_DOCUMENT),
    sa.column("effective_workflow", JSON_DOCUMENT),
    sa.column("revision", sa.Integer()),
)
history = sa.table(
    "workflow_instance_history",
    sa.column("instance_id", sa.Uuid()),
    sa.column("revision", sa.Integer()),
    sa.column("position", sa.Integer()),
    sa.column("change_type", sa.String()),
    sa.column("change_detail", JSON_DOCUMENT),
)
checkpoints = sa.table(
    "workflow_instance_checkpoints",
    sa.column("instance_id", sa.Uuid()),
    sa.column("revision", sa.Integer()),
    sa.column("definition", JSON_DOCUMENT),
    sa.column("content_hash", sa.String()),
)


def upgrade():
    op.create_table(
        "workflow_instance_checkpoints",
        sa.Column("instance_id", sa.Uuid(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("definition", JSON_DOCUMENT, nullable=False),
        sa.Column("content_hash", sa.String(100), nullable=False),
        sa.Column("created_at", TIMESTAMP, server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["workflow_instances.id"],
            name=op.f("fk_workflow_instance_checkpoints_instance_id_workflow_instances"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "instance_id", "revision", name=op.f("pk_workflow_instance_checkpoints")
        ),
    )
    op.add_column("workflow_instance_history", sa.Column("reason", sa.String(1000)))
    op.create_index(
        "idx_workflow_instance_history_instance_revision",
        "workflow_instance_history",
        ["instance_id", "revision"],
    )
    if not context.is_offline_mode():
        _keep_checkpoints_of_existing_instances(op.get_bind())


def downgrade():
    op.drop_index("idx_workflow_instance_history_instance_revision", "workflow_instance_history")
    with op.batch_alter_table("workflow_instance_history") as batch:
        batch.drop_column("reason")
    op.drop_table("workflow_instance_checkpoints")


def _keep_checkpoints_of_existing_instances(connection) -> None:
    loader = _loader()
    for instance in connection.execute(sa.select(instances)).mappings():
        rows = connection.execute(
            sa.select(history.c.revision, history.c.change_type, history.c.change_detail)
            .where(history.c.instance_id == instance["id"])
            .order_by(history.c.revision, history.c.position)
        ).all()
        revisions = {
            number: [(row.change_type, row.change_detail) for row in group]
            for number, group in groupby(rows, key=lambda row: row.revision)
        }
        kept = _checkpoints(instance, revisions, loader)
        connection.execute(
            checkpoints.insert(),
            [
                {
                    "instance_id": instance["id"],
                    "revision": number,
                    "definition": definition,
                    "content_hash": content_hash(definition),
                }
                for number, definition in sorted(kept.items())
            ],
        )


def _checkpoints(instance, revisions: dict, loader) -> dict[int, dict]:
    """The definitions to keep, by revision: the base and every CHECKPOINT_EVERY-th when known."""
    current, latest = instance["effective_workflow"], instance["revision"]
    base = _base(instance, revisions, loader)
    if base is None:
        return {latest: current}
    kept = {1: base}
    definition = base
    try:
        for number in range(2, latest + 1):
            definition, _ = replay_revisions(definition, [revisions.get(number, [])])
            if number % CHECKPOINT_EVERY == 0:
                kept[number] = definition
    except (ValueError, KeyError, TypeError):
        definition = None  # the history does not replay: keep only what is certain
    if definition is None or content_hash(definition) != content_hash(current):
        return {latest: current}  # the history does not lead to the current definition
    return kept


def _base(instance, revisions: dict, loader) -> dict | None:
    """The definition the instance started from, when it can be known for certain."""
    ref = instance["base_workflow_ref"] or {}
    recorded = ref.get("content_hash")
    if not recorded:
        return None
    source = None
    if loader is not None:
        try:
            source = snapshot(loader.get_definition(ref["workflow_id"], ref["version"]))[0]
        except Exception:  # any unreadable source only means "not known from the source"
            source = None
    if source is not None and content_hash(source) == recorded:
        return source
    undone = [revisions[number] for number in sorted(revisions, reverse=True) if number > 1]
    return undo_to_base(
        instance["effective_workflow"], undone, recorded, [source] if source else []
    )


def _loader() -> PackageLoader | None:
    configured = current_app.config.get("COMBINE_CONFIG_DIR")
    return PackageLoader(Path(configured)) if configured else None
