"""Imports every model so the mappers and the migration metadata see all tables."""

from combine_app.auth.models import ApiToken, SignInFailure, User, UserSession
from combine_app.projects.models import (
    Project,
    ProjectAudit,
    ProjectCount,
    ProjectMember,
    ProjectPolicy,
    ProjectTotal,
)
from combine_app.workflows.models import WorkflowInstance, WorkflowInstanceHistory

__all__ = [
    "ApiToken",
    "Project",
    "ProjectAudit",
    "ProjectCount",
    "ProjectMember",
    "ProjectPolicy",
    "ProjectTotal",
    "SignInFailure",
    "User",
    "UserSession",
    "WorkflowInstance",
    "WorkflowInstanceHistory",
]
