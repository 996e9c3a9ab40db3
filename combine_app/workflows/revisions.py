"""Every revision of an instance: the base snapshot, checkpoints, and reading revision n.

The checkpoint at revision 1 is the base snapshot, written with the instance. Every
``CHECKPOINT_EVERY`` revisions another full definition is kept, in the transaction of the change
that produced it, so reading any revision costs one stored definition plus fewer than
``CHECKPOINT_EVERY`` replayed saves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from itertools import groupby
from operator import attrgetter

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from combine_app.errors import Conflict, NotFound
from combine_app.workflows.diff import content_hash, snapshot
from combine_app.workflows.history_replay import replay_revisions
from combine_app.workflows.models import (
    WorkflowInstance,
    WorkflowInstanceCheckpoint,
    WorkflowInstanceHistory,
)

BASE_REVISION = 1
CHECKPOINT_EVERY = 50


def checkpoint_due(revision: int) -> bool:
    """Whether the change that produced ``revision`` keeps a full definition."""
    return revision == BASE_REVISION or revision % CHECKPOINT_EVERY == 0


def write_checkpoint(session: Session, instance: WorkflowInstance) -> WorkflowInstanceCheckpoint:
    """Keep the instance's current definition under its current revision (caller's transaction)."""
    definition, digest = snapshot(instance.effective_workflow)
    checkpoint = WorkflowInstanceCheckpoint(
        instance_id=instance.id,
        revision=instance.revision,
        definition=definition,
        content_hash=digest,
    )
    session.add(checkpoint)
    return checkpoint


def base_definition(session: Session, instance: WorkflowInstance) -> dict | None:
    """The definition the instance started from (revision 1); None when it is not known.

    None only for instances made before base snapshots were kept whose base the migration
    could not rebuild for certain (see migration 20261201_002).
    """
    checkpoint = session.get(WorkflowInstanceCheckpoint, (instance.id, BASE_REVISION))
    if checkpoint is None:
        return None
    definition = checkpoint.definition
    # A stored base that does not hash to the recorded one is not the base: never a guess.
    recorded = instance.base_workflow_ref.get("content_hash")
    copied, digest = snapshot(definition)  # the caller's own copy: the session's stays as read
    if recorded is not None and digest != recorded:
        return None
    return copied


def latest_checkpoint(
    session: Session, instance: WorkflowInstance, revision: int
) -> WorkflowInstanceCheckpoint | None:
    """The newest checkpoint at or before ``revision``, or None when there is none."""
    return session.scalar(
        select(WorkflowInstanceCheckpoint)
        .where(
            WorkflowInstanceCheckpoint.instance_id == instance.id,
            WorkflowInstanceCheckpoint.revision <= revision,
        )
        .order_by(WorkflowInstanceCheckpoint.revision.desc())
        .limit(1)
    )


@dataclass(frozen=True)
class Revision:
    """An instance's definition as it stood after one revision, and who made it when and why.

    ``definition`` may be the instance's own current definition: read it, do not change it.
    ``replayed_saves`` tells how many saves were replayed on a checkpoint to rebuild it.
    """

    revision: int
    definition: dict
    changed_at: datetime
    changed_by: str | None
    reason: str | None
    content_hash: str
    replayed_saves: int


class RevisionMissing(NotFound):
    """The instance has no such revision (yet)."""


class RevisionUnknown(Conflict):
    """The revision happened, but what the definition was then cannot be known for certain."""


def missing_revision(instance: WorkflowInstance, number: int) -> str | None:
    """Why revision ``number`` cannot be read, or None when it is within 1 .. current."""
    if BASE_REVISION <= number <= instance.revision:
        return None
    return f"Revision {number} does not exist: the workflow is at revision {instance.revision}."


def read_revision(session: Session, instance: WorkflowInstance, number: int) -> Revision:
    """Revision ``number`` of the instance: one checkpoint plus fewer than CHECKPOINT_EVERY saves.

    404 (RevisionMissing) outside 1 .. the current revision; 409 (RevisionUnknown) for a
    revision older than every checkpoint (an instance whose base the migration could not know).
    """
    if not BASE_REVISION <= number <= instance.revision:
        raise RevisionMissing(missing_revision(instance, number))
    if number == instance.revision:
        start, definition = number, instance.effective_workflow
    else:
        checkpoint = latest_checkpoint(session, instance, number)
        if checkpoint is None:
            raise RevisionUnknown(_unknown_message(session, instance, number))
        start, definition = checkpoint.revision, checkpoint.definition
    rows = session.execute(
        select(
            WorkflowInstanceHistory.revision,
            WorkflowInstanceHistory.change_type,
            WorkflowInstanceHistory.change_detail,
            WorkflowInstanceHistory.changed_at,
            WorkflowInstanceHistory.changed_by,
            WorkflowInstanceHistory.reason,
        )
        .where(
            WorkflowInstanceHistory.instance_id == instance.id,
            WorkflowInstanceHistory.revision >= start,
            WorkflowInstanceHistory.revision <= number,
        )
        .order_by(WorkflowInstanceHistory.revision, WorkflowInstanceHistory.position)
    ).all()
    later = [row for row in rows if row.revision > start]
    definition, replayed = replay_revisions(
        definition,
        [
            [(row.change_type, row.change_detail) for row in group]
            for _, group in groupby(later, key=attrgetter("revision"))
        ],
    )
    made = next((row for row in rows if row.revision == number), None)
    return Revision(
        revision=number,
        definition=definition,
        changed_at=made.changed_at if made else instance.updated_at,
        changed_by=made.changed_by if made else None,
        reason=made.reason if made else None,
        content_hash=content_hash(definition),
        replayed_saves=replayed,
    )


def _unknown_message(session: Session, instance: WorkflowInstance, number: int) -> str:
    earliest = session.scalar(
        select(func.min(WorkflowInstanceCheckpoint.revision)).where(
            WorkflowInstanceCheckpoint.instance_id == instance.id
        )
    )
    readable = (
        f" Revisions from {earliest} on can be read."
        if earliest is not None
        else " Only the current revision can be read."
    )
    return (
        f"Revision {number} cannot be rebuilt: this workflow was created before Combine kept "
        "the definition an instance starts from, and neither its source file nor its history "
        f"gives that definition back for certain.{readable}"
    )
