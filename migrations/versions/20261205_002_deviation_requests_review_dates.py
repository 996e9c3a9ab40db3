"""Deviation requests and review dates: an acceptance is asked for, then decided (issue 16).

``workflow_accepted_deviations`` keeps one row per instance and key. A row is now either a
request (``status`` ``requested``: asked for by ``requested_by``, not yet explaining its item)
or an acceptance (``accepted``: decided by ``accepted_by``), with the decider's ``note`` and an
optional ``review_by`` date after which the acceptance expires. Existing acceptances become
accepted ones that their acceptor requested.

Revision ID: 20261205_002
Revises: 20261205_001
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "20261205_002"
down_revision = "20261205_001"
branch_labels = None
depends_on = None

TABLE = "workflow_accepted_deviations"
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade():
    with op.batch_alter_table(TABLE) as batch:
        batch.add_column(
            sa.Column("status", sa.String(20), server_default="accepted", nullable=False)
        )
        batch.add_column(sa.Column("requested_by", sa.String(100), nullable=True))
        batch.add_column(
            sa.Column("requested_at", TIMESTAMP, server_default=sa.func.now(), nullable=False)
        )
        batch.add_column(sa.Column("note", sa.String(1000), nullable=True))
        batch.add_column(sa.Column("review_by", sa.Date(), nullable=True))
        # A request has not been accepted by anyone yet: no time until it is.
        batch.alter_column(
            "accepted_at",
            existing_type=TIMESTAMP,
            nullable=True,
            server_default=None,
            existing_server_default=sa.func.now(),
        )
    op.execute(
        "UPDATE workflow_accepted_deviations "
        "SET requested_by = accepted_by, requested_at = accepted_at"
    )


def downgrade():
    # Requests explain nothing and had no place before this revision: only acceptances stay.
    op.execute("DELETE FROM workflow_accepted_deviations WHERE status <> 'accepted'")
    with op.batch_alter_table(TABLE) as batch:
        batch.alter_column(
            "accepted_at",
            existing_type=TIMESTAMP,
            nullable=False,
            server_default=sa.func.now(),
        )
        batch.drop_column("review_by")
        batch.drop_column("note")
        batch.drop_column("requested_at")
        batch.drop_column("requested_by")
        batch.drop_column("status")
