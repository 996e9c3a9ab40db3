"""Who is asking, the project they name and its workflow instance, read in one statement.

The read routes (GET instance, drift, history) need all three, and each read is a round trip
and a statement to build. Here they are one prebuilt Core statement on the request session's
connection: the caller (by bearer token, or by the signed-in user's id), LEFT JOINed to the
project the path names among those the caller may see (``projects.service.visible_to``), LEFT
JOINed to its instance. No row: the token is unknown (401). A row without a project: no such
project for this caller (404). Without an instance: the project has none (404).

Routes that read this way carry ``@reads_caller(project_instance)`` (or ``project``) right
under the route: ``authenticate`` then leaves a bearer token to this statement instead of
reading it first on its own, and the view finds the read in ``g.read``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from flask import g
from sqlalchemy import Row, bindparam, select
from sqlalchemy.orm import lazyload

from combine_app.auth.models import ApiToken, User
from combine_app.auth.service import known_user
from combine_app.database import as_loaded
from combine_app.errors import NotFound
from combine_app.extensions import db
from combine_app.projects import roles
from combine_app.projects import service as projects
from combine_app.projects.models import Project
from combine_app.workflows import drift_store
from combine_app.workflows.models import WorkflowDrift, WorkflowInstance
from combine_app.workflows.service import missing_instance

_users = User.__table__
_tokens = ApiToken.__table__
_projects = Project.__table__
_instances = WorkflowInstance.__table__
_drifts = WorkflowDrift.__table__
INSTANCE_COLUMNS = tuple(column.name for column in _instances.columns)
# What a drift read takes of the instance: not its definition, which only a drift computed
# afresh needs (it then loads when first used).
DRIFT_INSTANCE_COLUMNS = tuple(name for name in INSTANCE_COLUMNS if name != "effective_workflow")


def reads_caller(read):
    """Run ``read(project_id)`` first, before the body or query is read, into ``g.read``.

    A bearer token is then checked by that read (``authenticate`` leaves it to it): a request
    with a bad token is 401 before anything else about it is judged, as on every route.
    """

    def decorator(view):
        @functools.wraps(view)
        def first_the_caller(*args, **kwargs):
            g.read = read(kwargs["project_id"])
            return view(*args, **kwargs)

        first_the_caller.reads_caller = True
        return first_the_caller

    return decorator


@dataclass(frozen=True)
class ProjectInstance:
    """The instance row as read (with ``project_key``), and the project's key and id."""

    row: Row
    project_key: str
    project_uuid: object

    def instance(self) -> WorkflowInstance:
        """The row as a WorkflowInstance in the session, as if the ORM had loaded it."""
        read = self.row._fields
        columns = {name: getattr(self.row, name) for name in INSTANCE_COLUMNS if name in read}
        return as_loaded(WorkflowInstance, columns)

    def kept_drift(self) -> dict:
        """The instance's kept drift as read with it (``project_instance_drift``), by instance
        id: empty when none was kept."""
        kept = drift_store.kept_from(self.row)
        return {self.row.id: kept} if kept is not None else {}


def _caller_source(by_token: bool):
    """Where the caller is read from (token and user, or the user alone) and the caller's test."""
    if by_token:
        source = _tokens.join(_users, _users.c.id == _tokens.c.user_id)
        return source, _tokens.c.token_hash == bindparam("token_hash")
    return _users, _users.c.id == bindparam("user_id")


@functools.cache
def _statement(by_token: bool, ref_column: str, drift: bool = False):
    """The one statement for a caller source and a kind of project reference (built once);
    with ``drift``, the instance's kept drift too, and not the instance's definition."""
    source, caller = _caller_source(by_token)
    project = (_projects.c[ref_column] == bindparam("ref")) & projects.visible_to(
        _users.c.id, _users.c.is_admin
    )
    source = source.outerjoin(_projects, project).outerjoin(
        _instances, _instances.c.project_id == _projects.c.id
    )
    columns = [_instances.c[name] for name in INSTANCE_COLUMNS]
    if drift:
        source = source.outerjoin(_drifts, _drifts.c.instance_id == _instances.c.id)
        columns = [_instances.c[name] for name in DRIFT_INSTANCE_COLUMNS]
        columns += drift_store.kept_columns(_instances.c.id, full=True)
    return (
        select(
            _users.c.id.label("caller_id"),
            _users.c.username.label("caller_username"),
            _users.c.is_admin.label("caller_is_admin"),
            _projects.c.id.label("project_uuid"),
            _projects.c.project_id.label("project_key"),
            *columns,
        )
        .select_from(source)
        .where(caller)
    )


@functools.cache
def _project_statement(by_token: bool, ref_column: str):
    """The caller and the named project as an ORM entity (for the services), built once."""
    source, caller = _caller_source(by_token)
    named = (getattr(Project, ref_column) == bindparam("ref")) & projects.visible_to(
        _users.c.id, _users.c.is_admin
    )
    return (
        select(
            _users.c.id.label("caller_id"),
            _users.c.username.label("caller_username"),
            _users.c.is_admin.label("caller_is_admin"),
            projects.member_role_column(_users.c.id).label("caller_role"),
            Project,
        )
        .select_from(source)
        .outerjoin(Project, named)
        .where(caller)
        # Not the owner's eager inner join: it would drop the row that tells 404 from 401. The
        # owner is mostly the caller, whom the session then holds already.
        .options(lazyload(Project.owner))
    )


def _caller_params(project_ref: str) -> tuple[bool, str, dict]:
    parsed = projects.parse_ref(project_ref)
    token_hash = g.get("token_hash")
    params: dict = {"ref": parsed[1] if parsed else None}
    if token_hash is not None:
        params["token_hash"] = token_hash
    else:
        params["user_id"] = g.user.id
    return token_hash is not None, parsed[0] if parsed else "project_id", params


def _settle_caller(row, by_token: bool) -> None:
    """401 when no row came back; else the caller read from a token becomes ``g.user``."""
    from combine_app.api import refuse_token  # the package imports this module's users first

    if row is None:
        refuse_token()
    if by_token:
        g.user = known_user(row.caller_id, row.caller_username, row.caller_is_admin)


def project(project_ref: str) -> Project:
    """The caller's project named by ``project_ref`` (an ORM object); 401 or 404 otherwise."""
    by_token, column, params = _caller_params(project_ref)
    row = db.session.execute(_project_statement(by_token, column), params).first()
    _settle_caller(row, by_token)
    if row.Project is None:
        raise NotFound(f"No project {project_ref!r}.")
    row.Project.your_role = roles.effective_role(row.caller_role, row.caller_is_admin)
    return row.Project


def project_instance(project_ref: str, *, drift: bool = False) -> ProjectInstance:
    """The caller's project named by ``project_ref`` and its instance; 401 or 404 otherwise.

    Sets ``g.user`` when the caller came with a bearer token not read yet. With ``drift``, the
    instance's kept drift comes in the same statement, its definition not at all.
    """
    by_token, column, params = _caller_params(project_ref)
    row = db.session.connection().execute(_statement(by_token, column, drift), params).first()
    _settle_caller(row, by_token)
    if row.project_uuid is None:
        raise NotFound(f"No project {project_ref!r}.")
    if row.id is None:
        raise missing_instance(row.project_key)
    return ProjectInstance(row, row.project_key, row.project_uuid)


def project_instance_drift(project_ref: str) -> ProjectInstance:
    """``project_instance`` for a drift read: with the kept drift, without the definition."""
    return project_instance(project_ref, drift=True)
