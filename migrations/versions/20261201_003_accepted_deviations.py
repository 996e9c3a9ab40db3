"""Add workflow_accepted_deviations: differences from the source accepted on purpose (issue 13).

Revision ID: 20261201_003
Revises: 20261201_002
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "20261201_003"
down_revision = "20261201_002"
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade():
    op.create_table(
        "workflow_accepted_deviations",
        sa.Column("instance_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(1000), nullable=False),
        sa.Column("kind", sa.String(50), nullable=False),
        sa.Column("reason", sa.String(1000), nullable=False),
        sa.Column("fingerprint", sa.String(100), nullable=False),
        sa.Column("accepted_by", sa.String(100), nullable=True),
        sa.Column("accepted_at", TIMESTAMP, server_default=sa.func.now(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["workflow_instances.id"],
            name=op.f("fk_workflow_accepted_deviations_instance_id_workflow_instances"),
            ondelete="CASCADE",
        ),
        # The primary key's leading column serves "all acceptances of these instances".
        sa.PrimaryKeyConstraint("instance_id", "key", name=op.f("pk_workflow_accepted_deviations")),
    )


def downgrade():
    op.drop_table("workflow_accepted_deviations")
