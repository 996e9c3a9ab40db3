"""Revision routes of the JSON API: read any revision, compare two sides, restore one."""

from __future__ import annotations

from flask import g

from combine_app.api import api
from combine_app.api.preconditions import changes_instance
from combine_app.api.workflow import TAGS, instance_answer, instance_service
from combine_app.projects import roles
from combine_app.projects import service as projects
from combine_app.workflows.schemas import (
    CompareArgs,
    CompareResponseSchema,
    RestoreSchema,
    RevisionSchema,
)

NUMBER_PARAMETER = {
    "in": "path",
    "name": "number",
    "description": "A revision of the instance, from 1 to its current revision.",
    "schema": {"type": "integer", "minimum": 1},
}


@api.get("/projects/<project_id>/workflow/revisions/<int:number>", tags=TAGS)
@api.response(200, RevisionSchema, description="The workflow as it stood after that revision.")
@api.problems(409)
@api.doc(parameters=[NUMBER_PARAMETER])
def get_revision(project_id: str, number: int):
    """The effective workflow exactly as it stood after revision ``number``.

    404 outside 1 … the current revision; 409 when that revision cannot be known (an instance
    made before base snapshots were kept, whose base the migration could not rebuild).
    """
    service = instance_service()
    instance = service.get_instance(projects.get_project(g.user, project_id))
    return service.read_revision(instance, number)


@api.get("/projects/<project_id>/workflow/compare", tags=TAGS)
@api.arguments(CompareArgs, location="query")
@api.response(200, CompareResponseSchema, description="What differs from `from` to `to`.")
@api.problems(409)
def compare_workflow(args: dict, project_id: str):
    """What differs between two sides, each a revision number, ``current`` or ``source``.

    422 naming ``from`` or ``to`` for a side that is not a revision of this instance; 409 when
    the source cannot be loaded now or a revision cannot be known.
    """
    service = instance_service()
    instance = service.get_instance(projects.get_project(g.user, project_id))
    return service.compare(instance, args["from_"], args["to"])


@api.post("/projects/<project_id>/workflow/restore", tags=TAGS)
@changes_instance(roles.RESTORE_WORKFLOW)
@api.arguments(RestoreSchema)
@instance_answer("The workflow instance, its definition equal to that revision again.")
def restore_workflow(data: dict, project_id: str):
    """Make the definition equal an earlier revision again, as one new change.

    Each history entry of the change also names ``restored_from``; restoring what the workflow
    holds writes nothing. If-Match is honoured (412); refused as PUT is (409).
    """
    project = projects.get_project(g.user, project_id, roles.RESTORE_WORKFLOW)
    return instance_service().restore_instance(
        project, data["revision"], g.user.username, reason=data["reason"]
    )
