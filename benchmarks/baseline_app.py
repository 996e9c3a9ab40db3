"""The yardsticks for bench_api: bare Flask + psycopg2 doing each endpoint's database work.

Every route reads (or writes) the same rows as one Combine endpoint and answers the same JSON,
built by hand from the rows: one pooled connection, plain SQL, no authentication, no ORM, no
schema, Flask's own ``jsonify``. bench_api checks that each answer equals Combine's before it
measures anything, so neither side sends less on the wire.

- ``GET /instance/<uuid>``: the instance row with its project's key (GET instance; drift's
  yardstick too, since drift's diff is work no baseline does).
- ``PUT /instance/<uuid>?changed_by=NAME``: lock the row, compare, UPDATE it and INSERT one
  history entry per changed top-level field, in one transaction (PUT instance).
- ``GET /instance/<uuid>/history?limit=&offset=``: the same page of entries and the total.
- ``GET /projects?owner_id=&limit=&offset=``: the same page of projects with workflow states.
- ``GET /projects/<key>/tree``: the project and its workflow state (GET tree).

Served by the same gunicorn settings as Combine:
``DATABASE_URL=... gunicorn -c gunicorn.conf.py benchmarks.baseline_app:app``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import Flask, abort, jsonify, request
from psycopg2.extras import Json
from psycopg2.pool import SimpleConnectionPool

app = Flask(__name__)
app.json.sort_keys = False  # as Combine: keys in the order the document has them

_pool: SimpleConnectionPool | None = None
_pool_pid: int | None = None

INSTANCE_COLUMNS = """
    w.id, w.project_id, p.project_id, w.base_workflow_ref, w.effective_workflow, w.status,
    w.revision, w.created_at, w.updated_at
"""
PROJECT_COLUMNS = """
    p.id, p.project_id, p.name, p.description, p.status, p.archived_at, u.username,
    p.created_at, p.updated_at, m.role, pp.four_eyes, pp.review_days
"""
# The caller's membership (its role) and the project's policy, as Combine reads them.
MEMBER_AND_POLICY = (
    "JOIN project_members m ON m.project_id = p.id AND m.user_id = %s "
    "LEFT JOIN project_policies pp ON pp.project_id = p.id "
)


def pool() -> SimpleConnectionPool:
    """This worker's pool, made on first use so no connection crosses gunicorn's fork."""
    global _pool, _pool_pid
    if _pool is None or _pool_pid != os.getpid():
        dsn = os.environ["DATABASE_URL"].replace("postgresql+psycopg2://", "postgresql://", 1)
        _pool = SimpleConnectionPool(1, 4, dsn=dsn, connect_timeout=5)
        _pool_pid = os.getpid()
    return _pool


def in_transaction(work: Callable[[Any], Any]) -> Any:
    """Run ``work(cursor)`` on a pooled connection; commit, or roll back and drop it on error.

    A read's transaction is committed too (psycopg2 opened one with its first statement), as a
    pool's reset-on-return would end it.
    """
    connections = pool()
    connection = connections.getconn()
    try:
        with connection.cursor() as cursor:
            result = work(cursor)
        connection.commit()
    except BaseException:
        connections.putconn(connection, close=True)
        raise
    connections.putconn(connection)
    return result


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def instance_document(row: tuple) -> dict:
    """An instance row (INSTANCE_COLUMNS) as Combine's WorkflowInstanceSchema dumps it."""
    return {
        "id": str(row[0]),
        "project_id": str(row[1]),
        "project_key": row[2],
        "base_workflow_ref": row[3],
        "effective_workflow": row[4],
        "status": row[5],
        "revision": row[6],
        "created_at": _time(row[7]),
        "updated_at": _time(row[8]),
    }


def project_document(row: tuple) -> dict:
    """A project row (PROJECT_COLUMNS) as Combine's ProjectSchema dumps it."""
    return {
        "id": str(row[0]),
        "project_id": row[1],
        "name": row[2],
        "description": row[3],
        "status": row[4],
        "is_archived": row[5] is not None,
        "owner": row[6],
        "created_at": _time(row[7]),
        "updated_at": _time(row[8]),
        "your_role": row[9],
        "policy": {"four_eyes": bool(row[10]), "review_days": row[11]},
    }


def _page_args() -> tuple[int, int]:
    return request.args.get("limit", 20, type=int), request.args.get("offset", 0, type=int)


def _read_instance(cursor, instance_id: str, lock: str = "") -> tuple | None:
    cursor.execute(
        f"SELECT {INSTANCE_COLUMNS} FROM workflow_instances w "  # noqa: S608  (constants only)
        f"JOIN projects p ON p.id = w.project_id WHERE w.id = %s {lock}",
        (instance_id,),
    )
    return cursor.fetchone()


@app.get("/instance/<uuid:instance_id>")
def instance(instance_id: uuid.UUID):
    """The instance by primary key, joined with its project for the key: one SELECT."""
    row = in_transaction(lambda cursor: _read_instance(cursor, str(instance_id)))
    if row is None:
        abort(404)
    return jsonify(instance_document(row))


def metadata_changes(old: dict, new: dict) -> list[dict]:
    """Changed top-level fields other than ``steps``, shaped as Combine records them.

    Only as much diffing as the bench's PUT bodies need (they edit the description): the
    structural diff of the steps is work this yardstick leaves out, like validation.
    """
    changes = [
        {"field": name, "old": old.get(name), "new": new.get(name), "change": "changed"}
        for name in sorted(set(old) | set(new))
        if name != "steps" and old.get(name) != new.get(name)
    ]
    return changes


