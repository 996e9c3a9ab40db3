"""Project routes of the JSON API."""

from __future__ import annotations

from flask import g

from combine_app.api import api
from combine_app.api.responses import no_content
from combine_app.catalog.app_loader import get_loader
from combine_app.database import unit_of_work
from combine_app.errors import NotFound
from combine_app.projects import intake, overview, roles, service
from combine_app.projects.intake import IntakeRequestSchema
from combine_app.projects.schemas import (
    ProjectCreateSchema,
    ProjectFromIntakeSchema,
    ProjectListArgs,
    ProjectListSchema,
    ProjectPatchSchema,
    ProjectSchema,
    ProjectTreeSchema,
)

TAGS = ["projects"]


@api.get("/projects", tags=TAGS)
@api.arguments(ProjectListArgs, location="query")
@api.response(200, ProjectListSchema, description="One page of projects.")
def list_projects(args: dict):
    """Projects the caller may see, newest first, with their workflow status."""

    rows, total = overview.list_rows(
        g.user, args["search"], args["include_archived"], args["offset"], args["limit"]
    )
    return {"projects": rows, "total": total, "offset": args["offset"], "limit": args["limit"]}


@api.post("/projects/from-intake", tags=TAGS)
@unit_of_work
@api.arguments(IntakeRequestSchema)
@api.response(201, ProjectFromIntakeSchema, description="The new project with its workflow.")
@api.alt_response(
    200,
    schema=ProjectFromIntakeSchema,
    description="The project this execution_id made.",
    success=True,
)
def create_project_from_intake(data: dict):
    """Create a project (and its workflow when one is named) from an intake document.

    A repeated execution_id answers 200 with the project it made.
    """
    result = intake.create_from_intake(g.user, data, get_loader())
    return result, 201 if result.created else 200


@api.get("/projects/<project_id>/tree", tags=TAGS)
@api.response(200, ProjectTreeSchema, description="The project and its workflow state.")
def project_tree(project_id: str):
    """A project with its workflow state, read in one query."""
    row = overview.one(service.project_query(g.user, project_id), g.user)
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
        "project": row.project,
        "has_workflow": row.has_workflow,
        "workflow_status": row.workflow_status,
        "workflow": workflow,
    }


@api.post("/projects", tags=TAGS)
@unit_of_work
@api.arguments(ProjectCreateSchema)
@api.response(201, ProjectSchema, description="The new project.")
def create_project(data: dict):
    """Create a project owned by the caller."""
    return service.create_project(g.user, data["name"], data["description"])


@api.get("/projects/<project_id>", tags=TAGS)
@api.response(200, ProjectSchema, description="The project.")
def get_project(project_id: str):
    """One project by UUID or key."""
    return service.get_project(g.user, project_id)


@api.patch("/projects/<project_id>", tags=TAGS)
@unit_of_work
@api.arguments(ProjectPatchSchema)
@api.response(200, ProjectSchema, description="The project.")
def patch_project(data: dict, project_id: str):
    """Rename or re-describe a project (editor or owner), or change its policy (owner).

    Policy keys sent change, the others stay.
    """
    project = service.get_project(g.user, project_id, for_update=True)
    return service.update_project(project, g.user, data)


@api.delete("/projects/<project_id>", tags=TAGS)
@unit_of_work
@api.response(204, description="Deleted.")
def delete_project(project_id: str):
    """Delete a project with its workflow instance and history."""
    project = service.get_project(g.user, project_id, roles.DELETE_PROJECT, for_update=True)
    service.delete_project(project, g.user)
    return no_content()


@api.post("/projects/<project_id>/archive", tags=TAGS)
@unit_of_work
@api.response(200, ProjectSchema, description="The project.")
def archive_project(project_id: str):
    """Archive a project; 409 if it already is."""
    project = service.get_project(g.user, project_id, roles.ARCHIVE_PROJECT, for_update=True)
    return service.archive_project(project, g.user)


@api.post("/projects/<project_id>/unarchive", tags=TAGS)
@unit_of_work
@api.response(200, ProjectSchema, description="The project.")
def unarchive_project(project_id: str):
    """Unarchive a project; 409 if it is not archived."""
    project = service.get_project(g.user, project_id, roles.ARCHIVE_PROJECT, for_update=True)
    return service.unarchive_project(project, g.user)
