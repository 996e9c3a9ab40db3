"""Imports every model so the mappers and the migration metadata see all tables."""

from combine_app.auth.models import ApiToken, SignInFailure, User, UserSession
from combine_app.projects.models import Project, ProjectAudit, ProjectMember, ProjectPolicy
from combine_app.workflows.models import WorkflowInstance, WorkflowInstanceHistory

__all__ = [
    "ApiToken",
    "Project",
    "ProjectAudit",
    "ProjectMember",
    "ProjectPolicy",
    "SignInFailure",
    "User",
    "UserSession",
    "WorkflowInstance",
    "WorkflowInstanceHistory",
]
