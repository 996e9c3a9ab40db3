"""Workflow pages: the project page's panel, assigning a POW, editing, drift and completing.

Server-rendered: every page reads without JavaScript; workflow.js only loads the drift summary
on demand and lets the editor's step controls update the page in place.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from marshmallow import ValidationError as MarshmallowError

from combine_app.catalog.app_loader import get_loader
from combine_app.catalog.validation import count_steps, validate_pow
from combine_app.database import transaction
from combine_app.definition import rules
from combine_app.errors import (
    AppError,
    ConcurrentChange,
    NotFound,
    PreconditionFailed,
    ValidationFailed,
)
from combine_app.extensions import db
from combine_app.portable_json import MAX_JSON_DEPTH, read_json, text_problems
from combine_app.projects import roles
from combine_app.projects import service as projects
from combine_app.projects.members import members_of
from combine_app.projects.models import Project
from combine_app.web import web
from combine_app.web import workflow_edit as editing
from combine_app.web.forms import large_form, load_form
from combine_app.web.workflow_view import (
    StepView,
    as_json,
    compact,
    describe_input,
    describe_iteration,
    ordered_definition,
    step_views,
)
from combine_app.web.workflow_words import (
    KIND_TITLES,
    ORIGIN_TITLES,
    ORIGIN_WORDS,
    describe_entry,
    field_change_short,
)
from combine_app.workflows import diff as structural
from combine_app.workflows.deviation_service import DeviationService
from combine_app.workflows.models import WorkflowInstance
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
web.add_app_template_filter(describe_input, "describe_input")
web.add_app_template_filter(describe_iteration, "describe_iteration")
web.add_app_template_filter(field_change_short, "field_change")


@web.app_template_filter("json_field")
def json_field(value: Any) -> str:
    """JSON text for a field's textarea: one line when short, indented when long."""
    text = as_json(value)
    return text if len(text) <= 60 else as_json(value, 2)


def _service() -> WorkflowInstanceService:
    return WorkflowInstanceService(db.session, get_loader())


def _project(project_id: str, action: str = roles.READ) -> Project:
    """The signed-in user's project (an admin's: any); 404 for anyone else's, 403 (naming the
    role needed) when their role does not allow ``action``."""
    return projects.get_project(current_user, project_id, action)


def _panel_url(project: Project, **args: Any) -> str:
    return url_for("web.project", project_id=project.project_id, _anchor="workflow", **args)


