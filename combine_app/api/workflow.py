"""Workflow instance routes of the JSON API (spec phase 4, with ETag and If-Match)."""

from __future__ import annotations

import re

from flask import g, request

from combine_app.api import api, reads
from combine_app.api.reads import project_instance, reads_caller
from combine_app.catalog.app_loader import get_loader
from combine_app.database import unit_of_work
from combine_app.errors import PreconditionFailed
from combine_app.extensions import db
from combine_app.projects import roles
from combine_app.projects import service as projects
from combine_app.workflows.models import WorkflowInstance
from combine_app.workflows.schemas import (
    CreateWorkflowInstanceSchema,
    DriftResponseSchema,
    HistoryArgs,
    HistoryPageSchema,
    ReasonSchema,
    UpdateWorkflowInstanceSchema,
    WorkflowInstanceSchema,
)
from combine_app.workflows.service import WorkflowInstanceService

TAGS = ["workflow"]
_ETAG = re.compile(r"^(?P<instance>[0-9a-f-]{36}):(?P<revision>\d{1,9})$")
ETAG_HEADER = {
    "ETag": {
        "description": "Names the instance and its revision; send it back in If-Match.",
        "required": True,
        "schema": {"type": "string", "pattern": r'^"[0-9a-f-]{36}:\d+"$'},
    }
}
IF_MATCH_PARAMETER = {
    "name": "If-Match",
    "in": "header",
    "required": False,
    "description": "The ETag last read; 412 when the instance has changed since. `*` only "
    "asks that the instance exist.",
    "schema": {"type": "string"},
}


def _instance_answer(description: str):
    """The success response of a route that answers with the instance and its ETag."""
    return api.response(200, WorkflowInstanceSchema, description=description, headers=ETAG_HEADER)


def _service() -> WorkflowInstanceService:
    return WorkflowInstanceService(db.session, get_loader())


def etag(instance) -> str:
    """A strong ETag naming the instance (an object or a row) and its revision."""
    return f'"{instance.id}:{instance.revision}"'


def _with_etag(instance: WorkflowInstance, status: int = 200):
    return instance, status, {"ETag": etag(instance)}


def _expected_revision(project) -> int | None:
    """The revision an ``If-Match`` header insists on, or None when none was sent.

    Read with Werkzeug's parser. ``*`` only asks that the instance exist. A weak tag, a tag
    for another instance or a malformed one can never match: 412. Of several strong tags naming
    this instance, the newest revision is the one insisted on.
    """
    if "If-Match" not in request.headers:
        return None
    tags = request.if_match
    if tags.star_tag:
        return None
    instance = _service().get_instance(project)
    revisions = [
        int(match["revision"])
        # An empty quoted tag ("") is parsed as None: it names nothing, so it cannot match.
        for match in map(_ETAG.match, filter(None, tags.as_set()))
        if match and match["instance"] == str(instance.id)
    ]
    if revisions:
        return max(revisions)
    raise PreconditionFailed(
        f"If-Match {request.headers['If-Match']!r} does not name the current workflow "
        f"({etag(instance)})."
    )


@api.post("/projects/<project_id>/workflow", tags=TAGS)
@unit_of_work
@api.arguments(CreateWorkflowInstanceSchema)
@api.response(201, WorkflowInstanceSchema, description="The new instance.", headers=ETAG_HEADER)
def create_workflow(data: dict, project_id: str):
    """Give the project its workflow instance, snapshotted from a reference or template POW.

    409 if it has one; 422 naming the field for an unknown workflow or version.
    """
    project = projects.get_project(g.user, project_id, roles.ASSIGN_WORKFLOW)
    instance = _service().create_instance(
        project, data["workflow_id"], data["version"], g.user.username
    )
    return _with_etag(instance, 201)


@api.get("/projects/<project_id>/workflow", tags=TAGS)
@reads_caller(project_instance)
@_instance_answer("The workflow instance.")
def get_workflow(project_id: str):
    """The project's workflow instance; 404 if it has none."""
    row = g.read.row
    return row, 200, {"ETag": etag(row)}


@api.put("/projects/<project_id>/workflow", tags=TAGS)
@reads_caller(reads.project)
@unit_of_work
@api.arguments(UpdateWorkflowInstanceSchema)
@_instance_answer("The workflow instance.")
@api.problems(412)
@api.doc(parameters=[IF_MATCH_PARAMETER])
def put_workflow(data: dict, project_id: str):
    """Replace the effective workflow.

    If-Match is honoured when sent (412 when stale); 409 unless the instance is active; an
    identical body changes nothing.
    """
    project = g.read
    roles.require(project, g.user, roles.SAVE_WORKFLOW)
    expected = _expected_revision(project)
    instance = _service().update_instance(
        project,
        data["effective_workflow"],
        g.user.username,
        expected_revision=expected,
        reason=data["reason"],
    )
    return _with_etag(instance)


@api.get("/projects/<project_id>/workflow/drift", tags=TAGS)
@reads_caller(project_instance)
@api.response(200, DriftResponseSchema, description="The drift, computed now.")
def get_drift(project_id: str):
    """How the instance has drifted from its source definition."""
    return _service().drift_of(g.read.instance())


@api.get("/projects/<project_id>/workflow/history", tags=TAGS)
@reads_caller(project_instance)
@api.arguments(HistoryArgs, location="query")
@api.response(200, HistoryPageSchema, description="One page of history entries.")
def get_history(args: dict, project_id: str):
    """The instance's history, newest first."""
    page = _service().history_of(g.read.instance(), args["limit"], args["offset"])
    return {
        "entries": page.entries,
        "total": page.total,
        "offset": args["offset"],
        "limit": args["limit"],
    }


@api.post("/projects/<project_id>/workflow/complete", tags=TAGS)
@unit_of_work
@api.arguments(ReasonSchema, required=False)
@_instance_answer("The workflow instance.")
def complete_workflow(data: dict, project_id: str):
    """Mark the active instance completed; 409 otherwise. The body ``{reason?}`` is optional."""
    project = projects.get_project(g.user, project_id, roles.COMPLETE_WORKFLOW)
    return _with_etag(_service().complete_instance(project, g.user.username, data["reason"]))


@api.post("/projects/<project_id>/workflow/archive", tags=TAGS)
@unit_of_work
@api.arguments(ReasonSchema, required=False)
@_instance_answer("The workflow instance.")
def archive_workflow(data: dict, project_id: str):
    """Archive the instance; 409 if it already is. The body ``{reason?}`` is optional."""
    project = projects.get_project(g.user, project_id, roles.ARCHIVE_WORKFLOW)
    return _with_etag(_service().archive_instance(project, g.user.username, data["reason"]))
