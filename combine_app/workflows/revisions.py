"""Every revision of an instance: the base snapshot, checkpoints, and reading revision n.

The checkpoint at revision 1 is the base snapshot, written with the instance. Every
``CHECKPOINT_EVERY`` revisions another full definition is kept, in the transaction of the change
that produced it, so reading any revision costs one stored definition plus fewer than
``CHECKPOINT_EVERY`` replayed saves.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from combine_app.workflows.diff import snapshot
from combine_app.workflows.models import WorkflowInstance, WorkflowInstanceCheckpoint

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
