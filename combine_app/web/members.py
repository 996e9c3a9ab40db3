"""The project page's Members and Policy sections: the same services and rules as the API.

Each form posts to its own route; a refusal or a bad value shows the project page again with
the API's words next to the field (422, or the status the API would answer), nothing written.
"""

from __future__ import annotations

import re

from flask import request, url_for
from flask_login import current_user, login_required

from combine_app.errors import AppError
from combine_app.projects import members, roles
from combine_app.projects import service as projects
from combine_app.projects.models import Project
from combine_app.projects.schemas import PolicyPatchSchema, SetMemberSchema
from combine_app.web import web
from combine_app.web.unit import back_to, page_change
from combine_app.web.workflow import render_project


def _members_url(project: Project, anchor: str = "members") -> str:
    return url_for("web.project", project_id=project.project_id, _anchor=anchor)


def _change(project_id: str, action: str, change, errors_as, done):
    """Run ``change(project)`` on the project locked, as the pages' one unit of work, then
    ``done(project, result)``; on a refusal (409, 422) the project page again with the message
    where ``errors_as`` puts it, nothing written. Not a member: 404, as everywhere; a role that
    may not: 403, the error page naming the role (the form was not offered to them)."""

    def run():
        project = projects.get_project(current_user, project_id, action, for_update=True)
        return project, change(project)

    def refused(error: AppError):
        project = projects.get_project(current_user, project_id)
        return render_project(project, error.status, **errors_as(error))

    return page_change(run, done=lambda pair: done(*pair), refused=refused)


@web.post("/projects/<project_id>/members")
@login_required
def member_put(project_id: str):
    """Add a user with a role (the add form), or change a member's role (the row's form); owner
    only, as ``PUT members/{username}`` is, with its words."""
    username = request.form.get("username", "").strip()
    adding = bool(request.form.get("adding"))
    where = "username" if adding else f"member:{username}"
    role = request.form.get("role", "")
    problems = SetMemberSchema().validate({"role": role})
    if not username:
        problems["username"] = ["Type the username of the person to add."]
    if problems:
        fields = {"role": "role" if adding else where, "username": where}
        errors = {fields[key]: value for key, value in problems.items()}
        project = projects.get_project(current_user, project_id, roles.MANAGE_MEMBERS)
        return render_project(project, 422, member_errors=errors)

    def done(project: Project, result):
        member, added = result
        said = "Added {0} as {1}." if added else "{0} is now {1}."
        return back_to(_members_url(project), said.format(member.username, member.role))

    return _change(
        project_id,
        roles.MANAGE_MEMBERS,
        lambda project: members.set_member(project, current_user, username, role),
        lambda error: {"member_errors": {where: [error.detail]}},
        done,
    )


@web.post("/projects/<project_id>/members/<username>/remove")
@login_required
def member_remove(project_id: str, username: str):
    """Remove a member (an owner), or leave the project (the member themself)."""

    def done(project: Project, _):
        if username == current_user.username:
            return back_to(url_for("web.projects"), f"You left {project.project_id}.")
        return back_to(_members_url(project), f"Removed {username} from {project.project_id}.")

    return _change(
        project_id,
        roles.READ,  # leaving needs no role; removing someone else is checked by the service
        lambda project: members.remove_member(project, current_user, username),
        lambda error: {"member_errors": {f"member:{username}": [error.detail]}},
        done,
    )


_WHOLE = re.compile(r"(-?[0-9]{1,9})(?:\.0*)?")  # "30" and "30.0", as the API reads 30.0


def _policy_from_form() -> dict:
    """The policy form as the API's body: the checkbox as a boolean, the days as an integer
    when they are digits (otherwise as typed, so the schema answers with the API's words)."""
    days = request.form.get("review_days", "").strip()
    return {
        "four_eyes": request.form.get("four_eyes") == "yes",
        "review_days": None
        if days == ""
        else int(whole[1])
        if (whole := _WHOLE.fullmatch(days))
        else days,
    }


@web.post("/projects/<project_id>/policy")
@login_required
def policy_patch(project_id: str):
    """Change the project's policy (owner only), as ``PATCH /projects/{id} {policy}`` does."""
    sent = _policy_from_form()
    problems = PolicyPatchSchema().validate(sent)
    if problems:
        project = projects.get_project(current_user, project_id, roles.CHANGE_POLICY)
        return render_project(project, 422, policy_errors=problems)
    return _change(
        project_id,
        roles.CHANGE_POLICY,
        lambda project: projects.change_policy(project, current_user, sent),
        lambda error: {"policy_errors": {"four_eyes": [error.detail]}},
        lambda project, _: back_to(_members_url(project, "policy"), "Saved the policy."),
    )
