"""Add project_counts and project_totals: the project list's totals, kept instead of counted.

Each member's row holds how many projects they are a member of and how many of those are not
archived; the one row of project_totals holds the same of every project (an administrator's
list). Both are filled here from the projects and members there are; from now on every change
of a project or a membership moves them in its own transaction (issue 20). Downgrading drops
them and loses nothing a count cannot compute again.

The list's index on projects becomes (created_at, project_id): led by archived_at, PostgreSQL
could not read it in the list's order (an IS NULL test does not fix a column for the planner),
so every page sorted all the projects the user sees.

Revision ID: 20261205_004
Revises: 20261205_003
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "20261205_004"
down_revision = "20261205_003"
branch_labels = None
depends_on = None


def _count_columns() -> list[sa.Column]:
    return [
        sa.Column("visible", sa.Integer(), server_default="0", nullable=False),
        sa.Column("visible_not_archived", sa.Integer(), server_default="0", nullable=False),
    ]


def upgrade():
    op.create_table(
        "project_counts",
        sa.Column("user_id", sa.Integer(), nullable=False),
        *_count_columns(),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_project_counts_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_project_counts")),
    )
    op.create_table(
        "project_totals",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        *_count_columns(),
        sa.CheckConstraint("id = 1", name=op.f("ck_project_totals_one_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project_totals")),
    )
    op.execute(
        "INSERT INTO project_counts (user_id, visible, visible_not_archived) "
        "SELECT project_members.user_id, COUNT(*), "
        "SUM(CASE WHEN projects.archived_at IS NULL THEN 1 ELSE 0 END) "
        "FROM project_members JOIN projects ON projects.id = project_members.project_id "
        "GROUP BY project_members.user_id"
    )
    # One row even with no projects: SUM over nothing is NULL, hence the COALESCE.
    op.execute(
        "INSERT INTO project_totals (id, visible, visible_not_archived) "
        "SELECT 1, COUNT(*), COALESCE(SUM(CASE WHEN archived_at IS NULL THEN 1 ELSE 0 END), 0) "
        "FROM projects"
    )
    op.drop_index("idx_projects_list", "projects")
    op.create_index("idx_projects_list", "projects", ["created_at", "project_id"])


def downgrade():
    op.drop_index("idx_projects_list", "projects")
    op.create_index("idx_projects_list", "projects", ["archived_at", "created_at", "project_id"])
    op.drop_table("project_totals")
    op.drop_table("project_counts")
