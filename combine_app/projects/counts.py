"""The project list's totals, kept instead of counted.

Each user's row in ``project_counts`` says how many projects they are a member of and how many
of those are not archived; the one row of ``project_totals`` says the same of every project
(what an administrator sees). Every change of what someone sees moves them in its own
transaction: a project created, archived, unarchived or deleted, a member added or removed
(a role change changes nothing: every role may read). Each move is one ``n = n + delta``
statement, so concurrent writers never lose one another's counts.

Lock order, so two writers never wait on each other in a circle: the project's row first
(``service.lock``), then the totals row, then users' rows.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, func, select, update

from combine_app.database import upsert
from combine_app.extensions import db
from combine_app.projects.models import Project, ProjectCount, ProjectMember, ProjectTotal

TOTALS_ID = 1

_counts = ProjectCount.__table__
_totals = ProjectTotal.__table__
_members = ProjectMember.__table__


def visible_total(user_id, is_admin: bool, include_archived: bool) -> ColumnElement[int]:
    """How many projects the unfiltered list of this user holds, as a scalar column.

    ``user_id`` may be a value or a bind parameter (a statement built once for every user).
    """
    table = _totals if is_admin else _counts
    column = table.c.visible if include_archived else table.c.visible_not_archived
    row = table.c.id == TOTALS_ID if is_admin else table.c.user_id == user_id
    # A user who was never a member has no row yet: they see nothing.
    return func.coalesce(select(column).where(row).scalar_subquery(), 0)


def project_created(project: Project, owner_id: int) -> None:
    """A new project, not archived, seen by its owner (its first member)."""
    _add(_totals, _totals.c.id, TOTALS_ID, 1, 1)
    _add(_counts, _counts.c.user_id, owner_id, 1, 1)


def member_added(project: Project, user_id: int) -> None:
    """``user_id`` now sees ``project``."""
    _add(_counts, _counts.c.user_id, user_id, 1, _unarchived(project))


def member_removed(project: Project, user_id: int) -> None:
    """``user_id`` no longer sees ``project``."""
    _move(_counts.c.user_id == user_id, -1, -_unarchived(project))


def project_archived(project: Project) -> None:
    """``project`` leaves its members' (and everyone's) lists of unarchived projects."""
    _move_everyone(project, 0, -1)


def project_unarchived(project: Project) -> None:
    """``project`` is back in its members' (and everyone's) lists of unarchived projects."""
    _move_everyone(project, 0, 1)


def project_deleted(project: Project) -> None:
    """``project`` is about to be deleted: nobody sees it any more. Call before the delete, while
    its members are still there."""
    _move_everyone(project, -1, -_unarchived(project))


def _unarchived(project: Project) -> int:
    return 0 if project.is_archived else 1


def _move_everyone(project: Project, visible: int, not_archived: int) -> None:
    _move_totals(visible, not_archived)
    members = select(_members.c.user_id).where(_members.c.project_id == project.id)
    _move(_counts.c.user_id.in_(members), visible, not_archived)


def _move_totals(visible: int, not_archived: int) -> None:
    db.session.execute(
        update(_totals)
        .where(_totals.c.id == TOTALS_ID)
        .values(
            visible=_totals.c.visible + visible,
            visible_not_archived=_totals.c.visible_not_archived + not_archived,
        )
    )


def _move(rows: ColumnElement[bool], visible: int, not_archived: int) -> None:
    """Move existing users' rows (a member has a row: it was made when they joined)."""
    db.session.execute(
        update(_counts)
        .where(rows)
        .values(
            visible=_counts.c.visible + visible,
            visible_not_archived=_counts.c.visible_not_archived + not_archived,
        )
    )


def _add(table, key_column, key: int, visible: int, not_archived: int) -> None:
    """Add to a row, making it on first use: one INSERT ... ON CONFLICT DO UPDATE statement,
    which both PostgreSQL and SQLite (3.24 and later) run atomically."""
    statement = upsert(db.session.connection(), table).values(
        {key_column.name: key, "visible": visible, "visible_not_archived": not_archived}
    )
    db.session.execute(
        statement.on_conflict_do_update(
            index_elements=[key_column],
            set_={
                "visible": table.c.visible + statement.excluded.visible,
                "visible_not_archived": table.c.visible_not_archived
                + statement.excluded.visible_not_archived,
            },
        )
    )
