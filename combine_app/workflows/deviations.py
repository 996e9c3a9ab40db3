"""Accepted deviations as data: reading and writing them, and the base an instance started from.

Kept apart from the service so that the drift computation (in the service) and the deviation
rules (deviation_service.py) can both use it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from combine_app.workflows import diff as structural
from combine_app.workflows.models import AcceptedDeviation, WorkflowInstance
from combine_app.workflows.revisions import base_definition


class AcceptedDeviationRepository:
    """Reads and writes accepted deviations in the caller's session; never commits."""

    def __init__(self, session: Session):
        self.session = session

    def for_instance(self, instance_id: uuid.UUID) -> list[AcceptedDeviation]:
        """The instance's acceptances, oldest first."""
        return list(
            self.session.scalars(
                select(AcceptedDeviation)
                .where(AcceptedDeviation.instance_id == instance_id)
                .order_by(AcceptedDeviation.accepted_at, AcceptedDeviation.key)
            )
        )

    def for_instances(self, instance_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, dict]:
        """Acceptances of many instances in one query: for each, its acceptances by key."""
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
        """The acceptance of one key, if any."""
        return self.session.get(AcceptedDeviation, (instance_id, key))

    def add(self, deviation: AcceptedDeviation) -> AcceptedDeviation:
        """Insert a new acceptance."""
        self.session.add(deviation)
        return deviation

    def delete(self, deviation: AcceptedDeviation) -> None:
        """Remove an acceptance (withdrawn)."""
        self.session.delete(deviation)


def as_acceptance(row: AcceptedDeviation) -> dict[str, Any]:
    """An acceptance as the pure layer and the API see it (accepted_at as ISO 8601 text)."""
    return {
        "key": row.key,
        "kind": row.kind,
        "reason": row.reason,
        "fingerprint": row.fingerprint,
        "accepted_by": row.accepted_by,
        "accepted_at": row.accepted_at.isoformat(),
        "revision": row.revision,
    }


def accepted_map(rows: Iterable[AcceptedDeviation]) -> dict[str, dict[str, Any]]:
    """Acceptances by key, for ``drift_items.explain``."""
    return {row.key: as_acceptance(row) for row in rows}


def known_base(
    session: Session, instance: WorkflowInstance, source: Mapping[str, Any] | None
) -> Mapping[str, Any] | None:
    """The definition the instance started from, where it can be known for certain; else None.

    That is the base snapshot (the revision-1 checkpoint), or else a source that still hashes to
    the recorded ``content_hash``: exactly what was snapshotted.
    """
    kept = base_definition(session, instance)
    if kept is not None:
        return kept
    return unchanged_source(instance.base_workflow_ref, source)


def unchanged_source(
    base_ref: Mapping[str, Any], source: Mapping[str, Any] | None
) -> Mapping[str, Any] | None:
    """The source when it still hashes to what was snapshotted (then it is the base), else None."""
    recorded = base_ref.get("content_hash")
    if source is not None and recorded is not None and structural.content_hash(source) == recorded:
        return source
    return None
