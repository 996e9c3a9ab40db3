"""Revision pages: view any revision, compare two, restore one with a reason, archive with one.

Each view reads the request, calls the service and renders; what the API refuses is refused
here with the same message, next to the field it concerns.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request
from flask_login import current_user, login_required
from marshmallow import ValidationError as MarshmallowError

from combine_app.catalog.validation import count_steps
from combine_app.errors import AppError, ValidationFailed
from combine_app.projects import roles
from combine_app.projects.models import Project
from combine_app.web import web
from combine_app.web.forms import load_form, shown_revision
from combine_app.web.unit import back_to, flash_back, is_stale, page_change, stale_message
from combine_app.web.workflow import (
    instance_service,
    panel_url,
    project_for,
    read_only_reason,
    render_project_with_reason_error,
    step_names,
)
from combine_app.web.workflow_view import compact, step_views
from combine_app.workflows.compare import comparison
from combine_app.workflows.models import WorkflowInstance
from combine_app.workflows.move_words import sentences_by_step
from combine_app.workflows.schemas import CompareArgs, ReasonSchema
from combine_app.workflows.service import ResolvedSide, WorkflowInstanceService, compared

# The latest revisions the side pickers offer (an older one is reached from the history).
PICKER_REVISIONS = 50


@web.get("/projects/<project_id>/workflow/revisions/<int:number>")
@login_required
def workflow_revision(project_id: str, number: int):
    """The workflow as it stood after one revision, with a restore form and its preview."""
    project = project_for(project_id)
    service = instance_service()
    instance = service.get_instance(project)
    return _render_revision(project, instance, service, number)


def _render_revision(
    project: Project,
    instance: WorkflowInstance,
    service: WorkflowInstanceService,
    number: int,
    *,
    status: int = 200,
    stale: str | None = None,
    errors: dict | None = None,
):
    revision = service.read_revision(instance, number)
    preview = comparison(instance.effective_workflow, revision.definition)
    return render_template(
        "workflow/revision.html",
        project=project,
        workflow=instance,
        revision=revision,
        steps=step_views(revision.definition),
        step_count=count_steps(revision.definition),
        preview=preview,
        names=dict(step_names(revision.definition) + step_names(instance.effective_workflow)),
        move_words=sentences_by_step(
            preview["step_moves"], instance.effective_workflow, revision.definition
        ),
        read_only=read_only_reason(project, instance, roles.RESTORE_WORKFLOW),
        stale=stale,
        errors=errors or {},
        reason=request.form.get("reason", ""),
    ), status


@web.post("/projects/<project_id>/workflow/restore")
@login_required
def workflow_restore(project_id: str):
    """Restore a revision as one new change, at the revision the page was loaded at."""
    project = project_for(project_id, roles.RESTORE_WORKFLOW)
    service = instance_service()
    instance = service.get_instance(project)
    number = _posted_int("revision")
    loaded_at = _posted_int("current_revision")
    if number is None or loaded_at is None:
        flash("Open the revision to restore from the history, then restore it there.", "error")
        return redirect(panel_url(project))
    data, errors = load_form(ReasonSchema())
    if data is None:
        return _render_revision(project, instance, service, number, status=422, errors=errors)
    before = instance.revision

    def refused(error):
        if not is_stale(error):
            return flash_back(panel_url(project))(error)
        now = service.get_instance(project)
        stale = stale_message(now.revision, "Check the preview below again, then restore.")
        return _render_revision(project, now, service, number, status=409, stale=stale)

    def done(restored):
        if restored.revision == before:
            message = f"Nothing to restore: the workflow already holds revision {number}."
        else:
            message = f"Restored revision {number} as revision {restored.revision}."
        return back_to(panel_url(project), message)

    return page_change(
        lambda: service.restore_instance(
            project,
            number,
            current_user.username,
            expected_revision=loaded_at,
            reason=data["reason"],
        ),
        done=done,
        refused=refused,
    )


def _posted_int(name: str) -> int | None:
    text = request.form.get(name, "")
    return int(text) if text.isdigit() and len(text) <= 9 else None


@web.get("/projects/<project_id>/workflow/compare")
@login_required
def workflow_compare(project_id: str):
    """Pick two sides (revision numbers, current, source) and see what differs between them."""
    project = project_for(project_id)
    service = instance_service()
    instance = service.get_instance(project)
    chosen = {name: request.args.get(name, "") for name in ("from", "to")}
    context: dict[str, Any] = {
        "project": project,
        "workflow": instance,
        "picker": side_options(service, instance, chosen),
        "picker_size": PICKER_REVISIONS,
        "chosen": chosen,
        "errors": {},
        "result": None,
    }
    status = 200
    definitions: list[dict] = []
    if chosen["from"] or chosen["to"]:
        sides, context["errors"], status = resolved_sides(service, instance, chosen)
        if sides:
            context["result"] = compared(sides)
            definitions = [sides["from"].definition, sides["to"].definition]
    result = context["result"]
    context["names"] = _side_names(instance, definitions)
    context["move_words"] = sentences_by_step(result["step_moves"], *definitions) if result else {}
    return render_template("workflow/compare.html", **context), status


def _side_names(instance: WorkflowInstance, sides: list[dict | None]) -> dict[str, str]:
    """Step names to show: those of the sides compared, then of the current definition."""
    names = dict(step_names(instance.effective_workflow))
    for definition in sides:
        if definition is not None and definition is not instance.effective_workflow:
            names = {**dict(step_names(definition)), **names}
    return names


def resolved_sides(
    service: WorkflowInstanceService, instance: WorkflowInstance, chosen: dict[str, str]
) -> tuple[dict[str, ResolvedSide] | None, dict[str, Any], int]:
    """The chosen sides, or the messages of every side that is refused, by field, and the
    status: a side that is not a revision number, ``current`` or ``source`` does not stop the
    other from being looked up."""
    errors: dict[str, Any] = {}
    try:
        loaded = CompareArgs().load(chosen)
    except MarshmallowError as error:
        loaded, errors = error.valid_data or {}, dict(error.messages)
    wanted = {name: loaded[key] for name, key in LOADED_AS.items() if key in loaded}
    try:
        sides = service.resolve_sides(instance, wanted)
    except ValidationFailed as error:
        errors.update(error.errors or {"": [error.detail]})
    except AppError as error:  # the source cannot be loaded now, or a revision cannot be known
        return None, {"": [error.detail]}, error.status
    if errors:
        return None, errors, 422
    return sides, {}, 200


# The query parameters and the names CompareArgs loads them as ("from" is a Python keyword).
LOADED_AS = {"from": "from_", "to": "to"}


def side_options(
    service: WorkflowInstanceService, instance: WorkflowInstance, chosen: dict[str, str]
) -> list[tuple[str, str]]:
    """What the side pickers offer: current, source, then the latest revisions with their date,
    author and reason; a side asked for that is not among them (an older revision, or what was
    typed into the address) is offered too, so the picker shows what was asked."""
    ref = instance.base_workflow_ref
    options = [
        ("current", f"Current (revision {instance.revision})"),
        ("source", f"Source: {ref['workflow_id']} {ref['version']}, as it is now"),
    ]
    for row in service.instances.recent_revisions(instance.id, instance.revision, PICKER_REVISIONS):
        when = row.changed_at.strftime("%Y-%m-%d %H:%M")
        words = f"Revision {row.revision} · {when} · {row.changed_by or 'someone'}"
        if row.reason:
            words += f": {compact(row.reason, 60)}"
        options.append((str(row.revision), words))
    offered = {value for value, _ in options}
    for value in dict.fromkeys(chosen.values()):
        if value and value not in offered:
            options.append((value, f"Revision {value}" if value.isdigit() else value))
    return options


@web.post("/projects/<project_id>/workflow/archive")
@login_required
def workflow_archive(project_id: str):
    """Archive the workflow, once the form's confirmation box is ticked, with a reason."""
    project = project_for(project_id, roles.ARCHIVE_WORKFLOW)
    if request.form.get("confirm") != "yes":
        flash("Tick “Yes, archive it” to confirm.", "error")
        return redirect(panel_url(project))
    data, errors = load_form(ReasonSchema())
    if data is None:
        return render_project_with_reason_error(project, "archive", errors)
    return page_change(
        lambda: instance_service().archive_instance(
            project, current_user.username, data["reason"], expected_revision=shown_revision()
        ),
        done=lambda _: back_to(panel_url(project), "The workflow is archived."),
        refused=flash_back(panel_url(project)),
    )
