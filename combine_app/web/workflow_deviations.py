"""Deviation pages: request (or accept) a drift item, approve or reject a request, withdraw;
the "Waiting for your decision" page and its count in the top bar; list badges.

The forms live in the drift summary; what the API refuses is refused here with the same
message, shown next to the field of the item it concerns (or above the summary when it concerns
no field).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

from flask import render_template, request, url_for
from flask_login import current_user, login_required
from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import defer

from combine_app.catalog.app_loader import get_loader
from combine_app.errors import AppError, ValidationFailed
from combine_app.extensions import db
from combine_app.projects import service as projects
from combine_app.projects.models import Project
from combine_app.projects.overview import ProjectRow
from combine_app.web import web
from combine_app.web.forms import shown_revision
from combine_app.web.unit import back_to, page_change
from combine_app.web.workflow import drift_context
from combine_app.workflows.deviation_service import DeviationService
from combine_app.workflows.models import WorkflowInstance
from combine_app.workflows.schemas import AcceptDeviationSchema
from combine_app.workflows.service import WorkflowInstanceService
from combine_app.workflows.waiting import Waiting, waiting_for

WAITING_ENDPOINT = "web.waiting_decisions"


def _service() -> DeviationService:
    return DeviationService(db.session, get_loader())


def _drift_url(project: Project) -> str:
    return url_for("web.workflow_drift", project_id=project.project_id)


def _review_by() -> date | None:
    """The form's review-by date, read by the API's own field; 422 naming it when not a date."""
    text = request.form.get("review_by", "").strip()
    if not text:
        return None
    try:
        return AcceptDeviationSchema().fields["review_by"].deserialize(text)
    except ValidationError as error:
        message = "The review-by date is not a date."
        raise ValidationFailed(message, {"review_by": error.messages}) from error


def _decided(
    project: Project,
    change: Callable[[DeviationService], Any],
    done: Callable[[Any], str],
    fields: tuple[str, ...],
):
    """Run one deviation change as a unit of work, say ``done(result)``, and go back to where
    the form was.

    A refusal naming fields is shown next to them in the drift summary (with what was typed);
    any other refusal is shown above it.
    """
    key = request.form.get("key", "")

    def refused(error: AppError):
        if error.errors:
            named = {name.lstrip("/"): messages for name, messages in error.errors.items()}
            values = {name: request.form.get(name, "") for name in fields}
            context = drift_context(project, form_errors={key: named}, form_values=values)
        else:
            context = drift_context(project, accept_problem=error.detail)
        return render_template("workflow/drift.html", **context), error.status

    def decided(result):
        after = WAITING_ENDPOINT if request.form.get("next") == "waiting" else None
        return back_to(url_for(after) if after else _drift_url(project), done(result))

    return page_change(lambda: change(_service()), done=decided, refused=refused)


@web.post("/projects/<project_id>/workflow/deviations")
@login_required
def workflow_accept_deviation(project_id: str):
    """Request the acceptance of the drift item named by the form (accepted at once when the
    user may decide alone); the page again, with the message by the field, on a refusal."""
    project = projects.get_project(current_user, project_id)
    return _decided(
        project,
        lambda service: service.request(
            project,
            current_user,
            request.form.get("key", ""),
            request.form.get("reason", ""),
            _review_by(),
            expected_revision=shown_revision(),
        ),
        lambda answer: (
            "Accepted: the difference is explained, with your reason."
            if answer["status"] == "accepted"
            else "Requested: an approver or owner must now decide."
        ),
        ("reason", "review_by"),
    )


@web.post("/projects/<project_id>/workflow/deviations/approve")
@login_required
def workflow_approve_deviation(project_id: str):
    """Approve the request named by the form, with the optional note."""
    project = projects.get_project(current_user, project_id)
    return _decided(
        project,
        lambda service: service.approve(
            project,
            current_user,
            request.form.get("key", ""),
            request.form.get("note", ""),
            expected_revision=shown_revision(),
        ),
        lambda _: "Approved: the difference is explained.",
        ("note",),
    )


@web.post("/projects/<project_id>/workflow/deviations/reject")
@login_required
def workflow_reject_deviation(project_id: str):
    """Reject the request named by the form, with its reason."""
    project = projects.get_project(current_user, project_id)
    return _decided(
        project,
        lambda service: service.reject(
            project,
            current_user,
            request.form.get("key", ""),
            request.form.get("reason", ""),
            expected_revision=shown_revision(),
        ),
        lambda _: "Rejected: the difference stays unexplained.",
        ("reason",),
    )


@web.post("/projects/<project_id>/workflow/deviations/withdraw")
@login_required
def workflow_withdraw_deviation(project_id: str):
    """Withdraw the request or acceptance named by the form: the item is unexplained again."""
    project = projects.get_project(current_user, project_id)
    return _decided(
        project,
        lambda service: service.withdraw(
            project, current_user, request.form.get("key", ""), expected_revision=shown_revision()
        ),
        lambda _: "Withdrawn: the difference is unexplained again.",
        (),
    )


@web.get("/decisions")
@login_required
def waiting_decisions():
    """Waiting for your decision: the requests the signed-in user may approve, every project."""
    waiting = _waiting()
    # The top bar's count is this list's length: read once for both.
    return render_template("workflow/waiting.html", waiting=waiting, waiting_total=len(waiting))


def _waiting() -> list[Waiting]:
    """The requests waiting for the signed-in user's decision."""
    return waiting_for(db.session, get_loader(), current_user)


@web.app_context_processor
def waiting_count() -> dict[str, Callable[[], int]]:
    """``waiting_count()`` for the top bar: how many requests wait for the signed-in user (read
    only when a page shows the top bar)."""
    return {"waiting_count": lambda: len(_waiting())}


def list_drifts(rows: list[ProjectRow]) -> dict[uuid.UUID, dict]:
    """What the badges show of the drift of each listed project that has a workflow, by project
    id, in a fixed number of queries (instances, kept summaries, acceptances) however many rows
    there are; no diff runs for a row whose drift is kept."""
    ids = [row.project.id for row in rows if row.has_workflow]
    if not ids:
        return {}
    instances = list(
        db.session.scalars(
            select(WorkflowInstance)
            .where(WorkflowInstance.project_id.in_(ids))
            # Only a drift computed afresh needs the definition: it reads it then.
            .options(defer(WorkflowInstance.effective_workflow))
        )
    )
    drifts = WorkflowInstanceService(db.session, get_loader()).drift_summaries_of(instances)
    return {instance.project_id: drifts[instance.id] for instance in instances}
