"""The yardstick for bench_api: bare Flask + psycopg2 returning one JSONB row, nothing else.

``GET /instance/<uuid>`` answers the instance's ``effective_workflow`` as JSON: one pooled
connection, one SELECT by primary key, no auth, no ORM, no schema. Served by the same gunicorn
settings as Combine: ``DATABASE_URL=... gunicorn -c gunicorn.conf.py benchmarks.baseline_app:app``.
"""

from __future__ import annotations

import os

import psycopg2
from flask import Flask, abort, jsonify
from psycopg2.pool import SimpleConnectionPool

app = Flask(__name__)

_pool: SimpleConnectionPool | None = None
_pool_pid: int | None = None


def pool() -> SimpleConnectionPool:
    """This worker's pool, made on first use so no connection crosses gunicorn's fork."""
    global _pool, _pool_pid
    if _pool is None or _pool_pid != os.getpid():
        dsn = os.environ["DATABASE_URL"].replace("postgresql+psycopg2://", "postgresql://", 1)
        _pool = SimpleConnectionPool(1, 4, dsn=dsn, connect_timeout=5)
        _pool_pid = os.getpid()
    return _pool


@app.get("/instance/<uuid:instance_id>")
def instance(instance_id):
    """One JSONB column of one row by primary key."""
    connections = pool()
    connection = connections.getconn()
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT effective_workflow FROM workflow_instances WHERE id = %s",
                (str(instance_id),),
            )
            row = cursor.fetchone()
        connection.rollback()  # end the read's transaction, as a pool's reset-on-return would
    except psycopg2.Error:
        connections.putconn(connection, close=True)
        raise
    connections.putconn(connection)
    if row is None:
        abort(404)
    return jsonify(row[0])


@app.get("/healthz")
def healthz():
    """The process is up."""
    return {"status": "ok"}
