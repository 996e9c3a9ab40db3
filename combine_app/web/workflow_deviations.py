"""Deviation pages: accept a drift item with a reason, withdraw an acceptance; list badges.

The forms live in the drift summary; what the API refuses is refused here with the same
message, shown next to the reason field of the item it concerns.
"""

from __future__ import annotations

import uuid

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from combine_app.catalog.commands import get_loader
from combine_app.database import transaction
from combine_app.errors import AppError
from combine_app.extensions import db
from combine_app.projects import service as projects
from combine_app.projects.overview import ProjectRow
from combine_app.web import web
from combine_app.web.workflow import drift_context
from combine_app.workflows.deviation_service import DeviationService
from combine_app.workflows.models import WorkflowInstance
from combine_app.workflows.service import WorkflowInstanceService


def _drift_url(project) -> str:
    return url_for("web.workflow_drift", project_id=project.project_id)


@web.post("/projects/<project_id>/workflow/deviations")
@login_required
def workflow_accept_deviation(project_id: str):
    """Accept the drift item named by the form, with its reason; the page again on a refusal."""
    project = projects.get_project(current_user, project_id)
    key = request.form.get("key", "")
    reason = request.form.get("reason", "")
    try:
        with transaction():
            DeviationService(db.session, get_loader()).request(project, current_user, key, reason)
    except AppError as error:
        if error.errors:  # the reason or the key: shown next to the item's reason field
            messages = [" ".join(m) for m in error.errors.values()]
            context = drift_context(project, accept_errors={key: messages}, accept_reason=reason)
        else:  # the workflow cannot change now: no form to show it next to
            context = drift_context(project, accept_problem=error.detail)
        return render_template("workflow/drift.html", **context), error.status
    flash("Accepted: the difference is explained, with your reason.", "success")
    return redirect(_drift_url(project))


@web.post("/projects/<project_id>/workflow/deviations/withdraw")
@login_required
def workflow_withdraw_deviation(project_id: str):
    """Withdraw the acceptance named by the form: the item is unexplained again."""
    project = projects.get_project(current_user, project_id)
    try:
        with transaction():
            DeviationService(db.session, get_loader()).withdraw(
                project, current_user, request.form.get("key", "")
            )
    except AppError as error:
        flash(error.detail, "error")
        return redirect(_drift_url(project))
    flash("Withdrawn: the difference is unexplained again.", "success")
    return redirect(_drift_url(project))


def list_drifts(rows: list[ProjectRow]) -> dict[uuid.UUID, dict]:
    """The drift of each listed project that has a workflow, by project id, in a fixed number of
    queries (instances, acceptances, base snapshots) however many rows there are."""
    ids = [row.project.id for row in rows if row.has_workflow]
    if not ids:
        return {}
    instances = list(
        db.session.scalars(select(WorkflowInstance).where(WorkflowInstance.project_id.in_(ids)))
    )
    drifts = WorkflowInstanceService(db.session, get_loader()).drifts_of(instances)
    return {instance.project_id: drifts[instance.id] for instance in instances}
