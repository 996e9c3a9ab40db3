"""Finding the PostgreSQL server for the test run, and making throwaway databases on it."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass

import psycopg2
from sqlalchemy.engine import make_url

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"


@dataclass
class PostgresProbe:
    """Whether the PostgreSQL leg can run, and why not when it cannot."""

    admin_url: str
    available: bool
    reason: str
    required: bool


def probe_postgres() -> PostgresProbe:
    """Try the server named by COMBINE_TEST_POSTGRES_URL (or the local default) once."""
    url = os.environ.get("COMBINE_TEST_POSTGRES_URL", DEFAULT_ADMIN_URL)
    required = os.environ.get("COMBINE_REQUIRE_POSTGRES", "") == "1"
    try:
        conn = psycopg2.connect(_dsn(url), connect_timeout=3)
        conn.close()
    except psycopg2.Error as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
        return PostgresProbe(url, False, reason, required)
    return PostgresProbe(url, True, "", required)


def _dsn(url: str) -> str:
    parsed = make_url(url)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def create_database(admin_url: str, prefix: str = "combine_test") -> str:
    """Create an empty database with a unique name; return its SQLAlchemy URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    conn = psycopg2.connect(_dsn(admin_url))
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    conn.close()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_database(admin_url: str, url: str) -> None:
    """Drop a database made by ``create_database``, closing any connection still open on it."""
    name = make_url(url).database
    conn = psycopg2.connect(_dsn(admin_url))
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    conn.close()
