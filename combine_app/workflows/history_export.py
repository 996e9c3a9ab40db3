"""The audit trail taken out: every history entry of an instance, oldest first, as CSV or JSON
Lines, streamed in constant memory (INTERFACE.md, "History export").

Entries are read in batches by keyset (revision, position) on the history page's index, so
neither the database nor this process holds more than one batch, however long the history.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Iterator

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from combine_app.workflows.models import WorkflowInstanceHistory

FORMATS = ("csv", "jsonl")
COLUMNS = ("revision", "changed_at", "changed_by", "change_type", "reason", "change_detail")
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/jsonl; charset=utf-8"}
BATCH = 500
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def entries(session: Session, instance_id: uuid.UUID, batch: int = BATCH) -> Iterator[dict]:
    """Every entry of the instance, oldest first (revision, then the order it was written),
    read ``batch`` at a time."""
    history = WorkflowInstanceHistory.__table__
    columns = [history.c[name] for name in COLUMNS]
    after = None
    while True:
        query = select(*columns, history.c.position).where(history.c.instance_id == instance_id)
        if after is not None:
            query = query.where(tuple_(history.c.revision, history.c.position) > after)
        query = query.order_by(history.c.revision, history.c.position).limit(batch)
        rows = session.connection().execute(query).all()
        for row in rows:
            yield {name: getattr(row, name) for name in COLUMNS}
        if len(rows) < batch:
            return
        after = (rows[-1].revision, rows[-1].position)


def _detail(entry: dict) -> str:
    return json.dumps(entry["change_detail"], ensure_ascii=False, separators=(",", ":"))


def _when(entry: dict) -> str:
    return entry["changed_at"].isoformat()


def _cell(value: object) -> str:
    """A CSV cell; text a spreadsheet would run as a formula is quoted with a leading '."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(_FORMULA_START) else text


def as_csv(found: Iterator[dict]) -> Iterator[str]:
    """The entries as CSV text, a header first, one chunk per entry."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def line(values) -> str:
        writer.writerow(values)
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    yield line(COLUMNS)
    for entry in found:
        yield line(
            [
                entry["revision"],
                _when(entry),
                _cell(entry["changed_by"]),
                entry["change_type"],
                _cell(entry["reason"]),
                _cell(_detail(entry)),
            ]
        )


def as_jsonl(found: Iterator[dict]) -> Iterator[str]:
    """The entries as JSON Lines: one object per line, the detail as an object."""
    for entry in found:
        record = {**entry, "changed_at": _when(entry)}
        yield json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"


WRITERS = {"csv": as_csv, "jsonl": as_jsonl}


def export(session: Session, instance_id: uuid.UUID, fmt: str) -> Iterator[str]:
    """The instance's history in ``fmt`` (one of FORMATS), as chunks of text."""
    return WRITERS[fmt](entries(session, instance_id))
