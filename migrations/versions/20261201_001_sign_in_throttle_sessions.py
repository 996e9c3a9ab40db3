"""Sign-in hardening: failed sign-in attempts (throttling) and server-side sessions (sign-out).

Both live in the database so that every gunicorn worker and every replica sees the same
counts and the same revocations.

Revision ID: 20261201_001
Revises: 20261201_004
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "20261201_001"
down_revision = "20261201_004"
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade():
    op.create_table(
        "sign_in_failures",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("scope", sa.String(10), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("failed_at", TIMESTAMP, server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_failures")),
    )
    op.create_index(
        "idx_sign_in_failures_scope_key_failed_at",
        "sign_in_failures",
        ["scope", "key_hash", "failed_at"],
    )
    op.create_index("idx_sign_in_failures_failed_at", "sign_in_failures", ["failed_at"])
    op.create_table(
        "user_sessions",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", TIMESTAMP, server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_user_sessions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_sessions")),
    )
    op.create_index("idx_user_sessions_user_id", "user_sessions", ["user_id"])


def downgrade():
    op.drop_index("idx_user_sessions_user_id", table_name="user_sessions")
    op.drop_table("user_sessions")
    op.drop_index("idx_sign_in_failures_failed_at", table_name="sign_in_failures")
    op.drop_index("idx_sign_in_failures_scope_key_failed_at", table_name="sign_in_failures")
    op.drop_table("sign_in_failures")
