"""Project pages: the list with search and create, and one project."""

from __future__ import annotations

from flask import (
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_login import current_user, login_required

from combine_app.catalog.app_loader import get_loader
from combine_app.database import unit_of_work
from combine_app.errors import AppError, Conflict
from combine_app.projects import counts, intake, overview, roles, service
from combine_app.projects.models import Project
from combine_app.projects.schemas import ProjectCreateSchema, ProjectPatchSchema
from combine_app.schemas import MAX_PAGE_SIZE
from combine_app.web import web
from combine_app.web.forms import load_form
from combine_app.web.unit import back_to, page_change
from combine_app.web.workflow import render_project
from combine_app.web.workflow_deviations import list_drifts

PAGE_SIZE = 25


@web.get("/favicon.ico")
def favicon():
    """The tab icon, where browsers look for it (no sign-in needed, cached for a day)."""
    return send_from_directory(web.static_folder, "favicon.ico", max_age=86_400)


@web.get("/")
def index():
    """Home: the project list for a signed-in user, sign-in otherwise."""
    if current_user.is_authenticated:
        return redirect(url_for("web.projects"))
    return redirect(url_for("auth.login"))


def _page_number() -> int:
    try:
        return max(1, min(int(request.args.get("page", 1)), 100_000))
    except ValueError:
        return 1


@web.route("/projects", methods=["GET", "POST"])
@login_required
def projects():
    """List and search projects; the side form is the intake (optionally with a workflow)."""
    errors: dict = {}
    form = {"name": "", "description": "", "workflow": ""}
    if request.method == "POST":
        form = {name: request.form.get(name, "") for name in form}
        project, errors = _intake_from_form(form)
        if project is not None:
            flash(f"Created {project.project_id}.", "success")
            return redirect(url_for("web.project", project_id=project.project_id))
    # NUL cannot reach PostgreSQL, not even as a query parameter (it was a 500).
    search = request.args.get("search", "").replace("\x00", "").strip()[:200]
    include_archived = request.args.get("include_archived") == "1"
    page = _page_number()
    query = service.search_filter(service.visible_projects(current_user), search, include_archived)
    # Unfiltered, the total is kept (no count over every project); a search counts its matches.
    kept_total = (
        None
        if search
        else counts.visible_total(current_user.id, current_user.is_admin, include_archived)
    )
    rows, total = overview.page(
        query,
        (page - 1) * PAGE_SIZE,
        min(PAGE_SIZE, MAX_PAGE_SIZE),
        current_user,
        kept_total=kept_total,
    )
    return render_template(
        "projects/list.html",
        rows=rows,
        drifts=list_drifts(rows),
        total=total,
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
        search=search,
        include_archived=include_archived,
        form=form,
        errors=errors,
        workflow_choices=get_loader().list_workflows(),
    ), (422 if errors else 200)


def _intake_from_form(form: dict) -> tuple[Project | None, dict]:
    """Create the project, and its workflow when one was chosen, in one transaction."""
    data, errors = load_form(ProjectCreateSchema())
    if data is None:
        return None, errors
    workflow_id, _, version = form["workflow"].partition("@")
    request_data = {
        "intake_document": {
            "project_name": data["name"],
            "description": data["description"],
            "source": "web form",
        },
        "workflow_id": workflow_id or None,
        "workflow_version": version or None,
    }
    return page_change(
        lambda: intake.create_from_intake(current_user, request_data, get_loader()),
        done=lambda result: (result.project, {}),
        refused=lambda error: (None, {"workflow": [error.detail]}),
    )


def _project_or_404(project_id: str, action: str = roles.READ) -> Project:
    """The signed-in user's project; 404 for anyone else's, 403 when the role does not allow
    ``action``."""
    try:
        project = service.get_project(current_user, project_id)
    except AppError:
        abort(404)
    roles.require(project, current_user, action)
    return project


@web.route("/projects/<project_id>", methods=["GET", "POST"])
@login_required
def project(project_id: str):
    """One project, with its details form and audit trail."""
    project = _project_or_404(project_id)
    errors: dict = {}
    if request.method == "POST":
        data, errors = load_form(ProjectPatchSchema())
        if data is not None:
            return page_change(
                lambda: service.update_project(project, current_user, data),
                done=lambda _: back_to(
                    url_for("web.project", project_id=project.project_id), "Saved."
                ),
                refused=lambda error: render_project(
                    project, error.status, errors={"name": [error.detail]}
                ),
            )
    return render_project(project, 422 if errors else 200, errors=errors)


@web.post("/projects/<project_id>/archive")
@login_required
@unit_of_work
def archive(project_id: str):
    """Archive or unarchive from the project page, as the submitted form asks."""
    project = _project_or_404(project_id, roles.ARCHIVE_PROJECT)
    # The form names its action, so a second submit from a stale page cannot undo the first.
    wanted = request.form.get("action") or ("unarchive" if project.is_archived else "archive")
    try:
        if wanted == "unarchive":
            service.unarchive_project(project, current_user)
            flash(f"{project.project_id} is active again.", "success")
        else:
            service.archive_project(project, current_user)
            flash(f"Archived {project.project_id}.", "success")
    except Conflict as error:
        flash(error.detail, "error")
    return redirect(url_for("web.project", project_id=project.project_id))


@web.post("/projects/<project_id>/delete")
@login_required
@unit_of_work
def delete(project_id: str):
    """Delete the project after the page asked for confirmation."""
    project = _project_or_404(project_id, roles.DELETE_PROJECT)
    if request.form.get("confirm") != project.project_id:
        flash(f"Type {project.project_id} to confirm deletion.", "error")
        return redirect(url_for("web.project", project_id=project.project_id))
    key = project.project_id
    service.delete_project(project, current_user)
    flash(f"Deleted {key}.", "success")
    return redirect(url_for("web.projects"))
