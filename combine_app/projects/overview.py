"""Projects together with their workflow state, each read in a single query."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Row, Select, and_, bindparam, func, literal, select

from combine_app.auth.models import User
from combine_app.extensions import db
from combine_app.projects import counts, roles
from combine_app.projects.models import Project, ProjectMember, ProjectPolicy
from combine_app.workflows.models import WorkflowInstance


@dataclass(frozen=True)
class ProjectRow:
    """A project and the state of its workflow instance (None: no workflow)."""

    project: Project
    workflow_status: str | None
    workflow_ref: dict | None = None
    workflow_revision: int | None = None

    @property
    def has_workflow(self) -> bool:
        """Whether the project has a workflow instance."""
        return self.workflow_status is not None


# Newest first; the key breaks ties, so pages never overlap.
LIST_ORDER = (Project.created_at.desc(), Project.project_id.desc())
_owners = User.__table__.alias("owner")
_projects = Project.__table__
_instances = WorkflowInstance.__table__
_members = ProjectMember.__table__
_policies = ProjectPolicy.__table__
# Exactly the columns a listed project is answered with (ProjectListItemSchema), labelled so.
LIST_COLUMNS = (
    _projects.c.id,
    _projects.c.project_id,
    _projects.c.name,
    _projects.c.description,
    _projects.c.status,
    _projects.c.archived_at.is_not(None).label("is_archived"),
    _owners.c.username.label("owner"),
    _projects.c.created_at,
    _projects.c.updated_at,
    _instances.c.id.is_not(None).label("has_workflow"),
    _instances.c.status.label("workflow_status"),
    _policies.c.four_eyes.label("policy_four_eyes"),
    _policies.c.review_days.label("policy_review_days"),
)
# The caller's membership (for ``your_role``) and the policy ride along as outer joins.
_LIST_FROM = (
    _projects.join(_owners, _owners.c.id == _projects.c.owner_id)
    .outerjoin(_instances, _instances.c.project_id == _projects.c.id)
    .outerjoin(
        _members,
        and_(_members.c.project_id == _projects.c.id, _members.c.user_id == bindparam("user_id")),
    )
    .outerjoin(_policies, _policies.c.project_id == _projects.c.id)
)


def _your_role(is_admin: bool):
    """The caller's role as a column: their membership's, or owner for an administrator."""
    if is_admin:
        return func.coalesce(_members.c.role, literal("owner")).label("your_role")
    return _members.c.role.label("your_role")


def list_rows(
    user: User, search: str, include_archived: bool, offset: int, limit: int
) -> tuple[list[Row], int]:
    """One page of the projects ``user`` may see as plain rows of LIST_COLUMNS, and the total.

    Without a search (the common case) the total is the user's kept count
    (``counts.visible_total``), read in the same statement as the page; the statement is built
    once and reused. A search counts what it matches, by a count of its own:
    a window count would have to sort every matching project first; a page that is not full
    tells the total itself, so that count runs only when it cannot.
    """
    params = {"user_id": user.id, "offset": offset, "limit": limit}
    connection = db.session.connection()
    if not search:
        page, total = _unfiltered_list_statements(user.is_admin, include_archived)
        rows = connection.execute(page, params).all()
        return rows, rows[0].total if rows else connection.scalar(total, params)
    page, count = _searched_list_statements(user.is_admin, include_archived, search)
    rows = connection.execute(page, params).all()
    if rows and len(rows) < limit:
        return rows, offset + len(rows)
    return rows, connection.scalar(count, params)


def _list_page(is_admin: bool, include_archived: bool, search: str = "") -> Select:
    """The page statement of one kind of list request (values as parameters)."""
    from combine_app.projects.service import search_filter

    # A member's own row is already joined for the role: the list needs no second test of it.
    visible_page = select(*LIST_COLUMNS, _your_role(is_admin)).select_from(_LIST_FROM)
    if not is_admin:
        visible_page = visible_page.where(_members.c.role.is_not(None))
    return (
        search_filter(visible_page, search, include_archived)
        .order_by(*LIST_ORDER)
        .offset(bindparam("offset"))
        .limit(bindparam("limit"))
    )


@functools.cache
def _unfiltered_list_statements(is_admin: bool, include_archived: bool) -> tuple[Select, Select]:
    """The page with the kept total as its ``total`` column, and the total alone (for a page
    past the end)."""
    total = counts.visible_total(bindparam("user_id"), is_admin, include_archived)
    page = _list_page(is_admin, include_archived).add_columns(total.label("total"))
    return page, select(total)


def _searched_list_statements(
    is_admin: bool, include_archived: bool, search: str
) -> tuple[Select, Select]:
    """The page and the count of what a search matches."""
    from combine_app.projects.service import search_filter, visible_to

    visible = (
        select(func.count())
        .select_from(_projects)
        .where(visible_to(bindparam("user_id"), is_admin))
    )
    return _list_page(is_admin, include_archived, search), search_filter(
        visible, search, include_archived
    )


def _with_workflow(query: Select) -> Select:
    return query.outerjoin(WorkflowInstance, WorkflowInstance.project_id == Project.id).add_columns(
        WorkflowInstance.status, WorkflowInstance.base_workflow_ref, WorkflowInstance.revision
    )


def page(
    query: Select,
    offset: int,
    limit: int,
    user: User | None = None,
    *,
    kept_total: ColumnElement[int] | None = None,
) -> tuple[list[ProjectRow], int]:
    """One page of projects with workflow states and the total, in one statement; with
    ``user``, each project's ``your_role`` is read in the same statement.

    The total is ``kept_total`` when given (an unfiltered list: ``counts.visible_total``), else
    a window count over what ``query`` matches; only a page past the end needs a second query.
    """
    counted = query
    if user is not None:
        query = _with_role(query, user)
    total = func.count().over() if kept_total is None else kept_total
    rows = db.session.execute(
        _with_workflow(query)
        .add_columns(total.label("total"))
        .order_by(*LIST_ORDER)
        .offset(offset)
        .limit(limit)
    ).all()
    if rows:
        total = rows[0].total
    elif kept_total is not None:
        total = db.session.scalar(select(kept_total))
    else:
        total = db.session.scalar(
            db.select(func.count()).select_from(counted.order_by(None).subquery())
        )
    return [_row(row, user) for row in rows], total


def _with_role(query: Select, user: User) -> Select:
    from combine_app.projects.service import member_role_column

    return query.add_columns(member_role_column(user.id).label("member_role"))


def _row(row, user: User | None) -> ProjectRow:
    project = row.Project
    if user is not None:
        project.your_role = roles.effective_role(row.member_role, user.is_admin)
    return ProjectRow(project, row.status, row.base_workflow_ref, row.revision)


def one(query: Select, user: User | None = None) -> ProjectRow | None:
    """A single project (already narrowed by ``query``) with its workflow state; with ``user``,
    the project's ``your_role`` is read in the same statement."""
    if user is not None:
        query = _with_role(query, user)
    row = db.session.execute(_with_workflow(query)).first()
    return None if row is None else _row(row, user)
