"""Filling a migrated bench database fast: projects and history rows in one statement each.

The API makes one project or one history entry per request, which would take minutes for the
100,000 rows the growth measurements need. These functions write straight into the tables the
migrations made (psycopg2, ``INSERT ... SELECT generate_series``), with the columns and JSON
shapes the app itself writes, then ``ANALYZE`` so the planner sees the real sizes.
"""

from __future__ import annotations

import psycopg2
from sqlalchemy.engine import make_url


def postgres_dsn(url: str) -> str:
    """A libpq connection string for a SQLAlchemy URL (``postgresql+psycopg2://`` included)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _run(database_url: str, statement: str, parameters: tuple | dict) -> None:
    """Execute one statement in its own transaction, then ANALYZE outside it."""
    connection = psycopg2.connect(postgres_dsn(database_url))
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute(statement, parameters)
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    finally:
        connection.close()


def seed_projects(database_url: str, username: str, count: int, key_prefix: str) -> None:
    """Give ``username`` ``count`` more projects, keyed ``<key_prefix>-000001`` and on.

    Each is older than the last by a minute, so the list's order (newest first) is stable. The
    owner's and everyone's kept counts (project_counts, project_totals) grow by ``count`` as the
    app's own creates make them.
    ``key_prefix`` is one to four letters (the app's key pattern) and unique per call.
    """
    _run(
        database_url,
        """
        WITH made AS (
            INSERT INTO projects (id, project_id, name, description, status, owner_id,
                                  created_at, updated_at)
            SELECT gen_random_uuid(), %(prefix)s || '-' || lpad(n::text, 6, '0'),
                   'Seeded project ' || n, 'Made by the benchmarks to fill the list.', 'active',
                   users.id, now() - make_interval(mins => n), now() - make_interval(mins => n)
            FROM generate_series(1, %(count)s) AS n, users
            WHERE users.username = %(username)s
            RETURNING id, owner_id, created_at
        ), joined AS (
            INSERT INTO project_members (project_id, user_id, role, added_by, added_at)
            SELECT id, owner_id, 'owner', %(username)s, created_at FROM made
            RETURNING user_id
        ), counted AS (
            INSERT INTO project_counts (user_id, visible, visible_not_archived)
            SELECT user_id, count(*), count(*) FROM joined GROUP BY user_id
            ON CONFLICT (user_id) DO UPDATE
            SET visible = project_counts.visible + excluded.visible,
                visible_not_archived = project_counts.visible_not_archived
                                       + excluded.visible_not_archived
        )
        UPDATE project_totals
        SET visible = visible + (SELECT count(*) FROM made),
            visible_not_archived = visible_not_archived + (SELECT count(*) FROM made)
        WHERE id = 1
        """,
        {"prefix": key_prefix, "count": count, "username": username},
    )


def seed_history(database_url: str, instance_id: str, count: int, changed_by: str) -> None:
    """Append ``count`` history entries to the instance, one revision each, and move it on.

    The entries look like the ones a PUT writes when it edits the description
    (``metadata_changed`` with ``{"revision", "changes": [{"field", "old", "new", "change"}]}``),
    revisions following the instance's current one, each a second newer than the one before
    and all in the past; the instance's revision ends at the newest entry's, and its
    ``history_count`` grows by ``count`` as the app's own writes make it.
    """
    _run(
        database_url,
        """
        WITH instance AS (
            SELECT id, revision FROM workflow_instances WHERE id = %s FOR UPDATE
        ), appended AS (
            INSERT INTO workflow_instance_history
                (id, instance_id, change_type, change_detail, changed_at, changed_by,
                 revision, position)
            SELECT gen_random_uuid(), instance.id, 'metadata_changed',
                   jsonb_build_object(
                       'revision', instance.revision + n,
                       'changes', jsonb_build_array(jsonb_build_object(
                           'field', 'description',
                           'old', 'Seeded description, revision ' || (instance.revision + n - 1),
                           'new', 'Seeded description, revision ' || (instance.revision + n),
                           'change', 'changed'))),
                   now() - make_interval(secs => %s - n + 1), %s, instance.revision + n, 0
            FROM instance, generate_series(1, %s) AS n
            RETURNING revision
        )
        UPDATE workflow_instances SET revision = (SELECT max(revision) FROM appended),
            history_count = history_count + (SELECT count(*) FROM appended)
        WHERE id = %s
        """,
        (instance_id, count, changed_by, count, instance_id),
    )
