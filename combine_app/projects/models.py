"""The Project, ProjectMember, ProjectPolicy, ProjectAudit tables and the list's counts."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    false,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from combine_app.auth.models import User
from combine_app.database import JSONDocument, Timestamp, utcnow
from combine_app.extensions import db

ROLES = ("viewer", "editor", "approver", "owner")


@dataclass(frozen=True)
class Policy:
    """A project's governance policy: four-eyes decisions and the longest review period."""

    four_eyes: bool = False
    review_days: int | None = None


class Project(db.Model):
    """A piece of work owned by one user; may carry one workflow instance."""

    __tablename__ = "projects"
    __table_args__ = (
        UniqueConstraint(
            "owner_id", "intake_execution_id", name="uq_projects_owner_intake_execution"
        ),
        Index("idx_projects_owner_list", "owner_id", "archived_at", "created_at", "project_id"),
        # The list, newest first: read backwards in this order, each project tested for
        # membership (and archive state) as it comes, the page of someone who sees many
        # projects stops after the page, however many there are. (Led by archived_at,
        # PostgreSQL could not read it in that order: IS NULL does not fix a column.)
        Index("idx_projects_list", "created_at", "project_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    project_id: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    status: Mapped[str] = mapped_column(String(50), default="active", server_default="active")
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    intake_document: Mapped[dict | None] = mapped_column(JSONDocument)
    intake_execution_id: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(
        Timestamp, default=utcnow, server_default=func.now()
    )
    updated_at: Mapped[datetime] = mapped_column(
        Timestamp, default=utcnow, server_default=func.now(), onupdate=utcnow
    )
    archived_at: Mapped[datetime | None] = mapped_column(Timestamp)
    archived_by: Mapped[str | None] = mapped_column(String(80))

    owner: Mapped[User] = relationship(lazy="joined", innerjoin=True)
    # Absent for a project whose policy was never changed: then the defaults hold.
    policy_row: Mapped[ProjectPolicy | None] = relationship(
        lazy="joined", passive_deletes=True, cascade="all, delete-orphan"
    )
    # The caller's role, set by the service that read the project for that caller.
    your_role = None

    @property
    def is_archived(self) -> bool:
        """Whether the project has been archived."""
        return self.archived_at is not None

    @property
    def policy(self) -> Policy:
        """The project's governance policy (the defaults when it never set one)."""
        row = self.policy_row
        if row is None:
            return Policy()
        return Policy(four_eyes=row.four_eyes, review_days=row.review_days)


class ProjectMember(db.Model):
    """A user's role in a project; the creator is the first member, an owner."""

    __tablename__ = "project_members"
    __table_args__ = (
        CheckConstraint("role IN ('viewer', 'editor', 'approver', 'owner')", name="role"),
        Index("idx_project_members_user", "user_id", "project_id"),
    )

    project_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(20))
    added_by: Mapped[str] = mapped_column(String(80))
    added_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow, server_default=func.now())

    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)

    @property
    def username(self) -> str:
        """The member's username."""
        return self.user.username


class ProjectPolicy(db.Model):
    """How a project governs its deviations: four-eyes decisions and review dates."""

    __tablename__ = "project_policies"
    __table_args__ = (
        CheckConstraint("review_days IS NULL OR review_days > 0", name="review_days"),
    )

    project_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    four_eyes: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    review_days: Mapped[int | None] = mapped_column(Integer)


class ProjectCount(db.Model):
    """How many projects a user is a member of, and how many of those are not archived.

    Kept by every change of a project or a membership, in its transaction, so the unfiltered
    list answers its ``total`` without counting (``projects.counts``).
    """

    __tablename__ = "project_counts"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    visible: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    visible_not_archived: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class ProjectTotal(db.Model):
    """How many projects there are, and how many are not archived: what an administrator sees.

    One row (id 1), kept like ``ProjectCount``.
    """

    __tablename__ = "project_totals"
    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    visible: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    visible_not_archived: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class ProjectAudit(db.Model):
    """One recorded change to a project; kept after the project is deleted."""

    __tablename__ = "project_audit"
    __table_args__ = (Index("ix_project_audit_project_uuid", "project_uuid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # No foreign key on purpose: the trail of a deleted project stays on record.
    project_uuid: Mapped[uuid.UUID] = mapped_column(Uuid)
    project_key: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(50))
    actor: Mapped[str] = mapped_column(String(100))
    detail: Mapped[dict | None] = mapped_column(JSONDocument)
    created_at: Mapped[datetime] = mapped_column(
        Timestamp, default=utcnow, server_default=func.now()
    )
