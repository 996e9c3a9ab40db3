"""Add workflow_drifts: each instance's computed drift, kept under what it depends on (issue 20).

One row per instance, valid while the instance's revision, the source release's content hash,
the base snapshot's hash and the format of the computation are what the row names; any change
of one recomputes it on the next read. Nothing is backfilled: the first read of each drift fills
its row. Downgrading drops the table and loses only what a read can compute again.

Revision ID: 20261205_003
Revises: 20261205_002
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "20261205_003"
down_revision = "20261205_002"
branch_labels = None
depends_on = None

TABLE = "workflow_drifts"
JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade():
    op.create_table(
        TABLE,
        sa.Column("instance_id", sa.Uuid(), nullable=False),
        sa.Column("format", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("source_hash", sa.String(100), nullable=True),
        sa.Column("base_hash", sa.String(100), nullable=True),
        sa.Column("summary", JSON_DOCUMENT, nullable=False),
        sa.Column("drift", JSON_DOCUMENT, nullable=False),
        sa.Column(
            "computed_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["workflow_instances.id"],
            name=op.f("fk_workflow_drifts_instance_id_workflow_instances"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("instance_id", name=op.f("pk_workflow_drifts")),
    )


def downgrade():
    op.drop_table(TABLE)
