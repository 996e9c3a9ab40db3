"""Member routes of the JSON API: who belongs to a project and with which role."""

from __future__ import annotations

from flask import g

from combine_app.api import api
from combine_app.api.responses import no_content
from combine_app.database import unit_of_work
from combine_app.projects import members, roles
from combine_app.projects import service as projects
from combine_app.projects.schemas import MemberListSchema, MemberSchema, SetMemberSchema

TAGS = ["members"]
USERNAME_PARAMETER = {
    "name": "username",
    "in": "path",
    "required": True,
    "description": "The member's username.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 80},
}


@api.get("/projects/<project_id>/members", tags=TAGS)
@api.response(200, MemberListSchema, description="The members, owners first.")
def list_members(project_id: str):
    """The project's members and their roles; any member may read them."""
    found = members.members_of(projects.get_project(g.user, project_id))
    return {"members": found, "total": len(found)}


@api.put("/projects/<project_id>/members/<username>", tags=TAGS, parameters=[USERNAME_PARAMETER])
@unit_of_work
@api.arguments(SetMemberSchema)
@api.response(200, MemberSchema, description="The member's role changed.")
@api.alt_response(201, schema=MemberSchema, description="The user added.", success=True)
def put_member(data: dict, project_id: str, username: str):
    """Add a user with a role, or change a member's role; owner only.

    An unknown user is 422 naming ``username``; demoting the last owner is 409.
    """
    project = projects.get_project(g.user, project_id, roles.MANAGE_MEMBERS, for_update=True)
    member, added = members.set_member(project, g.user, username, data["role"])
    return member, 201 if added else 200


@api.delete("/projects/<project_id>/members/<username>", tags=TAGS, parameters=[USERNAME_PARAMETER])
@unit_of_work
@api.response(204, description="Removed.")
def delete_member(project_id: str, username: str):
    """Remove a member (an owner), or leave (the member themself); the last owner is 409."""
    project = projects.get_project(g.user, project_id, for_update=True)
    members.remove_member(project, g.user, username)
    return no_content()
