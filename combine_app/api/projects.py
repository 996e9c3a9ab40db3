"""Project routes of the JSON API."""

from __future__ import annotations

from flask import g, request

from combine_app.api import api, json_body
from combine_app.database import unit_of_work
from combine_app.projects import service
from combine_app.projects.schemas import (
    ProjectCreateSchema,
    ProjectListArgs,
    ProjectPatchSchema,
    ProjectSchema,
)

project_schema = ProjectSchema()


@api.get("/projects")
def list_projects():
    """Projects the caller may see, filtered and paginated."""
    args = ProjectListArgs().load(request.args)
    query = service.search_filter(
        service.visible_projects(g.user), args["search"], args["include_archived"]
    )
    total = service.count(query)
    rows = service.db.session.scalars(
        query.order_by(service.Project.created_at.desc(), service.Project.project_id.desc())
        .offset(args["offset"])
        .limit(args["limit"])
    ).all()
    return {
        "projects": project_schema.dump(rows, many=True),
        "total": total,
        "offset": args["offset"],
        "limit": args["limit"],
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
