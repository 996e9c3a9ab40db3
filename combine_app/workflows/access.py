"""STAND-IN until teams' roles and policy land: who may do what to a project's deviations."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import true

from combine_app.auth.models import User
from combine_app.errors import Forbidden
from combine_app.projects.models import Project

READ = "read"
REQUEST_DEVIATION = "request_deviation"
DECIDE_DEVIATION = "decide_deviation"
WITHDRAW_DEVIATION = "withdraw_deviation"
DECIDERS = ("approver", "owner")
ALLOWED = {
    READ: ("viewer", "editor", "approver", "owner"),
    REQUEST_DEVIATION: ("editor", "approver", "owner"),
    DECIDE_DEVIATION: DECIDERS,
    WITHDRAW_DEVIATION: DECIDERS,
}


@dataclass(frozen=True)
class Policy:
    """A project's governance policy."""

    four_eyes: bool = False
    review_days: int | None = None


def role_of(project: Project, user: User) -> str | None:
    """The caller's role in the project."""
    return "owner" if user.is_admin or project.owner_id == user.id else None


def allows(role: str | None, action: str) -> bool:
    """Whether ``role`` may do ``action``."""
    return role in ALLOWED[action]


def refusal(role: str | None, action: str) -> str | None:
    """Why ``role`` may not do ``action`` (naming the roles needed), or None."""
    return None if allows(role, action) else f"This needs the role {' or '.join(ALLOWED[action])}."


def require(project: Project, user: User, action: str) -> str:
    """The caller's role when it allows ``action``; 403 naming the roles needed otherwise."""
    role = role_of(project, user)
    refused = refusal(role, action)
    if refused is not None:
        raise Forbidden(refused)
    return role


def policy_of(project: Project) -> Policy:
    """The project's policy."""
    return Policy()


def decides_in(user: User):
    """A condition on Project: the projects in which ``user`` may decide requests."""
    return true() if user.is_admin else Project.owner_id == user.id


def policies_of(projects) -> dict:
    """The policy of each project, by id."""
    return {project.id: Policy() for project in projects}


def decides_alone(role: str, policy: Policy) -> bool:
    """Whether a request by ``role`` is accepted at once."""
    return role in DECIDERS and not policy.four_eyes
