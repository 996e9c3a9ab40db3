"""Add workflow_instances and workflow_instance_history (WS-ADR-046-001 phase 1).

Revision ID: 20260204_001
Revises: 20260201_001
Create Date: 2026-02-04
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "20260204_001"
down_revision = "20260201_001"
branch_labels = None
depends_on = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade():
    op.create_table(
        "workflow_instances",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("base_workflow_ref", JSON_DOCUMENT, nullable=False),
        sa.Column("effective_workflow", JSON_DOCUMENT, nullable=False),
        sa.Column("status", sa.String(50), server_default="active", nullable=False),
        sa.Column("revision", sa.Integer(), server_default="1", nullable=False),
        sa.Column("created_at", TIMESTAMP, server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", TIMESTAMP, server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_workflow_instances_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflow_instances")),
    )
    # The unique index is the "one instance per project" constraint of the spec.
    op.create_index(
        "idx_workflow_instances_project_id", "workflow_instances", ["project_id"], unique=True
    )
    op.create_index("idx_workflow_instances_status", "workflow_instances", ["status"])
    op.create_table(
        "workflow_instance_history",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("instance_id", sa.Uuid(), nullable=False),
        sa.Column("change_type", sa.String(50), nullable=False),
        sa.Column("change_detail", JSON_DOCUMENT, nullable=True),
        sa.Column("changed_at", TIMESTAMP, server_default=sa.func.now(), nullable=False),
        sa.Column("changed_by", sa.String(100), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["workflow_instances.id"],
            name=op.f("fk_workflow_instance_history_instance_id_workflow_instances"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflow_instance_history")),
    )
    op.create_index(
        "idx_workflow_instance_history_instance_id", "workflow_instance_history", ["instance_id"]
    )
    op.create_index(
        "idx_workflow_instance_history_changed_at", "workflow_instance_history", ["changed_at"]
    )


def downgrade():
    op.drop_index("idx_workflow_instance_history_changed_at", "workflow_instance_history")
    op.drop_index("idx_workflow_instance_history_instance_id", "workflow_instance_history")
    op.drop_table("workflow_instance_history")
    op.drop_index("idx_workflow_instances_status", "workflow_instances")
    op.drop_index("idx_workflow_instances_project_id", "workflow_instances")
    op.drop_table("workflow_instances")
