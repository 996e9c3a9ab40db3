"""Workflow pages: the project page's panel, assigning a POW, editing, drift and completing.

Server-rendered: every page reads without JavaScript; workflow.js only loads the drift summary
on demand and lets the editor's step controls update the page in place.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from marshmallow import ValidationError as MarshmallowError

from combine_app.catalog.app_loader import get_loader
from combine_app.catalog.errors import CatalogError
from combine_app.catalog.validation import count_steps
from combine_app.definition import editing
from combine_app.errors import (
    AppError,
    NotFound,
)
from combine_app.extensions import db
from combine_app.projects import roles
from combine_app.projects import service as projects
from combine_app.projects.members import members_of
from combine_app.projects.models import Project
from combine_app.web import web
from combine_app.web.forms import load_form, shown_revision
from combine_app.web.unit import back_to, flash_back, page_change
from combine_app.web.workflow_view import (
    as_json,
    compact,
    describe_input,
    describe_iteration,
    field_label,
    field_words,
    step_views,
)
from combine_app.web.workflow_words import (
    KIND_TITLES,
    ORIGIN_TITLES,
    ORIGIN_WORDS,
    describe_entry,
    field_change_short,
)
from combine_app.workflows.deviation_service import DeviationService
from combine_app.workflows.history_replay import diff_of_entries
from combine_app.workflows.models import WorkflowInstance
from combine_app.workflows.move_words import (
    Orders,
    orders_before,
    sentences_by_step,
    sibling_orders,
)
from combine_app.workflows.schemas import CreateWorkflowInstanceSchema, ReasonSchema
from combine_app.workflows.service import WorkflowInstanceService

HISTORY_PAGE_SIZE = 10
# The change types of a save (an edit or a restore), as opposed to created or status changes.
SAVE_CHANGE_TYPES = frozenset(
    {"step_added", "step_removed", "step_reordered", "step_modified", "metadata_changed"}
)
CLASS_LABELS = {"reference": "Reference", "template": "Template"}
# Sent by workflow.js when it wants only the editor's inner HTML back.
PARTIAL_HEADER = "X-Combine-Partial"


web.add_app_template_filter(compact, "compact")
web.add_app_template_filter(field_label, "field_label")
web.add_app_template_filter(field_words, "field_words")
web.add_app_template_filter(describe_input, "describe_input")
web.add_app_template_filter(describe_iteration, "describe_iteration")
web.add_app_template_filter(field_change_short, "field_change")


@web.app_template_filter("json_field")
def json_field(value: Any) -> str:
    """JSON text for a field's textarea: one line when short, indented when long."""
    text = as_json(value)
    return text if len(text) <= 60 else as_json(value, 2)


def instance_service() -> WorkflowInstanceService:
    return WorkflowInstanceService(db.session, get_loader())


def project_for(project_id: str, action: str = roles.READ) -> Project:
    """The signed-in user's project (an admin's: any); 404 for anyone else's, 403 (naming the
    role needed) when their role does not allow ``action``."""
    return projects.get_project(current_user, project_id, action)


def panel_url(project: Project, **args: Any) -> str:
    return url_for("web.project", project_id=project.project_id, _anchor="workflow", **args)


def read_only_reason(
    project: Project, instance: WorkflowInstance | None, action: str = roles.SAVE_WORKFLOW
) -> str | None:
    """Why the workflow cannot be changed now (its state, or the signed-in user's role for
    ``action``), or None when it can."""
    if project.is_archived:
        return (
            f"Project {project.project_id} is archived: its workflow can be read but not "
            "changed. Unarchive the project first."
        )
    if instance is not None and instance.status != "active":
        return f"This workflow is {instance.status}: it can be read but no longer changed."
    return roles.refusal(roles.role_of(project, current_user), action)


# The steps the project page lists at first; a longer workflow shows them all on request (the
# page of a 1,000-step workflow spent most of its time drawing steps nobody scrolled to).
PANEL_STEPS = 100