def _read_only_reason(
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


def workflow_panel(project: Project) -> dict[str, Any]:
    """Everything the project page's workflow panel shows, as template variables."""
    service = _service()
    try:
        instance = service.get_instance(project)
    except NotFound:
        return {
            "workflow": None,
            "workflow_choices": _choices(),
            "workflow_read_only": _read_only_reason(project, None),
        }
    page = _history_page()
    history = service.history_of(instance, HISTORY_PAGE_SIZE, (page - 1) * HISTORY_PAGE_SIZE)
    page_count = max(1, -(-history.total // HISTORY_PAGE_SIZE))
    if page > page_count:  # past the end (the history is shorter now): show the last page
        page = page_count
        history = service.history_of(instance, HISTORY_PAGE_SIZE, (page - 1) * HISTORY_PAGE_SIZE)
    return {
        "workflow": instance,
        "workflow_steps": step_views(instance.effective_workflow),
        "workflow_drift": service.drift_of(instance),
        "workflow_step_count": count_steps(instance.effective_workflow),
        "workflow_history": _history_items(history.entries),
        "workflow_history_total": history.total,
        "workflow_history_page": page,
        "workflow_history_pages": page_count,
        "workflow_read_only": _read_only_reason(project, instance),
        "workflow_problems": service.problems_of(instance),
    }


def _history_page() -> int:
    try:
        return max(1, min(int(request.args.get("history_page", 1)), 1_000_000))
    except ValueError:
        return 1


def _history_items(entries: list) -> list[dict[str, Any]]:
    """History entries in words; the entries one change wrote (same revision) share an item."""
    items: list[dict[str, Any]] = []
    for entry in entries:
        sentences = describe_entry(entry.change_type, entry.change_detail, entry.changed_by)
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
    project = _project(project_id, roles.ASSIGN_WORKFLOW)
    workflow_id = request.form.get("workflow_id", "")
    submitted = {"workflow_id": workflow_id, "version": request.form.get(f"version:{workflow_id}")}
    if not workflow_id:
        flash("Pick a workflow to assign.", "error")
        return redirect(_panel_url(project))
    try:
        data = CreateWorkflowInstanceSchema().load(submitted)
        with transaction():
            instance = _service().create_instance(
                project, data["workflow_id"], data["version"], current_user.username
            )
    except AppError as error:
        flash(_message(error), "error")
        return redirect(_panel_url(project))
    except MarshmallowError:
        # Only a hand-made request sends an id or version the picker never offered.
        flash("Pick one of the listed workflows and versions.", "error")
        return redirect(_panel_url(project))
    ref = instance.base_workflow_ref
    flash(f"Assigned {ref['workflow_id']} {ref['version']}.", "success")
    return redirect(_panel_url(project))


def _message(error: AppError) -> str:
    """An error's detail, with its field messages when it names any."""
    if not error.errors:
        return error.detail
    fields = "; ".join(" ".join(messages) for messages in error.errors.values())
    return fields or error.detail


@web.get("/projects/<project_id>/workflow/drift")
@login_required
def workflow_drift(project_id: str):
    """The drift summary: a fragment for workflow.js (``?partial=1``), else a full page."""
    context = drift_context(_project(project_id))
    if request.args.get("partial") == "1":
        return render_template("workflow/_drift.html", **context)
    return render_template("workflow/drift.html", **context)


def drift_context(project: Project, **extra: Any) -> dict[str, Any]:
    """What the drift summary shows: the drift with its items, step names, whether it may change."""
    service = _service()
    instance = service.get_instance(project)
    drift = service.drift_of(instance)
    return {
        "project": project,
        "workflow": instance,
        "drift": drift,
        "offers": DeviationService(db.session, get_loader()).offers(project, current_user, drift),
        "names": {view_id: name for view_id, name in _step_names(instance.effective_workflow)},
        "drift_read_only": _read_only_reason(project, instance, roles.READ),
        "origin_titles": ORIGIN_TITLES,
        "kind_titles": KIND_TITLES,
        "origin_words": ORIGIN_WORDS,
        **extra,
    }


def _step_names(definition: dict) -> list[tuple[str, str]]:
    return [
        (step["step_id"], step.get("name") or "")
        for _, step in editing.walk(definition)
        if isinstance(step, dict) and isinstance(step.get("step_id"), str)
    ]


@web.post("/projects/<project_id>/workflow/complete")
@login_required
def workflow_complete(project_id: str):
    """Mark the active instance completed, once the form's confirmation box is ticked."""
    project = _project(project_id, roles.COMPLETE_WORKFLOW)
    if request.form.get("confirm") != "yes":
        flash("Tick “Yes, mark it completed” to confirm.", "error")
        return redirect(_panel_url(project))
    data, errors = load_form(ReasonSchema())
    if data is None:
        return render_project_with_reason_error(project, "complete", errors)
    try:
        with transaction():
            _service().complete_instance(project, current_user.username, data["reason"])
    except AppError as error:
        flash(_message(error), "error")
        return redirect(_panel_url(project))
    flash("The workflow is marked completed.", "success")
    return redirect(_panel_url(project))


@web.route("/projects/<project_id>/workflow/edit", methods=["GET", "POST"])
@large_form
@login_required
def workflow_edit(project_id: str):
    """Edit a working copy of the steps; Save writes it as one change at the loaded revision.

    A member whose role may not save is refused (403 naming the role) rather than shown an
    editor whose Save would fail."""
    project = _project(project_id, roles.SAVE_WORKFLOW)
    service = _service()
    try:
        instance = service.get_instance(project)
    except NotFound:
        flash("Assign a workflow before editing it.", "error")
        return redirect(_panel_url(project))
    reason = _read_only_reason(project, instance)
    if reason:
        flash(reason, "error")
        return redirect(_panel_url(project))
    if request.method in ("GET", "HEAD"):  # Flask answers HEAD with the GET view
        return _render_editor(project, instance, instance.effective_workflow, instance.revision)
    return _edit_post(project, instance, service)


def _edit_post(project: Project, instance: WorkflowInstance, service: WorkflowInstanceService):
    """Apply one editor action to the posted working copy; save it when asked to."""
    revision = _posted_revision()
    working = _posted_working_copy()
    op = request.form.get("op", "apply")
    state: dict[str, Any] = {}
    if op == "apply_json":
        try:
            parsed = editing.parse_json_field(request.form.get("definition_json", ""))
            if not isinstance(parsed, dict):
                raise editing.EditError("The definition must be a JSON object.")
        except editing.EditError as error:
            state["json_error"] = error.message
            state["json_text"] = request.form.get("definition_json", "")
            state["open_json"] = True
            return _render_editor(project, instance, working, revision, status=422, **state)
        working = parsed
        state["notice"] = "Applied the JSON to your working copy. Save to keep it."
        return _render_editor(project, instance, working, revision, **state)
    field_errors = editing.apply_field_edits(working, request.form)
    if field_errors:
        return _render_editor(
            project,
            instance,
            working,
            revision,
            status=422,
            field_errors=field_errors,
            notice="Fix the fields marked below; nothing else was changed.",
        )
    if op == "save":
        return _save(project, instance, service, working, revision)
    try:
        state.update(_apply_op(working, op))
    except editing.EditError as error:
        state["op_error"] = error
        if error.where == editing.ADD_FORM:
            state["focus"] = f"new-{error.field or 'step_id'}"
        return _render_editor(project, instance, working, revision, status=422, **state)
    return _render_editor(project, instance, working, revision, **state)


def _apply_op(working: dict, op: str) -> dict[str, Any]:
    """Run one step control on the working copy; return the notice and what to focus."""
    action, _, argument = op.partition(":")
    if action in ("up", "down"):
        path, notice = editing.move(
            working, editing.parse_path(argument), -1 if action == "up" else 1
        )
        return {"notice": notice, "focus": f"{action}-{'-'.join(map(str, path))}"}
    if action == "remove":
        focus, notice = editing.remove(working, editing.parse_path(argument))
        target = f"s-{'-'.join(map(str, focus))}" if focus else "add-step"
        return {"notice": notice, "focus": target}
    if action == "dropfield":
        where, _, name = argument.partition(":")
        path = editing.parse_path(where)
        notice = editing.drop_field(working, path, name)
        return {"notice": notice, "focus": f"s-{'-'.join(map(str, path))}", "open": {where}}
    if action == "add":
        fields = {name: request.form.get(f"new-{name}", "") for name in editing.NEW_STEP_FIELDS}
        path = editing.add_step(working, fields, request.form.get("new-place", "end:"))
        return {
            "notice": f"Added step {fields['step_id'].strip()}. Save to keep it.",
            "focus": f"s-{'-'.join(map(str, path))}",
        }
    if action == "apply":
        return {"notice": "Applied your field edits to the working copy. Save to keep them."}
    raise editing.EditError("Unknown action; reload the page.")


def _save(
    project: Project,
    instance: WorkflowInstance,
    service: WorkflowInstanceService,
    working: dict,
    revision: int,
):
    """One full replacement at the revision the page was loaded at, or why it was refused."""
    data, errors = load_form(ReasonSchema())
    if data is None:
        return _render_editor(
            project, instance, working, revision, status=422, reason_errors=errors
        )
    try:
        before = instance.revision
        with transaction():
            saved = service.update_instance(
                project,
                working,
                current_user.username,
                expected_revision=revision,
                reason=data["reason"],
            )
    except (PreconditionFailed, ConcurrentChange):
        now = service.get_instance(project).revision
        stale = (
            f"This workflow was changed since you opened it (now revision {now}). Reload to see "
            "the latest and apply your edit again."
        )
        return _render_editor(project, instance, working, revision, status=409, stale=stale)
    except ValidationFailed as error:
        return _render_editor(
            project,
            instance,
            working,
            revision,
            status=422,
            validation=error.errors or {},
            validation_detail=error.detail,
        )
    except AppError as error:
        flash(_message(error), "error")
        return redirect(_panel_url(project))
    if saved.revision == before:
        flash("Nothing to save: the workflow is unchanged.", "success")
    else:
        flash(f"Saved the workflow as revision {saved.revision}.", "success")
    return redirect(_panel_url(project))


def _posted_revision() -> int:
    try:
        return int(request.form["revision"])
    except (KeyError, ValueError):
        abort(400)


def _posted_working_copy() -> dict:
    try:
        # The page's own JSON, read by the same I-JSON reader as every field. A field may hold
        # a value nested up to the reader's limit inside steps, so the whole copy may be
        # deeper: Save refuses that, next to the field, rather than this reader with a 400.
        working = read_json(request.form["working_copy"], max_depth=2 * MAX_JSON_DEPTH)
    except (KeyError, ValueError):
        abort(400)
    # Every door of the editor refuses NUL and unpaired surrogates, so a copy holding one was
    # not made by this page (and a surrogate could not even be sent back as HTML).
    if not isinstance(working, dict) or text_problems(working):
        abort(400)
    return working


def _render_editor(
    project: Project,
    instance: WorkflowInstance,
    working: dict,
    revision: int,
    *,
    status: int = 200,
    field_errors: dict | None = None,
    validation: dict | None = None,
    validation_detail: str | None = None,
    op_error: editing.EditError | None = None,
    **state: Any,
):
    """The editor page, or only its form's body when workflow.js asked for a partial."""
    step_errors, general_errors = _errors_by_step(validation or {}, field_errors or {}, op_error)
    views = step_views(working)
    live = _live_problems(instance, working)
    context = {
        "project": project,
        "workflow": instance,
        "working": working,
        "working_json": as_json(working),
        "json_text": state.pop("json_text", None) or as_json(ordered_definition(working), 2),
        "revision": revision,
        "steps": views,
        "error_steps": [
            (view.anchor, view.number, view.step_id, step_errors[view.key])
            for view in _flatten(views)
            if view.key in step_errors
        ],
        "places": editing.place_options(working),
        "pending": _pending_changes(instance, working, revision),
        "step_errors": step_errors,
        "general_errors": general_errors,
        "validation_detail": validation_detail,
        "add_error": op_error if op_error and op_error.where == editing.ADD_FORM else None,
        "add_values": {
            name: request.form.get(f"new-{name}", "") for name in editing.NEW_STEP_FIELDS
        }
        if op_error and op_error.where == editing.ADD_FORM
        else {},
        "add_place": request.form.get("new-place", "end:"),
        "open_steps": state.pop("open", set()) | set(step_errors) | live["steps_with_errors"],
        "live_problems": live,
        **state,
    }
    template = (
        "workflow/_editor.html" if request.headers.get(PARTIAL_HEADER) else "workflow/edit.html"
    )
    return render_template(template, **context), status


def _live_problems(instance: WorkflowInstance, working: dict) -> dict[str, Any]:
    """The working copy's problems (the rules every door applies), placed where a person edits:
    under the field they concern, on the step, or on the workflow. An error that Save would
    refuse (one the saved workflow does not have) says so."""
    found = rules.problems(working)
    refused = {
        (problem.code, problem.pointer)
        for problem in rules.errors_added(instance.effective_workflow, working, found)
    }
    by_field: dict[tuple[str, str], list] = {}
    by_step: dict[str, list] = {}
    on_workflow: list = []
    errors = warnings = 0
    steps_with_errors: set[str] = set()
    for problem in found:
        note = (problem.severity, problem.message, (problem.code, problem.pointer) in refused)
        errors += problem.severity == rules.ERROR
        warnings += problem.severity == rules.WARNING
        path, field = editing.locate(problem.pointer)
        if path is None:
            on_workflow.append((field, *note))
            continue
        key = editing.path_key(path)
        step = editing.step_or_none(working, path)
        if problem.severity == rules.ERROR:
            steps_with_errors.add(key)
        if field and isinstance(step, dict) and field in step:
            by_field.setdefault((key, field), []).append(note)
        else:
            by_step.setdefault(key, []).append((field, *note))
    return {
        "by_field": by_field,
        "by_step": by_step,
        "on_workflow": on_workflow,
        "errors": errors,
        "warnings": warnings,
        "refused": len(refused),
        "steps_with_errors": steps_with_errors,
    }


def _flatten(views: list[StepView]) -> list[StepView]:
    """Every step view in document order, nested ones after their parent."""
    flat = []
    for view in views:
        flat.append(view)
        flat.extend(_flatten(view.children))
    return flat


def _errors_by_step(
    validation: dict[str, list[str]],
    field_errors: dict[tuple[str, str], str],
    op_error: editing.EditError | None,
) -> tuple[dict[str, list[tuple[str | None, str]]], list[str]]:
    """Sort messages onto the steps they belong to (by path key); the rest are general."""
    by_step: dict[str, list[tuple[str | None, str]]] = {}
    general: list[str] = []
    for pointer, messages in validation.items():
        path, field = editing.locate(pointer)
        for message in messages:
            if path is None:
                general.append(f"{field}: {message}" if field else message)
            else:
                by_step.setdefault(editing.path_key(path), []).append((field, message))
    for (key, field), message in field_errors.items():
        by_step.setdefault(key, []).append((field, message))
    if op_error is not None and op_error.where != editing.ADD_FORM:
        if op_error.where:
            by_step.setdefault(op_error.where, []).append((op_error.field, op_error.message))
        else:
            general.append(op_error.message)
    return by_step, general


def _pending_changes(instance: WorkflowInstance, working: dict, revision: int) -> list[str] | None:
    """The working copy's unsaved changes in words; None when they cannot be worked out."""
    if revision != instance.revision or validate_pow(working, source="config"):
        return None
    changes = structural.diff_definitions(instance.effective_workflow, working)
    return [
        sentence
        for change_type, detail in structural.history_changes(changes, revision + 1)
        for sentence in describe_entry(change_type, detail, "You")
    ]
