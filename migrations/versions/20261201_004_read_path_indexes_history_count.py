"""Read path: indexes in the order the lists read, and each instance's count of history entries.

The history page reads newest first within one instance and the project list reads one owner's
unarchived projects newest first: each gets an index in that order (replacing the single-column
index it makes redundant), so a page costs the same at 100,000 rows as at 100. The page's
``total`` is kept on the instance (``history_count``, filled here from the entries there are)
instead of counted on every read.

Revision ID: 20261201_004
Revises: 20261201_003
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "20261201_004"
down_revision = "20261201_003"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("workflow_instances") as batch:
        batch.add_column(
            sa.Column("history_count", sa.Integer(), server_default="0", nullable=False)
        )
    op.execute(
        "UPDATE workflow_instances SET history_count = (SELECT count(*) FROM "
        "workflow_instance_history h WHERE h.instance_id = workflow_instances.id)"
    )
    op.create_index(
        "idx_workflow_instance_history_page",
        "workflow_instance_history",
        ["instance_id", "revision", "position"],
    )
    op.drop_index("idx_workflow_instance_history_instance_id", "workflow_instance_history")
    op.create_index(
        "idx_projects_owner_list",
        "projects",
        ["owner_id", "archived_at", "created_at", "project_id"],
    )
    op.create_index("idx_projects_list", "projects", ["archived_at", "created_at", "project_id"])
    op.drop_index("ix_projects_owner_id", "projects")


def downgrade():
    op.create_index("ix_projects_owner_id", "projects", ["owner_id"])
    op.drop_index("idx_projects_list", "projects")
    op.drop_index("idx_projects_owner_list", "projects")
    op.create_index(
        "idx_workflow_instance_history_instance_id", "workflow_instance_history", ["instance_id"]
    )
    op.drop_index("idx_workflow_instance_history_page", "workflow_instance_history")
    with op.batch_alter_table("workflow_instances") as batch:
        batch.drop_column("history_count")
