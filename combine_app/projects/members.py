"""A project's members: add, change a role, remove or leave, each recorded in the audit trail.

The last owner can neither leave nor be demoted: a project always has someone who may manage it.
Services flush and never commit; the caller's unit of work does.
"""

from __future__ import annotations

from sqlalchemy import select

from combine_app.auth.models import User
from combine_app.errors import Conflict, NotFound, ValidationFailed
from combine_app.extensions import db
from combine_app.projects import counts, roles
from combine_app.projects.models import ROLES, Project, ProjectMember
from combine_app.projects.service import lock, record

LAST_OWNER = "A project needs at least one owner: make someone else owner first."


def members_of(project: Project) -> list[ProjectMember]:
    """The project's members, owners first, then by username."""
    members = db.session.scalars(
        select(ProjectMember).where(ProjectMember.project_id == project.id)
    ).all()
    return sorted(members, key=lambda member: (-ROLES.index(member.role), member.username))


def _member(project: Project, username: str) -> ProjectMember | None:
    if "\x00" in username:  # no username holds NUL, and PostgreSQL cannot even compare one
        return None
    return db.session.scalar(
        select(ProjectMember)
        .join(User, User.id == ProjectMember.user_id)
        .where(ProjectMember.project_id == project.id, User.username == username)
        .with_for_update(of=ProjectMember)
    )


def _owner_count(project: Project) -> int:
    # Locks the owners' rows, so two owners demoting each other at once cannot both succeed.
    owners = db.session.scalars(
        select(ProjectMember.user_id)
        .where(ProjectMember.project_id == project.id, ProjectMember.role == roles.OWNER)
        .with_for_update()
    ).all()
    return len(owners)


def set_member(
    project: Project, actor: User, username: str, role: str
) -> tuple[ProjectMember, bool]:
    """Add ``username`` with ``role``, or change their role; (member, whether added). Owner only.

    An unknown user is a 422 naming ``username``; demoting the last owner is a 409.
    """
    roles.require(project, actor, roles.MANAGE_MEMBERS)
    lock(project)
    member = _member(project, username)
    if member is None:
        user = None
        if "\x00" not in username:
            user = db.session.scalar(select(User).where(User.username == username))
        if user is None:
            message = f"No user {username!r}."
            raise ValidationFailed(message, errors={"username": [message]})
        member = ProjectMember(project_id=project.id, user=user, role=role, added_by=actor.username)
        db.session.add(member)
        counts.member_added(project, user.id)
        record(project, "member_added", actor, {"username": user.username, "role": role})
        db.session.flush()
        return member, True
    if member.role != role:
        if member.role == roles.OWNER and _owner_count(project) <= 1:
            raise Conflict(LAST_OWNER)
        record(
            project,
            "member_role_changed",
            actor,
            {"username": member.username, "old": member.role, "new": role},
        )
        member.role = role
        db.session.flush()
    return member, False


def remove_member(project: Project, actor: User, username: str) -> None:
    """Remove ``username`` (an owner may remove anyone; any member may leave); the last owner
    cannot go (409)."""
    lock(project)
    member = _member(project, username)
    leaving = member is not None and member.user_id == actor.id
    if not leaving:
        roles.require(project, actor, roles.MANAGE_MEMBERS)
    if member is None:
        raise NotFound(f"{username!r} is not a member of {project.project_id}.")
    if member.role == roles.OWNER and _owner_count(project) <= 1:
        raise Conflict(LAST_OWNER)
    record(
        project,
        "member_left" if leaving else "member_removed",
        actor,
        {"username": member.username, "role": member.role},
    )
    counts.member_removed(project, member.user_id)
    db.session.delete(member)
    db.session.flush()
