"""Accepted deviations as data: reading and writing them, and the base an instance started from.

Kept apart from the service so that the drift computation (in the service) and the deviation
rules (deviation_service.py) can both use it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from combine_app.workflows import diff as structural
from combine_app.workflows.four_eyes import SAVE_CHANGES, Authorship
from combine_app.workflows.models import (
    AcceptedDeviation,
    WorkflowInstance,
    WorkflowInstanceCheckpoint,
    WorkflowInstanceHistory,
)
from combine_app.workflows.revisions import BASE_REVISION


class AcceptedDeviationRepository:
    """Reads and writes accepted deviations in the caller's session; never commits."""

    def __init__(self, session: Session):
        self.session = session

    def for_instance(self, instance_id: uuid.UUID) -> list[AcceptedDeviation]:
        """The instance's requests and acceptances, oldest request first."""
        return list(
            self.session.scalars(
                select(AcceptedDeviation)
                .where(AcceptedDeviation.instance_id == instance_id)
                .order_by(AcceptedDeviation.requested_at, AcceptedDeviation.key)
            )
        )

    def for_instances(self, instance_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, dict]:
        """Requests and acceptances of many instances in one query: for each, its rows by key."""
        ids = list(instance_ids)
        found: dict[uuid.UUID, dict] = {instance_id: {} for instance_id in ids}
        if not ids:
            return found
        rows = self.session.scalars(
            select(AcceptedDeviation).where(AcceptedDeviation.instance_id.in_(ids))
        )
        for row in rows:
            found[row.instance_id][row.key] = as_acceptance(row)
        return found

    def get(self, instance_id: uuid.UUID, key: str) -> AcceptedDeviation | None:
        """The request or acceptance of one key, if any."""
        return self.session.get(AcceptedDeviation, (instance_id, key))

    def add(self, deviation: AcceptedDeviation) -> AcceptedDeviation:
        """Insert a new request or acceptance."""
        self.session.add(deviation)
        return deviation

    def delete(self, deviation: AcceptedDeviation) -> None:
        """Remove a request or acceptance (rejected or withdrawn)."""
        self.session.delete(deviation)


def as_acceptance(row: AcceptedDeviation) -> dict[str, Any]:
    """A request or acceptance as the pure layer and the API see it (times and dates as ISO
    8601 text); ``status`` is the stored one, ``requested`` or ``accepted``."""
    return {
        "key": row.key,
        "kind": row.kind,
        "status": row.status,
        "reason": row.reason,
        "review_by": _iso(row.review_by),
        "requested_by": row.requested_by,
        "requested_at": _iso(row.requested_at),
        "accepted_by": row.accepted_by,
        "accepted_at": _iso(row.accepted_at),
        "note": row.note,
        "fingerprint": row.fingerprint,
        "revision": row.revision,
    }


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def authorship_in(
    session: Session, instance_ids: Iterable[uuid.UUID], username: str
) -> dict[uuid.UUID, Authorship]:
    """What ``username`` saved in each instance since its base, in one query however many."""
    ids = list(instance_ids)
    found = {instance_id: Authorship() for instance_id in ids}
    if not ids:
        return found
    saves = session.execute(
        select(
            WorkflowInstanceHistory.instance_id,
            WorkflowInstanceHistory.change_type,
            WorkflowInstanceHistory.change_detail,
        ).where(
            WorkflowInstanceHistory.instance_id.in_(ids),
            WorkflowInstanceHistory.changed_by == username,
            WorkflowInstanceHistory.change_type.in_(SAVE_CHANGES),
        )
    )
    for instance_id, change_type, detail in saves:
        found[instance_id].add(change_type, detail or {})
    return found


def base_snapshots(
    session: Session, instances: Iterable[WorkflowInstance]
) -> dict[uuid.UUID, tuple[dict | None, str | None]]:
    """The base snapshot of many instances in one query: for each, ``revisions.base_definition``
    (the snapshot, or None where it is missing or does not hash to the recorded
    ``content_hash``: never a guess) and the hash its row records (None: no snapshot)."""
    by_id = {instance.id: instance for instance in instances}
    found: dict[uuid.UUID, tuple[dict | None, str | None]] = dict.fromkeys(by_id, (None, None))
    if not by_id:
        return found
    checkpoints = session.scalars(
        select(WorkflowInstanceCheckpoint).where(
            WorkflowInstanceCheckpoint.instance_id.in_(list(by_id)),
            WorkflowInstanceCheckpoint.revision == BASE_REVISION,
        )
    )
    for checkpoint in checkpoints:
        recorded = by_id[checkpoint.instance_id].base_workflow_ref.get("content_hash")
        copied, digest = structural.snapshot(checkpoint.definition)
        usable = recorded is None or digest == recorded
        found[checkpoint.instance_id] = (copied if usable else None, checkpoint.content_hash)
    return found
