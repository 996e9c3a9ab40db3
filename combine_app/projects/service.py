"""Project operations: every change is flushed with its audit row, never committed here."""

from __future__ import annotations

import re
import uuid

from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.exc import IntegrityError

from combine_app.auth.models import User
from combine_app.database import utcnow
from combine_app.errors import Conflict, NotFound
from combine_app.extensions import db
from combine_app.projects import counts, roles
from combine_app.projects.models import Project, ProjectAudit, ProjectMember, ProjectPolicy

# A single-word name keeps its first three characters, digits included ("R2D2" -> "R2D").
KEY_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9]{0,3}-\d{3,}$")
_KEY_ATTEMPTS = 5


def key_prefix(name: str) -> str:
    """Initials of the name's words, up to four letters: 'Software Product Dev' -> 'SPD'."""
    words = re.findall(r"[A-Za-z][A-Za-z0-9]*", name)
    if not words:
        return "PRJ"
    if len(words) == 1:
        return words[0][:3].upper()
    return "".join(word[0] for word in words[:4]).upper()


def _next_key(prefix: str) -> str:
    """The next free key for ``prefix``: one past the highest number in use."""
    highest = db.session.scalar(
        select(Project.project_id)
        .where(Project.project_id.like(f"{prefix}-%"))
        .order_by(func.length(Project.project_id).desc(), Project.project_id.desc())
        .limit(1)
    )
    number = int(highest.split("-", 1)[1]) if highest else 0
    return f"{prefix}-{number + 1:03d}"


def record(project: Project, action: str, actor: User | str, detail: dict | None = None) -> None:
    """Append an audit row for ``project``."""
    db.session.add(
        ProjectAudit(
            project_uuid=project.id,
            project_key=project.project_id,
            action=action,
            actor=actor if isinstance(actor, str) else actor.username,
            detail=detail,
        )
    )


def visible_projects(user: User) -> Select:
    """A SELECT of the projects ``user`` may see: those they are a member of, or all for an
    admin."""
    return select(Project).where(visible_to(user.id, user.is_admin))


def search_filter(query: Select, search: str | None, include_archived: bool) -> Select:
    """Narrow a project query by free text and archive state."""
    if search:
        # autoescape: a '%' or '_' typed by the user matches itself, not any text.
        needle = search.lower()
        query = query.where(
            or_(
                func.lower(Project.name).contains(needle, autoescape=True),
                func.lower(Project.project_id).contains(needle, autoescape=True),
                func.lower(Project.description).contains(needle, autoescape=True),
            )
        )
    if not include_archived:
        query = query.where(Project.archived_at.is_(None))
    return query


def parse_ref(ref: str) -> tuple[str, uuid.UUID | str] | None:
    """Which column a project reference names and its value: ("id", UUID) or ("project_id",
    "KEY"); None when ``ref`` can name no project."""
    try:
        return "id", uuid.UUID(ref)
    except ValueError:
        if not KEY_PATTERN.match(ref):
            return None
        return "project_id", ref.upper()


def visible_to(user_id, is_admin):
    """The visibility rule as a SQL condition on Project: a member's, or any for an admin.

    ``user_id`` and ``is_admin`` may be columns (a statement that reads the caller too).
    """
    return or_(
        is_admin,
        exists().where(ProjectMember.project_id == Project.id, ProjectMember.user_id == user_id),
    )


def member_role_column(user_id):
    """The caller's membership role as a column of a project statement (NULL: not a member)."""
    return (
        select(ProjectMember.role)
        .where(ProjectMember.project_id == Project.id, ProjectMember.user_id == user_id)
        .scalar_subquery()
    )


def project_query(user: User, ref: str) -> Select:
    """A SELECT of the project with this UUID or human key among those ``user`` may see."""
    parsed = parse_ref(ref)
    if parsed is None:
        raise NotFound(f"No project {ref!r}.")
    column, value = parsed
    return visible_projects(user).where(getattr(Project, column) == value)


def get_project(
    user: User, ref: str, action: str = roles.READ, *, for_update: bool = False
) -> Project:
    """The project with this UUID or human key, if ``user`` may see it (else 404) and do
    ``action`` in it (else 403 naming the role needed); its ``your_role`` is set."""
    parsed = parse_ref(ref)
    if parsed is None:
        raise NotFound(f"No project {ref!r}.")
    column, value = parsed
    query = (
        select(Project, ProjectMember.role)
        .outerjoin(
            ProjectMember,
            and_(ProjectMember.project_id == Project.id, ProjectMember.user_id == user.id),
        )
        .where(getattr(Project, column) == value)
    )
    if not user.is_admin:
        query = query.where(ProjectMember.role.is_not(None))
    if for_update:
        query = query.with_for_update(of=Project)
    row = db.session.execute(query).first()
    if row is None:
        raise NotFound(f"No project {ref!r}.")
    project = row[0]
    project.your_role = roles.effective_role(row[1], user.is_admin)
    roles.require(project, user, action)
    return project


