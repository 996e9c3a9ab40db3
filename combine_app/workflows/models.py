"""The workflow_instances and workflow_instance_history tables (WS-ADR-046-001 phase 1-2)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Uuid, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from combine_app.database import JSONDocument, Timestamp, utcnow
from combine_app.extensions import db
from combine_app.projects.models import Project
from combine_app.workflows.drift_items import ACCEPTED, REQUESTED

STATUSES = ("active", "completed", "archived")
# Every kind of history entry: one per kind of change and per save (README "History").
CHANGE_TYPES = (
    "created",
    "step_added",
    "step_removed",
    "step_reordered",
    "step_modified",
    "metadata_changed",
    "status_changed",
    "deviation_requested",
    "deviation_accepted",
    "deviation_rejected",
    "deviation_withdrawn",
)
REASON_LIMIT = 1000
# The longest drift item key that can be accepted as a deviation, in characters. A key travels
# in the path of approve, reject and withdraw: 600 characters of four UTF-8 bytes, each byte
# percent-encoded (7,200 bytes), plus the rest of the request line stay within gunicorn's
# limit_request_line of 8,190 bytes (tests/server/test_server.py sends one).
MAX_DEVIATION_KEY_LENGTH = 600
# What every door says of a key outside 1 .. MAX_DEVIATION_KEY_LENGTH characters.
DEVIATION_KEY_LENGTH_WORDS = f"Length must be between 1 and {MAX_DEVIATION_KEY_LENGTH}."
# The key column's width, from when the limit was 1,000 (a narrower column would need a
# migration that could refuse existing rows; the schemas hold new keys to the limit above).
DEVIATION_KEY_COLUMN_LENGTH = 1000


class WorkflowInstance(db.Model):
    """A project's own editable copy of a reference or template POW."""

    __tablename__ = "workflow_instances"
    __table_args__ = (
        Index("idx_workflow_instances_project_id", "project_id", unique=True),
        Index("idx_workflow_instances_status", "status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    project_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("projects.id", ondelete="CASCADE")
    )
    base_workflow_ref: Mapped[dict] = mapped_column(JSONDocument)
    effective_workflow: Mapped[dict] = mapped_column(JSONDocument)
    status: Mapped[str] = mapped_column(String(50), default="active", server_default="active")
    # Optimistic concurrency: every UPDATE checks and bumps it (and so does every change).
    revision: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # How many history entries the instance has: the history page's total without a count.
    # Kept by repository.count_new_history after every flush that adds entries.
    history_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(
        Timestamp, default=utcnow, server_default=func.now()
    )
    updated_at: Mapped[datetime] = mapped_column(
        Timestamp, default=utcnow, server_default=func.now(), onupdate=utcnow
    )

    project: Mapped[Project] = relationship(
        backref=db.backref("workflow_instance", uselist=False, passive_deletes=True)
    )

    @property
    def project_key(self) -> str:
        """The project's human key (the API answers it with the instance)."""
        return self.project.project_id

    __mapper_args__ = {"version_id_col": revision}


class WorkflowInstanceHistory(db.Model):
    """One append-only record of a change to an instance."""

    __tablename__ = "workflow_instance_history"
    __table_args__ = (
        # The history page: one instance's entries newest first (read backward for the end).
        Index("idx_workflow_instance_history_page", "instance_id", "revision", "position"),
        Index("idx_workflow_instance_history_changed_at", "changed_at"),
        # Reading a revision fetches the entries of a range of revisions of one instance.
        Index("idx_workflow_instance_history_instance_revision", "instance_id", "revision"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    instance_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("workflow_instances.id", ondelete="CASCADE")
    )
    change_type: Mapped[str] = mapped_column(String(50))
    change_detail: Mapped[dict | None] = mapped_column(JSONDocument)
    changed_at: Mapped[datetime] = mapped_column(
        Timestamp, default=utcnow, server_default=func.now()
    )
    changed_by: Mapped[str | None] = mapped_column(String(100))
    # The instance revision this entry produced, and its place among that revision's entries:
    # entries written in one transaction share changed_at, so these give the order.
    revision: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Why the change was made, as its author said (the same text on every entry of one change).
    reason: Mapped[str | None] = mapped_column(String(REASON_LIMIT))


class WorkflowInstanceCheckpoint(db.Model):
    """The full definition of an instance as it stood after one revision.

    Revision 1 is the base snapshot: what the instance started from, kept even after the source
    file is edited in place or deleted. Later checkpoints (every ``CHECKPOINT_EVERY`` revisions)
    bound the number of saves replayed to read any revision.
    """

    __tablename__ = "workflow_instance_checkpoints"

    instance_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("workflow_instances.id", ondelete="CASCADE"), primary_key=True
    )
    revision: Mapped[int] = mapped_column(Integer, primary_key=True)
    definition: Mapped[dict] = mapped_column(JSONDocument)
    content_hash: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(
        Timestamp, default=utcnow, server_default=func.now()
    )


class AcceptedDeviation(db.Model):
    """A difference from the source that someone asked to accept, or accepted, with why.

    One row per instance and drift item key. A ``requested`` row waits for a decision and
    explains nothing yet; an ``accepted`` one explains its item while its fingerprint matches
    and its ``review_by`` date has not passed. Rejecting or withdrawing deletes the row (the
    history keeps every event). The fingerprint is that of the item when it was requested.
    """

    __tablename__ = "workflow_accepted_deviations"

    instance_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("workflow_instances.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(DEVIATION_KEY_COLUMN_LENGTH), primary_key=True)
    kind: Mapped[str] = mapped_column(String(50))
    status: Mapped[str] = mapped_column(String(20), default=REQUESTED, server_default=ACCEPTED)
    reason: Mapped[str] = mapped_column(String(REASON_LIMIT))
    fingerprint: Mapped[str] = mapped_column(String(100))
    requested_by: Mapped[str | None] = mapped_column(String(100))
    requested_at: Mapped[datetime] = mapped_column(
        Timestamp, default=utcnow, server_default=func.now()
    )
    accepted_by: Mapped[str | None] = mapped_column(String(100))
    accepted_at: Mapped[datetime | None] = mapped_column(Timestamp)
    # What the decider said when approving.
    note: Mapped[str | None] = mapped_column(String(REASON_LIMIT))
    # The last UTC date the acceptance explains its item; none: until withdrawn.
    review_by: Mapped[date | None] = mapped_column(Date)
    # The instance revision the last request or decision produced.
    revision: Mapped[int] = mapped_column(Integer)


class WorkflowDrift(db.Model):
    """An instance's drift as computed, kept under exactly what it was computed from.

    One row per instance: the drift before acceptances and the active version are applied
    (``drift_items.computed_drift``), valid while the instance's ``revision``, the source
    release's ``source_hash`` (None: the source did not load), the base snapshot's
    ``base_hash`` (None: no base snapshot) and the code's ``format`` are what they were. A read
    that finds any of them changed computes the drift afresh and replaces the row
    (workflows/drift_store.py).
    """

    __tablename__ = "workflow_drifts"

    instance_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("workflow_instances.id", ondelete="CASCADE"), primary_key=True
    )
    format: Mapped[int] = mapped_column(Integer)
    revision: Mapped[int] = mapped_column(Integer)
    source_hash: Mapped[str | None] = mapped_column(String(100))
    base_hash: Mapped[str | None] = mapped_column(String(100))
    # What the badges read: the flags and each item's key and fingerprint (drift_summary).
    summary: Mapped[dict] = mapped_column(JSONDocument)
    # The whole computed drift: diff.drift's response and the items, without acceptances.
    drift: Mapped[dict] = mapped_column(JSONDocument)
    computed_at: Mapped[datetime] = mapped_column(
        Timestamp, default=utcnow, server_default=func.now()
    )
