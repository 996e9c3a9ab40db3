"""Workflow instance routes of the JSON API (spec phase 4, with ETag and If-Match)."""

from __future__ import annotations

from flask import Response, g, stream_with_context

from combine_app.api import api, reads
from combine_app.api.declare import ETAG_HEADER
from combine_app.api.preconditions import changes_instance
from combine_app.api.reads import project_instance, reads_caller
from combine_app.catalog.app_loader import get_loader
from combine_app.database import unit_of_work
from combine_app.extensions import db
from combine_app.projects import roles
from combine_app.projects import service as projects
from combine_app.workflows import history_export
from combine_app.workflows.schemas import (
    CreateWorkflowInstanceSchema,
    DriftResponseSchema,
    HistoryArgs,
    HistoryExportArgs,
    HistoryPageSchema,
    ProblemsSchema,
    ReasonSchema,
    UpdateWorkflowInstanceSchema,
    WorkflowInstanceSchema,
)
from combine_app.workflows.service import WorkflowInstanceService, instance_etag

TAGS = ["workflow"]


def instance_answer(description: str):
    """The success response of a route that answers with the instance and its ETag."""
    return api.response(200, WorkflowInstanceSchema, description=description, headers=ETAG_HEADER)


def instance_service() -> WorkflowInstanceService:
    """The workflow instance service on the request's session and the config loader."""
    return WorkflowInstanceService(db.session, get_loader())


@api.post("/projects/<project_id>/workflow", tags=TAGS)
@unit_of_work
@api.arguments(CreateWorkflowInstanceSchema)
@api.response(201, WorkflowInstanceSchema, description="The new instance.", headers=ETAG_HEADER)
def create_workflow(data: dict, project_id: str):
    """Give the project its workflow instance, snapshotted from a reference or template POW.

    409 if it has one; 422 naming the field for an unknown workflow or version.
    """
    project = projects.get_project(g.user, project_id, roles.ASSIGN_WORKFLOW)
    instance = instance_service().create_instance(
        project, data["workflow_id"], data["version"], g.user.username
    )
    return instance, 201, {"ETag": instance_etag(instance)}


@api.get("/projects/<project_id>/workflow", tags=TAGS)
@reads_caller(project_instance)
@instance_answer("The workflow instance.")
def get_workflow(project_id: str):
    """The project's workflow instance; 404 if it has none."""
    row = g.read.row
    return row, 200, {"ETag": instance_etag(row)}


@api.put("/projects/<project_id>/workflow", tags=TAGS)
@reads_caller(reads.project)
@changes_instance(roles.SAVE_WORKFLOW)
@api.arguments(UpdateWorkflowInstanceSchema)
@instance_answer("The workflow instance.")
def put_workflow(data: dict, project_id: str):
    """Replace the effective workflow.

    If-Match is honoured when sent (412 when stale); 409 unless the instance is active; an
    identical body changes nothing.
    """
    return instance_service().update_instance(
        g.read, data["effective_workflow"], g.user.username, reason=data["reason"]
    )


@api.get("/projects/<project_id>/workflow/drift", tags=TAGS)
@reads_caller(reads.project_instance_drift)
@api.response(200, DriftResponseSchema, description="The drift, computed now.")
def get_drift(project_id: str):
    """How the instance has drifted from its source definition."""
    return instance_service().drift_of(g.read.instance(), g.read.kept_drift())


@api.get("/projects/<project_id>/workflow/problems", tags=TAGS)
@reads_caller(project_instance)
@api.response(200, ProblemsSchema, description="The problems, errors first.")
def get_problems(project_id: str):
    """Whether the workflow can run as it is: errors and warnings, each with its JSON pointer."""
    return instance_service().problems_of(g.read.instance())


@api.get("/projects/<project_id>/workflow/history", tags=TAGS)
@reads_caller(project_instance)
@api.arguments(HistoryArgs, location="query")
@api.response(200, HistoryPageSchema, description="One page of history entries.")
def get_history(args: dict, project_id: str):
    """The instance's history, newest first."""
    page = instance_service().history_of(g.read.instance(), args["limit"], args["offset"])
    return {
        "entries": page.entries,
        "total": page.total,
        "offset": args["offset"],
        "limit": args["limit"],
    }


@api.get("/projects/<project_id>/workflow/history/export", tags=TAGS)
@reads_caller(project_instance)
@api.arguments(HistoryExportArgs, location="query")
@api.doc(
    responses={
        "200": {
            "description": (
                "Every history entry, oldest first: CSV with the columns revision, changed_at, "
                "changed_by, change_type, reason, change_detail (compact JSON); with "
                "format=jsonl, JSON Lines, one entry per line."
            ),
            "content": {
                media.split(";")[0]: {"schema": {"type": "string"}}
                for media in history_export.MEDIA_TYPES.values()
            },
        }
    }
)
def export_history(args: dict, project_id: str):
    """The instance's whole history, oldest first, as CSV or JSON Lines (streamed)."""
    fmt = args["format"]
    chunks = history_export.export(db.session, g.read.row.id, fmt)
    name = f"{g.read.project_key}-history.{fmt}"
    return Response(
        stream_with_context(chunks),
        content_type=history_export.MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@api.post("/projects/<project_id>/workflow/complete", tags=TAGS)
@changes_instance(roles.COMPLETE_WORKFLOW)
@api.arguments(ReasonSchema, required=False)
@instance_answer("The workflow instance.")
def complete_workflow(data: dict, project_id: str):
    """Mark the active instance completed; 409 otherwise. The body ``{reason?}`` is optional."""
    project = projects.get_project(g.user, project_id, roles.COMPLETE_WORKFLOW)
    return instance_service().complete_instance(project, g.user.username, data["reason"])


@api.post("/projects/<project_id>/workflow/archive", tags=TAGS)
@changes_instance(roles.ARCHIVE_WORKFLOW)
@api.arguments(ReasonSchema, required=False)
@instance_answer("The workflow instance.")
def archive_workflow(data: dict, project_id: str):
    """Archive the instance; 409 if it already is. The body ``{reason?}`` is optional."""
    project = projects.get_project(g.user, project_id, roles.ARCHIVE_WORKFLOW)
    return instance_service().archive_instance(project, g.user.username, data["reason"])