def create_project(
    owner: User,
    name: str,
    description: str = "",
    *,
    intake_document: dict | None = None,
    intake_execution_id: str | None = None,
) -> Project:
    """Add a project with a fresh human key; retries when another writer took the same key."""
    prefix = key_prefix(name)
    for attempt in range(_KEY_ATTEMPTS):
        project = Project(
            id=uuid.uuid4(),
            project_id=_next_key(prefix),
            name=name,
            description=description or "",
            owner=owner,
            intake_document=intake_document,
            intake_execution_id=intake_execution_id,
        )
        savepoint = db.session.begin_nested()
        db.session.add(project)
        try:
            db.session.flush()
        except IntegrityError:
            savepoint.rollback()
            if intake_execution_id is not None or attempt == _KEY_ATTEMPTS - 1:
                raise
            continue
        savepoint.commit()
        db.session.add(
            ProjectMember(
                project_id=project.id, user=owner, role=roles.OWNER, added_by=owner.username
            )
        )
        project.your_role = roles.OWNER
        counts.project_created(project, owner.id)
        record(project, "created", owner, {"name": name})
        db.session.flush()
        return project
    raise Conflict("Could not allocate a project key; retry.")  # pragma: no cover


def update_project(project: Project, actor: User, changes: dict) -> Project:
    """Apply name/description edits (an editor's or owner's) and policy changes (an owner's),
    and record what changed, old and new."""
    if "name" in changes or "description" in changes:
        roles.require(project, actor, roles.EDIT_PROJECT)
    if "policy" in changes:
        roles.require(project, actor, roles.CHANGE_POLICY)
        change_policy(project, actor, changes["policy"])
    changed = {}
    for field in ("name", "description"):
        if field in changes and changes[field] != getattr(project, field):
            changed[field] = {"old": getattr(project, field), "new": changes[field]}
            setattr(project, field, changes[field])
    if changed:
        record(project, "updated", actor, changed)
        db.session.flush()
    return project


def change_policy(project: Project, actor: User, sent: dict) -> None:
    """Change the keys of the policy that were sent (the others stay); record old and new."""
    old = project.policy
    if project.policy_row is None:
        project.policy_row = ProjectPolicy(four_eyes=old.four_eyes, review_days=old.review_days)
    changed = {}
    for field in ("four_eyes", "review_days"):
        if field in sent and sent[field] != getattr(old, field):
            changed[field] = {"old": getattr(old, field), "new": sent[field]}
            setattr(project.policy_row, field, sent[field])
    if changed:
        record(project, "policy_changed", actor, changed)
        db.session.flush()


def lock(project: Project) -> None:
    """Lock the project's row until the transaction ends and read again whether it is archived.

    Every change of who sees the project (archive, unarchive, delete, a member added or removed)
    starts here, so two of them wait for each other and the list's counts move by what is true
    once the first has committed, whichever door the change came through.
    """
    db.session.refresh(project, ["archived_at"], with_for_update=True)


def archive_project(project: Project, actor: User) -> Project:
    """Archive; 409 when already archived. The workflow instance is left as it is."""
    lock(project)
    if project.is_archived:
        raise Conflict(f"Project {project.project_id} is already archived.")
    project.archived_at = utcnow()
    project.archived_by = actor.username
    project.status = "archived"
    counts.project_archived(project)
    record(project, "archived", actor)
    db.session.flush()
    return project


def unarchive_project(project: Project, actor: User) -> Project:
    """Bring an archived project back; 409 when it is not archived."""
    lock(project)
    if not project.is_archived:
        raise Conflict(f"Project {project.project_id} is not archived.")
    project.archived_at = None
    project.archived_by = None
    project.status = "active"
    counts.project_unarchived(project)
    record(project, "unarchived", actor)
    db.session.flush()
    return project


def delete_project(project: Project, actor: User) -> None:
    """Delete the project; the database cascades to its workflow instance, history and members."""
    lock(project)
    counts.project_deleted(project)
    record(project, "deleted", actor, {"name": project.name})
    db.session.delete(project)
    db.session.flush()


def audit_trail(project: Project) -> list[ProjectAudit]:
    """The project's audit rows, newest first."""
    return list(
        db.session.scalars(
            select(ProjectAudit)
            .where(ProjectAudit.project_uuid == project.id)
            .order_by(ProjectAudit.id.desc())
        )
    )
