"""Each instance's computed drift, kept under exactly what it depends on (workflow_drifts).

A drift before acceptances (``drift_items.computed_drift``) is a function of the instance's
revision, the source release's content hash and the base snapshot, and of this code. A row holds
it with those four keys; a read compares them with the keys now and uses the row only when all
four match, so a kept drift is never stale: a save (new revision), an in-place edit of the source
file (new content hash), a restore (new revision) or a new base each compute it afresh.
Acceptances, review dates and the active version change without the instance changing: they are
applied at read time (``drift_items.with_acceptances``), never kept.

Rows are filled where a drift is computed: in the caller's transaction, inside a savepoint, so a
fill that cannot be written (a lock it would wait for ends in a deadlock, SQLite's writer is
busy) is skipped and the drift is only served. A write request's fill commits with its change;
a read request's is committed at the end of the request (``database.commit_read_fills``).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from combine_app.database import KEPT_BY_A_READ, upsert, utcnow
from combine_app.workflows.models import WorkflowDrift, WorkflowInstanceCheckpoint
from combine_app.workflows.revisions import BASE_REVISION

# Bump whenever computed_drift or drift_summary would answer differently for the same inputs:
# every kept row then no longer matches and is computed again on its next read.
FORMAT = 1

_drifts = WorkflowDrift.__table__
_checkpoints = WorkflowInstanceCheckpoint.__table__
_KEPT = ("format", "revision", "source_hash", "base_hash", "summary", "drift", "computed_at")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Kept:
    """One kept row, with the base snapshot's hash as it is now (read in the same statement)."""

    format: int
    revision: int
    source_hash: str | None
    base_hash: str | None
    base_hash_now: str | None
    summary: dict[str, Any]
    drift: dict[str, Any] | None  # None when only the summary was read

    def holds(self, revision: int, source_hash: str | None) -> bool:
        """Whether the row was computed from what the instance and its source are now."""
        return (
            self.format == FORMAT
            and self.revision == revision
            and self.source_hash == source_hash
            and self.base_hash == self.base_hash_now
        )


def kept_columns(instance_id: ColumnElement, *, full: bool) -> list[ColumnElement]:
    """The row's columns, labelled ``kept_*``, for a statement that outer-joins workflow_drifts
    (the drift itself only when ``full``), and the base snapshot's hash now for ``instance_id``."""
    base_hash_now = (
        select(_checkpoints.c.content_hash)
        .where(
            _checkpoints.c.instance_id == instance_id,
            _checkpoints.c.revision == BASE_REVISION,
        )
        .scalar_subquery()
    )
    names = ("format", "revision", "source_hash", "base_hash", "summary")
    columns = [_drifts.c[name].label(f"kept_{name}") for name in names]
    columns.append(base_hash_now.label("kept_base_hash_now"))
    if full:
        columns.append(_drifts.c.drift.label("kept_drift"))
    return columns


def kept_from(row: Any) -> Kept | None:
    """The ``Kept`` of a row read with ``kept_columns``; None when the instance has no row."""
    if row.kept_revision is None:
        return None
    return Kept(
        format=row.kept_format,
        revision=row.kept_revision,
        source_hash=row.kept_source_hash,
        base_hash=row.kept_base_hash,
        base_hash_now=row.kept_base_hash_now,
        summary=row.kept_summary,
        drift=getattr(row, "kept_drift", None),
    )


def read_kept(
    session: Session, instance_ids: Iterable[uuid.UUID], *, full: bool
) -> dict[uuid.UUID, Kept]:
    """The kept rows of many instances in one statement (the drift itself only when ``full``)."""
    ids = list(instance_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(_drifts.c.instance_id, *kept_columns(_drifts.c.instance_id, full=full)).where(
            _drifts.c.instance_id.in_(ids)
        )
    )
    return {row.instance_id: kept_from(row) for row in rows}


def row_for(
    instance_id: uuid.UUID,
    revision: int,
    source_hash: str | None,
    base_hash: str | None,
    summary: Mapping[str, Any],
    drift: Mapping[str, Any],
) -> dict[str, Any]:
    """A row to ``fill``: a computed drift and its summary, under the keys it was computed from."""
    return {
        "instance_id": instance_id,
        "format": FORMAT,
        "revision": revision,
        "source_hash": source_hash,
        "base_hash": base_hash,
        "summary": summary,
        "drift": drift,
        "computed_at": utcnow(),
    }


def fill(session: Session, rows: list[dict[str, Any]]) -> bool:
    """Insert or replace the rows in the caller's transaction, in one statement in a savepoint.

    Rows go in instance id order, so two requests filling overlapping sets lock them in the same
    order. Returns whether they were written; a database error (a deadlock, a busy SQLite
    writer, an instance deleted meanwhile) skips the fill and leaves the transaction usable.
    """
    if not rows:
        return True
    ordered = sorted(rows, key=lambda row: str(row["instance_id"]))
    statement = upsert(session.connection(), _drifts).values(ordered)
    statement = statement.on_conflict_do_update(
        index_elements=[_drifts.c.instance_id],
        set_={name: statement.excluded[name] for name in _KEPT},
    )
    try:
        with session.begin_nested():
            session.connection().execute(statement)
    except DBAPIError as error:
        log.info("Drift not kept (%s); it is computed again on the next read.", error.orig)
        return False
    session.info[KEPT_BY_A_READ] = True
    return True
