"""Project routes of the JSON API."""

from __future__ import annotations

from flask import g, request

from combine_app.api import api, json_body
from combine_app.catalog.commands import get_loader
from combine_app.database import unit_of_work
from combine_app.errors import NotFound
from combine_app.projects import intake, overview, service
from combine_app.projects.intake import IntakeRequestSchema
from combine_app.projects.schemas import (
    ProjectCreateSchema,
    ProjectListArgs,
    ProjectPatchSchema,
    ProjectSchema,
)
from combine_app.workflows.schemas import WorkflowInstanceSchema

project_schema = ProjectSchema()
instance_schema = WorkflowInstanceSchema()


@api.get("/projects")
def list_projects():
    """Projects the caller may see, filtered and paginated, each with its workflow status."""
    args = ProjectListArgs().load(request.args)
    query = service.search_filter(
        service.visible_projects(g.user), args["search"], args["include_archived"]
    )
    rows, total = overview.page(query, args["offset"], args["limit"])
    return {
        "projects": [_with_workflow_status(row) for row in rows],
        "total": total,
        "offset": args["offset"],
        "limit": args["limit"],
    }


def _with_workflow_status(row: overview.ProjectRow) -> dict:
    return {
        **project_schema.dump(row.project),
        "has_workflow": row.has_workflow,
        "workflow_status": row.workflow_status,
    }


@api.post("/projects/from-intake")
@unit_of_work
def create_project_from_intake():
    """Create a project from an intake document, with its workflow when one is named."""
    data = IntakeRequestSchema().load(json_body())
    result = intake.create_from_intake(g.user, data, get_loader())
    body = project_schema.dump(result.project)
    body["workflow"] = instance_schema.dump(result.workflow) if result.workflow else None
    return body, 201 if result.created else 200


@api.get("/projects/<project_id>/tree")
def project_tree(project_id: str):
    """A project with its workflow state, read in one query."""
    row = overview.one(service.project_query(g.user, project_id))
    if row is None:
        raise NotFound(f"No project {project_id!r}.")
    workflow = None
    if row.has_workflow:
        workflow = {
            "workflow_id": row.workflow_ref.get("workflow_id"),
            "version": row.workflow_ref.get("version"),
            "pow_class": row.workflow_ref.get("pow_class"),
            "status": row.workflow_status,
            "revision": row.workflow_revision,
        }
    return {
        "project": project_schema.dump(row.project),
        "has_workflow": row.has_workflow,
        "workflow_status": row.workflow_status,
        "workflow": workflow,
    }


@api.post("/projects")
@unit_of_work
def create_project():
    """Create a project owned by the caller."""
    data = ProjectCreateSchema().load(json_body())
    project = service.create_project(g.user, data["name"], data["description"])
    return project_schema.dump(project), 201


@api.get("/projects/<project_id>")
def get_project(project_id: str):
    """One project by UUID or key."""
    return project_schema.dump(service.get_project(g.user, project_id))


@api.patch("/projects/<project_id>")
@unit_of_work
def patch_project(project_id: str):
    """Rename or re-describe a project."""
    data = ProjectPatchSchema().load(json_body())
    project = service.get_project(g.user, project_id, for_update=True)
    return project_schema.dump(service.update_project(project, g.user, data))


@api.delete("/projects/<project_id>")
@unit_of_work
def delete_project(project_id: str):
    """Delete a project with its workflow instance and history."""
    service.delete_project(service.get_project(g.user, project_id, for_update=True), g.user)
    return "", 204


@api.post("/projects/<project_id>/archive")
@unit_of_work
def archive_project(project_id: str):
    """Archive a project (409 if it already is)."""
    project = service.get_project(g.user, project_id, for_update=True)
    return project_schema.dump(service.archive_project(project, g.user))


@api.post("/projects/<project_id>/unarchive")
@unit_of_work
def unarchive_project(project_id: str):
    """Unarchive a project (409 if it is not archived)."""
    project = service.get_project(g.user, project_id, for_update=True)
    return project_schema.dump(service.unarchive_project(project, g.user))
