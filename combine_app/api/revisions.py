"""Revision routes of the JSON API: read any revision, compare two sides, restore one."""

from __future__ import annotations

from flask import g, request

from combine_app.api import api, json_body
from combine_app.api.workflow import _expected_revision, _instance_response, _service
from combine_app.database import unit_of_work
from combine_app.projects import service as projects
from combine_app.workflows.schemas import CompareArgs, RestoreSchema, RevisionSchema

revision_schema = RevisionSchema()


@api.get("/projects/<project_id>/workflow/revisions/<int:number>")
def get_revision(project_id: str, number: int):
    """The effective workflow as it stood after revision ``number``."""
    service = _service()
    instance = service.get_instance(projects.get_project(g.user, project_id))
    return revision_schema.dump(service.read_revision(instance, number))


@api.get("/projects/<project_id>/workflow/compare")
def compare_workflow(project_id: str):
    """What differs between two sides: revision numbers, ``current`` or ``source``."""
    args = CompareArgs().load(request.args)
    service = _service()
    instance = service.get_instance(projects.get_project(g.user, project_id))
    return service.compare(instance, args["from_"], args["to"])


@api.post("/projects/<project_id>/workflow/restore")
@unit_of_work
def restore_workflow(project_id: str):
    """Make the definition equal an earlier revision again, as one new change."""
    data = RestoreSchema().load(json_body())
    project = projects.get_project(g.user, project_id)
    expected = _expected_revision(project)
    instance = _service().restore_instance(
        project,
        data["revision"],
        g.user.username,
        expected_revision=expected,
        reason=data["reason"],
    )
    return _instance_response(instance)