def workflow_panel(project: Project) -> dict[str, Any]:
    """Everything the project page's workflow panel shows, as template variables."""
    service = instance_service()
    try:
        instance = service.get_instance(project)
    except NotFound:
        return {
            "workflow": None,
            "workflow_choices": _choices(),
            "workflow_read_only": read_only_reason(project, None),
        }
    page = _history_page()
    history = service.history_of(instance, HISTORY_PAGE_SIZE, (page - 1) * HISTORY_PAGE_SIZE)
    page_count = max(1, -(-history.total // HISTORY_PAGE_SIZE))
    if page > page_count:  # past the end (the history is shorter now): show the last page
        page = page_count
        history = service.history_of(instance, HISTORY_PAGE_SIZE, (page - 1) * HISTORY_PAGE_SIZE)
    step_count = count_steps(instance.effective_workflow)
    all_steps = request.args.get("steps") == "all" or step_count <= PANEL_STEPS
    return {
        "workflow": instance,
        "workflow_steps": step_views(
            instance.effective_workflow, None if all_steps else PANEL_STEPS
        ),
        "workflow_steps_cut": not all_steps,
        "panel_steps": PANEL_STEPS,
        # The badge and the panel's flags, from the kept summary: no diff once it is kept.
        "workflow_drift": service.drift_summaries_of([instance])[instance.id],
        "workflow_step_count": step_count,
        "workflow_history": _history_items(
            history.entries, _move_orders(service, instance, history.entries)
        ),
        "workflow_history_total": history.total,
        "workflow_history_page": page,
        "workflow_history_pages": page_count,
        "workflow_read_only": read_only_reason(project, instance),
        "workflow_problems": service.problems_of(instance),
    }


def _history_page() -> int:
    try:
        return max(1, min(int(request.args.get("history_page", 1)), 1_000_000))
    except ValueError:
        return 1


def _move_orders(
    service: WorkflowInstanceService, instance: WorkflowInstance, entries: list
) -> dict[int, tuple[Orders, Orders]]:
    """For each shown save that moved steps, the sibling orders before and after it, so that
    its moves read as the rest of the pages tell them: the definition after the save is read
    (as the revision page reads it) and the one before is worked out from the save's entries.
    A revision that cannot be read is left out (its moves are told step by step)."""
    by_revision: dict[int, list] = {}
    for entry in entries:
        by_revision.setdefault(entry.revision, []).append((entry.change_type, entry.change_detail))
    orders = {}
    for number, revision_entries in by_revision.items():
        if not any(change_type == "step_reordered" for change_type, _ in revision_entries):
            continue
        saved = diff_of_entries(revision_entries)
        try:
            after = sibling_orders(service.read_revision(instance, number).definition)
            before = orders_before(after, saved.steps_moved, saved.steps_added, saved.steps_removed)
        except (AppError, KeyError, TypeError, AttributeError):
            continue
        orders[number] = (before, after)
    return orders


def _history_items(entries: list, orders: dict[int, tuple[Orders, Orders]]) -> list[dict[str, Any]]:
    """History entries in words; the entries one change wrote (same revision) share an item."""
    items: list[dict[str, Any]] = []
    for entry in entries:
        sentences = describe_entry(
            entry.change_type, entry.change_detail, entry.changed_by, orders.get(entry.revision)
        )
        last = items[-1] if items else None
        if last and last["revision"] == entry.revision and last["who"] == entry.changed_by:
            last["sentences"].extend(sentences)
            last["is_save"] = last["is_save"] or entry.change_type in SAVE_CHANGE_TYPES
            continue
        items.append(
            {
                "sentences": sentences,
                "change_type": entry.change_type,
                "who": entry.changed_by,
                "when": entry.changed_at,
                "revision": entry.revision,
                "reason": entry.reason,
                "restored_from": (entry.change_detail or {}).get("restored_from"),
                "is_save": entry.change_type in SAVE_CHANGE_TYPES,
            }
        )
    return items


def render_project(project: Project, status: int = 200, **extra: Any):
    """The project page: details, members and policy, audit trail and the workflow panel;
    ``extra`` carries the messages of a refused form, shown next to its fields."""
    return render_template(
        "projects/detail.html",
        project=project,
        audit=projects.audit_trail(project)[:50],
        project_members=members_of(project),
        **{"errors": {}, **extra},
        **workflow_panel(project),
    ), status


def render_project_with_reason_error(project: Project, form: str, errors: dict):
    """The project page again, the panel's ``form`` open with its reason's message beside it."""
    return render_project(project, 422, workflow_form_errors={form: errors})


def _choices() -> list[tuple[str, list]]:
    """The loader's POWs grouped by class: Reference first, then Template, then any other."""
    groups: dict[str, list] = {}
    for info in get_loader().list_workflows():
        groups.setdefault(info.pow_class, []).append(info)
    order = list(CLASS_LABELS)
    classes = sorted(groups, key=lambda name: (order.index(name) if name in order else 99, name))
    return [(CLASS_LABELS.get(name, name.title()), groups[name]) for name in classes]


@web.post("/projects/<project_id>/workflow")
@login_required
def workflow_assign(project_id: str):
    """Create the project's instance from the POW and version picked on the project page."""
    project = project_for(project_id, roles.ASSIGN_WORKFLOW)
    workflow_id = request.form.get("workflow_id", "")
    submitted = {"workflow_id": workflow_id, "version": request.form.get(f"version:{workflow_id}")}
    if not workflow_id:
        flash("Pick a workflow to assign.", "error")
        return redirect(panel_url(project))
    try:
        data = CreateWorkflowInstanceSchema().load(submitted)
    except MarshmallowError:
        # Only a hand-made request sends an id or version the picker never offered.
        return back_to(
            panel_url(project), "Pick one of the listed workflows and versions.", "error"
        )
    return page_change(
        lambda: instance_service().create_instance(
            project, data["workflow_id"], data["version"], current_user.username
        ),
        done=lambda instance: back_to(
            panel_url(project),
            "Assigned {workflow_id} {version}.".format(**instance.base_workflow_ref),
        ),
        refused=flash_back(panel_url(project)),
    )


@web.get("/projects/<project_id>/workflow/drift")
@login_required
def workflow_drift(project_id: str):
    """The drift summary: a fragment for workflow.js (``?partial=1``), else a full page."""
    context = drift_context(project_for(project_id))
    if request.args.get("partial") == "1":
        return render_template("workflow/_drift.html", **context)
    return render_template("workflow/drift.html", **context)


# Up to this many differences not explained yet, each shows its accept form at once.
FORMS_AT_ONCE = 50


def _grouped(items: list[dict]) -> list[tuple[str, str, int, list[tuple[str, list[dict]]]]]:
    """Items by who made them, then by kind, in ORIGIN_TITLES and KIND_TITLES order, without
    the empty groups: [(origin, title, count, [(kind title, items)])], grouped once here rather
    than filtered per group in the template."""
    by_origin: dict[str, dict[str, list[dict]]] = {}
    for item in items:
        by_origin.setdefault(item["origin"], {}).setdefault(item["kind"], []).append(item)
    groups = []
    for origin, title in ORIGIN_TITLES:
        by_kind = by_origin.get(origin)
        if by_kind:
            kinds = [(words, by_kind[kind]) for kind, words in KIND_TITLES if kind in by_kind]
            groups.append((origin, title, sum(len(found) for _, found in kinds), kinds))
    return groups


def drift_context(project: Project, **extra: Any) -> dict[str, Any]:
    """What the drift summary shows: the drift with its items, step names, whether it may change."""
    service = instance_service()
    instance = service.get_instance(project)
    drift = service.drift_of(instance)
    unexplained = [item for item in drift["items"] if not item["explained"]]
    return {
        "project": project,
        "workflow": instance,
        "drift": drift,
        "unexplained_groups": _grouped(unexplained),
        "unexplained_count": len(unexplained),
        # Many differences: each one's accept form comes when asked for (?accept=KEY), so the
        # page does not draw a thousand forms nobody opens.
        "forms_on_request": len(unexplained) > FORMS_AT_ONCE,
        "form_for": request.args.get("accept"),
        "offers": DeviationService(db.session, get_loader()).offers(project, current_user, drift),
        "names": {view_id: name for view_id, name in step_names(instance.effective_workflow)},
        "move_words": sentences_by_step(moves, source_of(instance), instance.effective_workflow)
        if (moves := drift.get("step_moves"))
        else {},
        "drift_read_only": read_only_reason(project, instance, roles.READ),
        "origin_titles": ORIGIN_TITLES,
        "kind_titles": KIND_TITLES,
        "origin_words": ORIGIN_WORDS,
        **extra,
    }


def source_of(instance: WorkflowInstance) -> Mapping[str, Any] | None:
    """The source release the instance was assigned from, as the loader holds it (to read,
    never to change), or None when it cannot be loaded."""
    ref = instance.base_workflow_ref
    try:
        return get_loader().shared_definition(ref["workflow_id"], ref["version"])
    except CatalogError:
        return None


def step_names(definition: dict) -> list[tuple[str, str]]:
    return [
        (step["step_id"], step.get("name") or "")
        for _, step in editing.walk(definition)
        if isinstance(step, dict) and isinstance(step.get("step_id"), str)
    ]


@web.post("/projects/<project_id>/workflow/complete")
@login_required
def workflow_complete(project_id: str):
    """Mark the active instance completed, once the form's confirmation box is ticked."""
    project = project_for(project_id, roles.COMPLETE_WORKFLOW)
    if request.form.get("confirm") != "yes":
        flash("Tick “Yes, mark it completed” to confirm.", "error")
        return redirect(panel_url(project))
    data, errors = load_form(ReasonSchema())
    if data is None:
        return render_project_with_reason_error(project, "complete", errors)
    return page_change(
        lambda: instance_service().complete_instance(
            project, current_user.username, data["reason"], expected_revision=shown_revision()
        ),
        done=lambda _: back_to(panel_url(project), "The workflow is marked completed."),
        refused=flash_back(panel_url(project)),
    )
