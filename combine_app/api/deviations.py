"""Deviation requests and acceptances of a project's workflow.

``POST …/workflow/deviations {key, reason, review_by?}`` asks that one current drift item be
accepted (accepted at once when the caller may decide alone), ``…/{key}/approve {note?}`` and
``…/{key}/reject {reason}`` decide a request, ``DELETE …/workflow/deviations/{key}`` withdraws a
request or an acceptance, ``GET`` lists them. Every change honours ``If-Match`` (412 when stale)
and answers the instance's new ``ETag``.
"""

from __future__ import annotations

from flask import g

from combine_app.api import api
from combine_app.api.preconditions import changes_instance
from combine_app.api.responses import no_content
from combine_app.catalog.app_loader import get_loader
from combine_app.extensions import db
from combine_app.projects import roles
from combine_app.projects import service as projects
from combine_app.workflows.deviation_service import DeviationService
from combine_app.workflows.models import MAX_DEVIATION_KEY_LENGTH
from combine_app.workflows.schemas import (
    AcceptDeviationSchema,
    AcceptedDeviationListSchema,
    AcceptedDeviationSchema,
    ApproveDeviationSchema,
    RejectDeviationSchema,
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
@changes_instance(roles.REQUEST_DEVIATION)
@api.arguments(AcceptDeviationSchema)
@api.response(201, AcceptedDeviationSchema, description="The request or acceptance.")
def request_deviation(data: dict, project_id: str):
    """Ask that one current drift item be accepted, with why (editor, approver or owner).

    Its status is ``accepted`` when the caller may decide alone (approver or owner, four-eyes
    off), otherwise ``requested``. 422 naming key when it is not a current difference, naming
    review_by when the date breaks the policy; 409 unless the project and instance may change.
    """
    project = projects.get_project(g.user, project_id)
    service = _service()
    answer = service.request(
        project,
        g.user,
        data["key"],
        data["reason"],
        data["review_by"],
    )
    return answer, 201


@api.get("/projects/<project_id>/workflow/deviations", tags=TAGS)
@api.response(200, AcceptedDeviationListSchema, description="The rows, oldest request first.")
def list_deviations(project_id: str):
    """The deviation requests and acceptances, each with its status against the drift now."""
    accepted = _service().list(projects.get_project(g.user, project_id))
    return {"deviations": accepted, "total": len(accepted)}


# A key may hold '/' (a field name can): the converter takes the rest of the path, so the
# decisions are told apart by their last segment.
@api.post(
    "/projects/<project_id>/workflow/deviations/<path:key>/approve",
    tags=TAGS,
    parameters=[KEY_PARAMETER],
)
@changes_instance(roles.DECIDE_DEVIATION)
@api.arguments(ApproveDeviationSchema, required=False)
@api.response(200, AcceptedDeviationSchema, description="The acceptance.")
def approve_deviation(data: dict, project_id: str, key: str):
    """Accept a request (approver or owner); the body ``{note?}`` is optional.

    With four-eyes on, 403 (saying why) when the caller requested it or made that difference.
    404 without a request; 409 when it is accepted already or its difference changed since.
    """
    project = projects.get_project(g.user, project_id)
    service = _service()
    return service.approve(project, g.user, key, data["note"])


@api.post(
    "/projects/<project_id>/workflow/deviations/<path:key>/reject",
    tags=TAGS,
    parameters=[KEY_PARAMETER],
)
@changes_instance(roles.DECIDE_DEVIATION)
@api.arguments(RejectDeviationSchema)
@api.response(200, AcceptedDeviationSchema, description="The request, rejected.")
def reject_deviation(data: dict, project_id: str, key: str):
    """Refuse a request with a reason (approver or owner other than its requester).

    The request is gone afterwards (its history entry stays); it is answered with status
    ``rejected`` and the rejection's reason as ``note``.
    """
    project = projects.get_project(g.user, project_id)
    service = _service()
    return service.reject(project, g.user, key, data["reason"])


@api.delete(
    "/projects/<project_id>/workflow/deviations/<path:key>",
    tags=TAGS,
    parameters=[KEY_PARAMETER],
)
@changes_instance(roles.READ)
@api.response(204, description="Withdrawn.")
def withdraw_deviation(project_id: str, key: str):
    """Withdraw a request (its requester, an approver or owner) or an acceptance (approver or
    owner): the item is unexplained again; 404 when the key has neither."""
    project = projects.get_project(g.user, project_id)
    service = _service()
    service.withdraw(project, g.user, key)
    return no_content()
