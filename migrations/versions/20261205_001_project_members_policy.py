"""Add project_members and project_policies: teams, roles and the four-eyes policy (issue 16).

Every existing project's owner becomes its owner member. The projects table is left as it is
(the specification forbids changing it): a project without a policy row has the defaults.

Revision ID: 20261205_001
Revises: 20261201_001
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "20261205_001"
down_revision = "20261201_001"
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime(timezone=True)
ROLES = ("viewer", "editor", "approver", "owner")


def upgrade():
    op.create_table(
        "project_members",
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("added_by", sa.String(80), nullable=False),
        sa.Column("added_at", TIMESTAMP, server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint(
            "role IN ({})".format(", ".join(f"'{role}'" for role in ROLES)),
            name=op.f("ck_project_members_role"),
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_project_members_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_project_members_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("project_id", "user_id", name=op.f("pk_project_members")),
    )
    # "The projects this user is a member of": the list and every visibility test.
    op.create_index("idx_project_members_user", "project_members", ["user_id", "project_id"])
    op.create_table(
        "project_policies",
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("four_eyes", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("review_days", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "review_days IS NULL OR review_days > 0", name=op.f("ck_project_policies_review_days")
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_project_policies_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("project_id", name=op.f("pk_project_policies")),
    )
    op.execute(
        "INSERT INTO project_members (project_id, user_id, role, added_by, added_at) "
        "SELECT projects.id, projects.owner_id, 'owner', users.username, projects.created_at "
        "FROM projects JOIN users ON users.id = projects.owner_id"
    )


def downgrade():
    op.drop_table("project_policies")
    op.drop_index("idx_project_members_user", table_name="project_members")
    op.drop_table("project_members")
