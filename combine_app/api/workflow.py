"""Workflow instance routes of the JSON API (spec phase 4, with ETag and If-Match)."""

from __future__ import annotations

import re

from flask import g, request

from combine_app.api import api, json_body
from combine_app.catalog.commands import get_loader
from combine_app.database import unit_of_work
from combine_app.errors import PreconditionFailed
from combine_app.extensions import db
from combine_app.projects import service as projects
from combine_app.workflows.models import WorkflowInstance
from combine_app.workflows.schemas import (
    CreateWorkflowInstanceSchema,
    HistoryArgs,
    HistoryEntrySchema,
    ReasonSchema,
    UpdateWorkflowInstanceSchema,
    WorkflowInstanceSchema,
)
from combine_app.workflows.service import WorkflowInstanceService

instance_schema = WorkflowInstanceSchema()
entry_schema = HistoryEntrySchema()
_ETAG = re.compile(r'^"(?P<instance>[0-9a-f-]{36}):(?P<revision>\d{1,9})"$')


def _service() -> WorkflowInstanceService:
    return WorkflowInstanceService(db.session, get_loader())


def etag(instance: WorkflowInstance) -> str:
    """A strong ETag naming the instance and its revision."""
    return f'"{instance.id}:{instance.revision}"'


def _instance_response(instance: WorkflowInstance, status: int = 200):
    return instance_schema.dump(instance), status, {"ETag": etag(instance)}


def _expected_revision(project) -> int | None:
    """The revision an ``If-Match`` header insists on, or None when none was sent.

    ``*`` only asks that the instance exist. A tag for another instance, or a weak or malformed
    tag, can never match: 412.
    """
    header = request.headers.get("If-Match")
    if header is None or header.strip() == "*":
        return None
    instance = _service().get_instance(project)
    for tag in (part.strip() for part in header.split(",")):
        match = _ETAG.match(tag)
        if match and match["instance"] == str(instance.id):
            return int(match["revision"])
    raise PreconditionFailed(
        f"If-Match {header!r} does not name the current workflow ({etag(instance)})."
    )


@api.post("/projects/<project_id>/workflow")
@unit_of_work
def create_workflow(project_id: str):
    """Assign a reference or template POW to the project."""
    data = CreateWorkflowInstanceSchema().load(json_body())
    project = projects.get_project(g.user, project_id)
    instance = _service().create_instance(
        project, data["workflow_id"], data["version"], g.user.username
    )
    return _instance_response(instance, 201)


@api.get("/projects/<project_id>/workflow")
def get_workflow(project_id: str):
    """The project's current effective workflow: project and instance read in one query."""
    row = db.session.execute(
        projects.project_query(g.user, project_id)
        .join(WorkflowInstance, WorkflowInstance.project_id == projects.Project.id)
        .add_columns(WorkflowInstance)
    ).first()
    if row is None:  # tell "no such project" from "no workflow yet", as the other routes do
        project = projects.get_project(g.user, project_id)
        return _instance_response(_service().get_instance(project))
    return _instance_response(row[1])


@api.put("/projects/<project_id>/workflow")
@unit_of_work
def put_workflow(project_id: str):
    """Replace the effective workflow (full replacement), honouring If-Match."""
    data = UpdateWorkflowInstanceSchema().load(json_body())
    project = projects.get_project(g.user, project_id)
    expected = _expected_revision(project)
    instance = _service().update_instance(
        project,
        data["effective_workflow"],
        g.user.username,
        expected_revision=expected,
        reason=data["reason"],
    )
    return _instance_response(instance)


@api.get("/projects/<project_id>/workflow/drift")
def get_drift(project_id: str):
    """How the instance has drifted from its source."""
    return _service().compute_drift(projects.get_project(g.user, project_id))


@api.get("/projects/<project_id>/workflow/history")
def get_history(project_id: str):
    """The instance's history, newest first, paginated."""
    args = HistoryArgs().load(request.args)
    page = _service().get_history(
        projects.get_project(g.user, project_id), args["limit"], args["offset"]
    )
    return {
        "entries": entry_schema.dump(page.entries, many=True),
        "total": page.total,
        "offset": args["offset"],
        "limit": args["limit"],
    }


@api.post("/projects/<project_id>/workflow/complete")
@unit_of_work
def complete_workflow(project_id: str):
    """Mark the active instance completed; the body ``{reason?}`` may be left out."""
    data = ReasonSchema().load(optional_json_body())
    project = projects.get_project(g.user, project_id)
    return _instance_response(
        _service().complete_instance(project, g.user.username, data["reason"])
    )


@api.post("/projects/<project_id>/workflow/archive")
@unit_of_work
def archive_workflow(project_id: str):
    """Archive the instance; the body ``{reason?}`` may be left out."""
    data = ReasonSchema().load(optional_json_body())
    project = projects.get_project(g.user, project_id)
    return _instance_response(_service().archive_instance(project, g.user.username, data["reason"]))


def optional_json_body() -> dict:
    """The body read as ``json_body`` reads it, or ``{}`` when none was sent."""
    if not request.get_data(cache=True):
        return {}
    return json_body()