@app.put("/instance/<uuid:instance_id>")
def put_instance(instance_id: uuid.UUID):
    """Replace the definition: lock, compare, UPDATE and INSERT the history, one transaction."""
    new = request.get_json()["effective_workflow"]
    changed_by = request.args.get("changed_by")

    def write(cursor):
        row = _read_instance(cursor, str(instance_id), "FOR UPDATE OF w")
        if row is None or row[4] == new:
            return row
        cursor.execute(
            "UPDATE workflow_instances SET effective_workflow = %s, revision = revision + 1, "
            "updated_at = now() WHERE id = %s RETURNING revision, updated_at",
            (Json(new), str(instance_id)),
        )
        revision, updated_at = cursor.fetchone()
        changes = metadata_changes(row[4], new)
        if changes:
            cursor.execute(
                "INSERT INTO workflow_instance_history (id, instance_id, change_type, "
                "change_detail, changed_at, changed_by, revision, position) "
                "VALUES (%s, %s, 'metadata_changed', %s, now(), %s, %s, 0)",
                (
                    str(uuid.uuid4()),
                    str(instance_id),
                    Json({"revision": revision, "changes": changes}),
                    changed_by,
                    revision,
                ),
            )
        return (*row[:4], new, row[5], revision, row[7], updated_at)

    row = in_transaction(write)
    if row is None:
        abort(404)
    return jsonify(instance_document(row))


@app.get("/instance/<uuid:instance_id>/history")
def history(instance_id: uuid.UUID):
    """A page of entries newest first, and the total: two SELECTs, as Combine makes them.

    Not one with a window count: that would read every entry's change_detail to count them.
    """
    limit, offset = _page_args()

    def read(cursor):
        cursor.execute(
            "SELECT id, change_type, change_detail, changed_at, changed_by, revision, reason "
            "FROM workflow_instance_history WHERE instance_id = %s "
            "ORDER BY revision DESC, position ASC LIMIT %s OFFSET %s",
            (str(instance_id), limit, offset),
        )
        rows = cursor.fetchall()
        cursor.execute(
            "SELECT count(*) FROM workflow_instance_history WHERE instance_id = %s",
            (str(instance_id),),
        )
        return rows, cursor.fetchone()[0]

    rows, total = in_transaction(read)
    entries = [
        {
            "id": str(row[0]),
            "change_type": row[1],
            "change_detail": row[2],
            "changed_at": _time(row[3]),
            "changed_by": row[4],
            "revision": row[5],
            "reason": row[6],
        }
        for row in rows
    ]
    return jsonify({"entries": entries, "total": total, "offset": offset, "limit": limit})


@app.get("/projects")
def projects():
    """A page of one owner's unarchived projects with their workflow status, and the total.

    One SELECT, as Combine reads it: the page, each row carrying the member's kept count
    (project_counts), read again alone only for a page past the end. No count over the projects.
    """
    limit, offset = _page_args()
    owner_id = request.args.get("owner_id", type=int)
    kept = "SELECT visible_not_archived FROM project_counts WHERE user_id = %s"

    def read(cursor):
        cursor.execute(
            f"SELECT {PROJECT_COLUMNS}, w.status, ({kept}) "  # noqa: S608  (constants only)
            "FROM projects p JOIN users u ON u.id = p.owner_id "
            f"{MEMBER_AND_POLICY}"
            "LEFT JOIN workflow_instances w ON w.project_id = p.id "
            "WHERE p.archived_at IS NULL "
            "ORDER BY p.created_at DESC, p.project_id DESC LIMIT %s OFFSET %s",
            (owner_id, owner_id, limit, offset),
        )
        rows = cursor.fetchall()
        if rows:
            return rows, rows[0][13] or 0
        cursor.execute(kept, (owner_id,))
        alone = cursor.fetchone()
        return rows, alone[0] if alone else 0

    rows, total = in_transaction(read)
    listed = [
        {**project_document(row), "has_workflow": row[12] is not None, "workflow_status": row[12]}
        for row in rows
    ]
    return jsonify({"projects": listed, "total": total, "offset": offset, "limit": limit})


@app.get("/projects/<key>/tree")
def tree(key: str):
    """The project by key with its workflow's reference, status and revision: one SELECT."""

    def read(cursor):
        cursor.execute(
            f"SELECT {PROJECT_COLUMNS}, w.status, w.base_workflow_ref, w.revision "  # noqa: S608
            "FROM projects p JOIN users u ON u.id = p.owner_id "
            f"{MEMBER_AND_POLICY}"
            "LEFT JOIN workflow_instances w ON w.project_id = p.id WHERE p.project_id = %s",
            (request.args.get("owner_id", type=int), key),
        )
        return cursor.fetchone()

    row = in_transaction(read)
    if row is None:
        abort(404)
    status, ref, revision = row[12], row[13], row[14]
    workflow = None
    if status is not None:
        workflow = {
            "workflow_id": ref.get("workflow_id"),
            "version": ref.get("version"),
            "pow_class": ref.get("pow_class"),
            "status": status,
            "revision": revision,
        }
    return jsonify(
        {
            "project": project_document(row),
            "has_workflow": status is not None,
            "workflow_status": status,
            "workflow": workflow,
        }
    )


@app.get("/healthz")
def healthz():
    """The process is up."""
    return {"status": "ok"}
