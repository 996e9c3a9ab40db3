"""Column types shared by the models, and the per-request unit of work."""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

from flask import request
from sqlalchemy import JSON, DateTime, TypeDecorator
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from combine_app.errors import ConcurrentChange, Conflict
from combine_app.extensions import db

# The session.info key set by a read that kept something computed (workflows/drift_store.py).
KEPT_BY_A_READ = "kept_by_a_read"

log = logging.getLogger(__name__)

# JSONB on PostgreSQL, JSON text on SQLite.
JSONDocument = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC timestamp on every engine.

    SQLite keeps no offset: without this, the same column reads back naive there and aware on
    PostgreSQL, so the API would print times without an offset on a local run.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        """Store aware values as UTC (SQLite would otherwise drop a non-UTC offset)."""
        if value is not None and value.tzinfo is not None:
            return value.astimezone(UTC)
        return value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        """Read naive values (SQLite) back as the UTC they were stored in."""
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


Timestamp = UTCDateTime()


def utcnow() -> datetime:
    """The current time, timezone-aware, computed at call time."""
    return datetime.now(UTC)


def as_loaded(model: type, columns: dict) -> object:
    """The ``model`` object of a row the database has just returned, as if the ORM had loaded it.

    For reads done as Core (one prebuilt statement, no ORM execution): the object is put in the
    session persistent and clean, so a relationship to it resolves from the identity map and
    columns not given load when first used. An object already in the session is returned, given
    the values just read.
    """
    session = db.session()
    mapper = sa_inspect(model)
    key = mapper.identity_key_from_primary_key(
        tuple(columns[column.key] for column in mapper.primary_key)
    )
    existing = session.identity_map.get(key)
    if existing is not None:
        # Already held (perhaps expired by a commit): take the values just read rather than
        # reading them again.
        unloaded = sa_inspect(existing).unloaded
        for name, value in columns.items():
            if name in unloaded:
                set_committed_value(existing, name, value)
        return existing
    obj = model(**columns)
    make_transient_to_detached(obj)  # forget that the constructor "changed" every column
    session.add(obj)
    return obj


@contextlib.contextmanager
def transaction() -> Iterator[None]:
    """One unit of work: commit when the block succeeds, roll back on any exception.

    Services only add and flush. A unique or foreign-key violation (at a flush inside the block
    or at the commit) becomes a 409 Conflict, never a 500; pages catch it like any AppError and
    show its message, the API answers it as problem+json.
    """
    try:
        yield
        db.session.commit()
    except IntegrityError as error:
        db.session.rollback()
        raise Conflict("The change conflicts with the current state; reload and retry.") from (
            error
        )
    except StaleDataError as error:
        db.session.rollback()
        raise ConcurrentChange(
            "Someone else changed this at the same moment; reload and retry."
        ) from error
    except BaseException:
        db.session.rollback()
        raise


def unit_of_work(view: Callable) -> Callable:
    """Run a view as one ``transaction()``: every request that writes, API or page."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        with transaction():
            return view(*args, **kwargs)

    return wrapper


def commit_read_fills(response):
    """``after_request``: commit what a successful read request (GET, HEAD) kept of what it
    computed (drifts, workflows/drift_store.py), written in its transaction in a savepoint.

    A read request otherwise ends in a rollback and writes nothing else; its answer is built by
    now, so the commit only ends its transaction. A write request's kept rows went with its own
    unit of work, committed or rolled back with the change they were computed from.
    """
    session = db.session
    if not session.info.pop(KEPT_BY_A_READ, False):
        return response
    if request.method in ("GET", "HEAD") and response.status_code < 400:
        try:
            session.commit()
        except DBAPIError as error:
            session.rollback()
            log.info("What the read computed was not kept (%s).", error.orig)
    return response


def upsert(connection, table):
    """An INSERT into ``table`` for ``connection``'s database that takes
    ``on_conflict_do_update``: PostgreSQL's or SQLite's (3.24 and later), both atomic."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)
