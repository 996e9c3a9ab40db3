"""Data access for workflow instances; history can only be appended and read."""

from __future__ import annotations

import uuid
from collections import Counter

from sqlalchemy import Row, event, func, select, update
from sqlalchemy.orm import Session, scoped_session

from combine_app.database import utcnow
from combine_app.workflows.models import WorkflowInstance, WorkflowInstanceHistory


class WorkflowInstanceRepository:
    """Reads and writes instances in the caller's session; never commits."""

    def __init__(self, session: Session):
        self.session = session

    def create(
        self, project_id: uuid.UUID, base_workflow_ref: dict, effective_workflow: dict
    ) -> WorkflowInstance:
        """Insert an instance at revision 1."""
        instance = WorkflowInstance(
            id=uuid.uuid4(),
            project_id=project_id,
            base_workflow_ref=base_workflow_ref,
            effective_workflow=effective_workflow,
            status="active",
        )
        self.session.add(instance)
        self.session.flush()
        return instance

    def get_by_project_id(
        self, project_id: uuid.UUID, *, for_update: bool = False
    ) -> WorkflowInstance | None:
        """The project's instance; with ``for_update`` the row is locked (PostgreSQL).

        A row this transaction has locked already is not read again: the If-Match check and
        the service's change share one locked read (the definition is parsed once)."""
        held = _locked_rows(self.session) if for_update else None
        if held is not None and project_id in held:
            return held[project_id]
        query = select(WorkflowInstance).where(WorkflowInstance.project_id == project_id)
        if for_update:
            # Refresh an already-loaded object with the locked row's committed values.
            # FOR NO KEY UPDATE: the key never changes, so rows that refer to the instance
            # (a drift kept by a concurrent read, history) may still be inserted meanwhile.
            query = query.with_for_update(key_share=True).execution_options(populate_existing=True)
        instance = self.session.scalar(query)
        if held is not None and instance is not None:
            held[project_id] = instance
        return instance

    def get_by_id(self, instance_id: uuid.UUID) -> WorkflowInstance | None:
        """The instance with this id."""
        return self.session.get(WorkflowInstance, instance_id)

    def update_effective_workflow(
        self, instance: WorkflowInstance, effective_workflow: dict
    ) -> WorkflowInstance:
        """Replace the definition; the flush checks and bumps ``revision``."""
        instance.effective_workflow = effective_workflow
        self.session.flush()
        return instance

    def update_status(self, instance: WorkflowInstance, status: str) -> WorkflowInstance:
        """Change the status; the flush checks and bumps ``revision``."""
        instance.status = status
        self.session.flush()
        return instance

    def touch(self, instance: WorkflowInstance) -> WorkflowInstance:
        """Record a change that leaves definition and status alone (an accepted deviation):
        the flush checks and bumps ``revision``."""
        instance.updated_at = utcnow()
        self.session.flush()
        return instance

    def add_history(
        self,
        instance: WorkflowInstance,
        change_type: str,
        change_detail: dict,
        changed_by: str | None,
        *,
        position: int = 0,
        reason: str | None = None,
    ) -> WorkflowInstanceHistory:
        """Append one history entry for the instance's current revision."""
        entry = WorkflowInstanceHistory(
            id=uuid.uuid4(),
            instance_id=instance.id,
            change_type=change_type,
            change_detail=change_detail,
            changed_by=changed_by,
            revision=instance.revision,
            position=position,
            reason=reason,
        )
        self.session.add(entry)
        return entry

    def get_history(
        self, instance_id: uuid.UUID, limit: int, offset: int, total: int | None = None
    ) -> list[Row]:
        """Entries newest revision first; within one revision in the order they were written.

        Read as rows of the history table's columns (attribute access like the model's, none
        of the ORM's object building: a page is only ever read). Given the ``total``, a page in
        the older half is read from the oldest end (the same index, backward) and turned
        around, so the last page costs what the first does.
        """
        history = WorkflowInstanceHistory.__table__
        query = select(*history.columns).where(history.c.instance_id == instance_id)
        connection = self.session.connection()
        if total is None or offset + limit / 2 <= total / 2:
            order = (history.c.revision.desc(), history.c.position.asc())
            return connection.execute(query.order_by(*order).limit(limit).offset(offset)).all()
        size = min(limit, total - offset)
        if size <= 0:
            return []
        order = (history.c.revision.asc(), history.c.position.desc())
        rows = connection.execute(
            query.order_by(*order).limit(size).offset(total - offset - size)
        ).all()
        return rows[::-1]

    def recent_revisions(self, instance_id: uuid.UUID, newest: int, count: int) -> list[Row]:
        """The last ``count`` revisions up to ``newest``, newest first: one row each with its
        revision, first entry's time and author, and the reason it was made with."""
        history = WorkflowInstanceHistory.__table__
        query = (
            select(
                history.c.revision,
                func.min(history.c.changed_at).label("changed_at"),
                func.max(history.c.changed_by).label("changed_by"),
                func.max(history.c.reason).label("reason"),
            )
            .where(history.c.instance_id == instance_id, history.c.revision > newest - count)
            .group_by(history.c.revision)
            .order_by(history.c.revision.desc())
        )
        return self.session.connection().execute(query).all()

    def count_history(self, instance_id: uuid.UUID) -> int:
        """How many entries the instance has."""
        return self.session.scalar(
            select(func.count())
            .select_from(WorkflowInstanceHistory)
            .where(WorkflowInstanceHistory.instance_id == instance_id)
        )


@event.listens_for(Session, "after_flush")
def count_new_history(session: Session, flush_context) -> None:
    """Add the entries a flush wrote to their instances' ``history_count``.

    Every way of writing history ends in a flush, so this is the one place that keeps the
    count. A Core UPDATE, not an attribute change: the instance's ``revision`` is its version
    counter, and the ORM would bump it for any change of the row.
    """
    added = Counter(
        entry.instance_id for entry in session.new if isinstance(entry, WorkflowInstanceHistory)
    )
    if not added:
        return
    table = WorkflowInstance.__table__
    for instance_id, count in added.items():
        session.connection().execute(
            update(table)
            .where(table.c.id == instance_id)
            # updated_at as it is: the change itself set it (a column onupdate would move it).
            .values(history_count=table.c.history_count + count, updated_at=table.c.updated_at)
        )
        instance = session.identity_map.get(session.identity_key(WorkflowInstance, instance_id))
        if instance is not None:
            session.expire(instance, ["history_count"])


def _locked_rows(session: Session | scoped_session) -> dict | None:
    """The instances locked in the session's current transaction, by project id (None outside
    a transaction). A new transaction starts with none: a lock never outlives its transaction."""
    if isinstance(session, scoped_session):
        session = session()
    transaction = session.get_transaction()
    if transaction is None:
        return None
    held = session.info.get("locked_instances")
    if held is None or held[0] is not transaction:
        held = session.info["locked_instances"] = (transaction, {})
    return held[1]
