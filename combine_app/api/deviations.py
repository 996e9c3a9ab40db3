"""Accepted deviations of a project's workflow.

``POST …/workflow/deviations {key, reason}`` accepts one current drift item, ``GET`` lists the
acceptances, ``DELETE …/workflow/deviations/{key}`` withdraws one.
"""

from __future__ import annotations

from flask import g

from combine_app.api import api
from combine_app.api.preconditions import changes_instance
from combine_app.api.responses import no_content
from combine_app.catalog.commands import get_loader
from combine_app.extensions import db
from combine_app.projects import service as projects
from combine_app.workflows.deviation_service import DeviationService
from combine_app.workflows.models import MAX_DEVIATION_KEY_LENGTH
from combine_app.workflows.schemas import (
    AcceptDeviationSchema,
    AcceptedDeviationListSchema,
    AcceptedDeviationSchema,
)

TAGS = ["workflow"]
KEY_PARAMETER = {
    "in": "path",
    "name": "key",
    "description": "A drift item's key, e.g. step_modified:design:task_prompt.",
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_DEVIATION_KEY_LENGTH},
}


def _service() -> DeviationService:
    return DeviationService(db.session, get_loader())


@api.post("/projects/<project_id>/workflow/deviations", tags=TAGS)
@changes_instance
@api.arguments(AcceptDeviationSchema)
@api.response(201, AcceptedDeviationSchema, description="The acceptance.")
def accept_deviation(data: dict, project_id: str):
    """Accept one current drift item with the reason it is intended.

    422 naming key when it is not a current difference; 409 unless the project and instance may
    be changed.
    """
    project = projects.get_project(g.user, project_id)
    return _service().accept(project, data["key"], data["reason"], g.user.username)


@api.get("/projects/<project_id>/workflow/deviations", tags=TAGS)
@api.response(200, AcceptedDeviationListSchema, description="The acceptances, oldest first.")
def list_deviations(project_id: str):
    """The accepted deviations, each with its status against the drift now."""
    accepted = _service().list(projects.get_project(g.user, project_id))
    return {"deviations": accepted, "total": len(accepted)}


# A key may hold '/' (a field name can): the converter takes the rest of the path.
@api.delete(
    "/projects/<project_id>/workflow/deviations/<path:key>",
    tags=TAGS,
    parameters=[KEY_PARAMETER],
)
@changes_instance
@api.response(204, description="Withdrawn.")
def withdraw_deviation(project_id: str, key: str):
    """Withdraw an acceptance: the item is unexplained again; 404 when the key has none."""
    _service().withdraw(projects.get_project(g.user, project_id), key, g.user.username)
    return no_content()
