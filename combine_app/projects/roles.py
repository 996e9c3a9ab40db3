"""What each role in a project may do: one table, one check, used by every door.

The API routes, the pages and the commands ask ``require`` (or ``allows`` to decide what to
offer); nothing else decides who may do what. An administrator acts on every project as its
owner would. Someone who is not a member never gets this far: the project is not found (404).
"""

from __future__ import annotations

from sqlalchemy import select, true

from combine_app.auth.models import User
from combine_app.errors import Forbidden
from combine_app.extensions import db
from combine_app.projects.models import ROLES, Policy, Project, ProjectMember

VIEWER, EDITOR, APPROVER, OWNER = ROLES

READ = "read"
EDIT_PROJECT = "edit_project"
ASSIGN_WORKFLOW = "assign_workflow"
SAVE_WORKFLOW = "save_workflow"
RESTORE_WORKFLOW = "restore_workflow"
REQUEST_DEVIATION = "request_deviation"
DECIDE_DEVIATION = "decide_deviation"
WITHDRAW_DEVIATION = "withdraw_deviation"
MANAGE_MEMBERS = "manage_members"
CHANGE_POLICY = "change_policy"
COMPLETE_WORKFLOW = "complete_workflow"
ARCHIVE_WORKFLOW = "archive_workflow"
ARCHIVE_PROJECT = "archive_project"
DELETE_PROJECT = "delete_project"

DECIDERS = (APPROVER, OWNER)
# The contract's table (INTERFACE.md section 4), action by action, in the order of ROLES.
ALLOWED: dict[str, tuple[str, ...]] = {
    READ: ROLES,
    EDIT_PROJECT: (EDITOR, OWNER),
    ASSIGN_WORKFLOW: (EDITOR, OWNER),
    SAVE_WORKFLOW: (EDITOR, OWNER),
    RESTORE_WORKFLOW: (EDITOR, OWNER),
    REQUEST_DEVIATION: (EDITOR, APPROVER, OWNER),
    DECIDE_DEVIATION: DECIDERS,
    WITHDRAW_DEVIATION: DECIDERS,
    MANAGE_MEMBERS: (OWNER,),
    CHANGE_POLICY: (OWNER,),
    COMPLETE_WORKFLOW: (OWNER,),
    ARCHIVE_WORKFLOW: (OWNER,),
    ARCHIVE_PROJECT: (OWNER,),
    DELETE_PROJECT: (OWNER,),
}


def effective_role(member_role: str | None, is_admin: bool) -> str | None:
    """The role a caller acts with: their membership's, or owner for an administrator."""
    if member_role is not None:
        return member_role
    return OWNER if is_admin else None


def role_of(project: Project, user: User) -> str | None:
    """The caller's role in the project (None: not a member), read once per project object."""
    if project.your_role is None:
        member_role = db.session.scalar(
            select(ProjectMember.role).where(
                ProjectMember.project_id == project.id, ProjectMember.user_id == user.id
            )
        )
        project.your_role = effective_role(member_role, user.is_admin)
    return project.your_role


def allows(role: str | None, action: str) -> bool:
    """Whether ``role`` may do ``action``."""
    return role in ALLOWED[action]


def refusal(role: str | None, action: str) -> str | None:
    """Why ``role`` may not do ``action`` (naming the roles needed), or None when it may."""
    if allows(role, action):
        return None
    return f"This needs the role {' or '.join(ALLOWED[action])}."


def require(project: Project, user: User, action: str) -> str:
    """The caller's role when it allows ``action``; 403 naming the roles needed otherwise."""
    role = role_of(project, user)
    refused = refusal(role, action)
    if refused is not None:
        raise Forbidden(refused)
    return role


def policy_of(project: Project) -> Policy:
    """The project's policy (the defaults when it never set one)."""
    return project.policy


def policies_of(projects) -> dict:
    """The policy of each project, by id."""
    return {project.id: policy_of(project) for project in projects}


def decides_in(user: User):
    """A condition on Project: the projects in which ``user`` may decide requests."""
    if user.is_admin:
        return true()
    return Project.id.in_(
        select(ProjectMember.project_id).where(
            ProjectMember.user_id == user.id, ProjectMember.role.in_(DECIDERS)
        )
    )


def decides_alone(role: str, policy: Policy) -> bool:
    """Whether a request by ``role`` is accepted at once (no second person needed)."""
    return role in DECIDERS and not policy.four_eyes
