"""Liveness and readiness probes."""

from __future__ import annotations

from flask import Blueprint
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from combine_app.errors import problem
from combine_app.extensions import csrf, db

health = Blueprint("health", __name__)
csrf.exempt(health)


@health.get("/healthz")
def healthz():
    """The process is up; touches nothing else."""
    return {"status": "ok"}


@health.get("/readyz")
def readyz():
    """Ready when the database answers."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        return problem(503, "The database is not answering.", headers={"Retry-After": "5"})
    return {"status": "ready", "database": "ok"}
