"""The workflow editor page: a working copy of the steps edited action by action, checked
against the definition's rules after each, and saved as one change at the loaded revision.

The operations themselves are pure (``combine_app.definition.editing``); this module reads the
form, applies one, and renders the page (or only its form, for workflow.js).
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request
from flask_login import current_user, login_required

from combine_app.catalog.validation import validate_pow
from combine_app.definition import editing, rules
from combine_app.errors import (
    AppError,
    NotFound,
    ValidationFailed,
)
from combine_app.portable_json import MAX_JSON_DEPTH, read_json, text_problems
from combine_app.projects import roles
from combine_app.projects.models import Project
from combine_app.web import web
from combine_app.web.forms import large_form, load_form
from combine_app.web.unit import back_to, flash_back, is_stale, page_change, stale_message
from combine_app.web.workflow import (
    PARTIAL_HEADER,
    instance_service,
    panel_url,
    project_for,
    read_only_reason,
)
from combine_app.web.workflow_view import StepView, as_json, ordered_definition, step_views
from combine_app.web.workflow_words import describe_entry
from combine_app.workflows import diff as structural
from combine_app.workflows.models import WorkflowInstance
from combine_app.workflows.move_words import Orders, move_sentences, sibling_orders
from combine_app.workflows.schemas import ReasonSchema
from combine_app.workflows.service import WorkflowInstanceService

# From this many steps on, the editor sends the fields of a step only once it is opened (and
# the whole-definition JSON only once asked for): the working copy travels in one hidden field
# either way, so a step whose fields were not sent keeps them. An editor of 1,000 steps was
# 6.7 MB of HTML, four fifths of it fields nobody had opened.
LAZY_FROM_STEPS = 100


@web.route("/projects/<project_id>/workflow/edit", methods=["GET", "POST"])
@large_form
@login_required
def workflow_edit(project_id: str):
    """Edit a working copy of the steps; Save writes it as one change at the loaded revision.

    A member whose role may not save is refused (403 naming the role) rather than shown an
    editor whose Save would fail."""
    project = project_for(project_id, roles.SAVE_WORKFLOW)
    service = instance_service()
    try:
        instance = service.get_instance(project)
    except NotFound:
        flash("Assign a workflow before editing it.", "error")
        return redirect(panel_url(project))
    reason = read_only_reason(project, instance)
    if reason:
        flash(reason, "error")
        return redirect(panel_url(project))
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
        start = editing.parse_path(argument)
        before = sibling_orders(working)
        path, notice = editing.move(working, start, -1 if action == "up" else 1)
        return {
            "notice": _move_notice(working, start, path, before, action) or notice,
            "focus": f"{action}-{'-'.join(map(str, path))}",
        }
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
    if action == "open":
        path = editing.parse_path(argument)
        if editing.step_or_none(working, path) is None:
            raise editing.EditError("That step is gone; reload the page.")
        return {"open": {editing.path_key(path)}, "focus": f"s-{'-'.join(map(str, path))}"}
    if action == "open_json":
        return {"open_json": True, "focus": "definition_json"}
    if action == "apply":
        return {"notice": "Applied your field edits to the working copy. Save to keep them."}
    raise editing.EditError("Unknown action; reload the page.")


def _move_notice(
    working: dict, start: editing.Path, path: editing.Path, before: Orders, direction: str
) -> str | None:
    """The notice of an Up or Down in the words every page uses for that change (None when a
    step involved has no step_id to name)."""
    parent = editing.step_or_none(working, path[:-1]) if len(path) > 1 else None
    moved = editing.step_or_none(working, path)
    parent_id = parent.get("step_id") if isinstance(parent, dict) else None
    step_id = moved.get("step_id") if isinstance(moved, dict) else None
    if not isinstance(step_id, str) or (len(path) > 1 and not isinstance(parent_id, str)):
        return None
    move = {
        "step_id": step_id,
        "from_parent": parent_id,
        "to_parent": parent_id,
        "from_position": start[-1],
        "to_position": path[-1],
    }
    (sentence,) = move_sentences([move], before, sibling_orders(working))
    return f"Moved step {step_id} {direction}: {sentence}."


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
    before = instance.revision

    def refused(error: AppError):
        if is_stale(error):
            stale = stale_message(
                service.get_instance(project).revision,
                "Reload to see the latest and apply your edit again.",
            )
            return _render_editor(project, instance, working, revision, status=409, stale=stale)
        if isinstance(error, ValidationFailed):
            return _render_editor(
                project,
                instance,
                working,
                revision,
                status=422,
                validation=error.errors or {},
                validation_detail=error.detail,
            )
        return flash_back(panel_url(project))(error)

    def done(saved: WorkflowInstance):
        if saved.revision == before:
            return back_to(panel_url(project), "Nothing to save: the workflow is unchanged.")
        return back_to(panel_url(project), f"Saved the workflow as revision {saved.revision}.")

    return page_change(
        lambda: service.update_instance(
            project,
            working,
            current_user.username,
            expected_revision=revision,
            reason=data["reason"],
        ),
        done=done,
        refused=refused,
    )


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
    flat = _flatten(views)
    lazy = len(flat) >= LAZY_FROM_STEPS
    live = _live_problems(instance, working)
    open_steps = state.pop("open", set()) | set(step_errors) | live["steps_with_errors"]
    # Nothing to list (nor to validate) while the working copy is the saved workflow.
    unsaved = structural.content_hash(working) != structural.content_hash(
        instance.effective_workflow
    )
    if lazy and request.method == "POST":  # the steps the page had open stay open
        still_open = set(request.form.getlist("open"))
        open_steps |= {view.key for view in flat if view.step_id in still_open}
    asked_json = state.pop("open_json", False)
    json_shown = asked_json or not lazy
    context = {
        "project": project,
        "workflow": instance,
        "working": working,
        "working_json": as_json(working),
        "json_text": state.pop("json_text", None)
        or (as_json(ordered_definition(working), 2) if json_shown else ""),
        "lazy": lazy,
        "open_json": asked_json,
        "json_shown": json_shown,
        "revision": revision,
        "steps": views,
        "error_steps": [
            (view.anchor, view.number, view.step_id, step_errors[view.key])
            for view in flat
            if view.key in step_errors
        ],
        "places": editing.place_options(working),
        "pending": _pending_changes(instance, working, revision) if unsaved else [],
        "unsaved": unsaved,
        "step_errors": step_errors,
        # Each field's messages by (step key, field), read once per field by the template
        # (a filter chain per field cost 39% of the editor of 1,000 steps with no errors).
        "field_messages": _messages_by_field(step_errors),
        "general_errors": general_errors,
        "validation_detail": validation_detail,
        "add_error": op_error if op_error and op_error.where == editing.ADD_FORM else None,
        "add_values": {
            name: request.form.get(f"new-{name}", "") for name in editing.NEW_STEP_FIELDS
        }
        if op_error and op_error.where == editing.ADD_FORM
        else {},
        "add_place": request.form.get("new-place", "end:"),
        "open_steps": open_steps,
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


def _messages_by_field(
    step_errors: dict[str, list[tuple[str | None, str]]],
) -> dict[tuple[str, str], list[str]]:
    """The messages of each step's fields, keyed by (step key, field)."""
    by_field: dict[tuple[str, str], list[str]] = {}
    for key, messages in step_errors.items():
        for field, message in messages:
            if field is not None:
                by_field.setdefault((key, field), []).append(message)
    return by_field


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
    orders = (sibling_orders(instance.effective_workflow), sibling_orders(working))
    return [
        sentence
        for change_type, detail in structural.history_changes(changes, revision + 1)
        for sentence in describe_entry(change_type, detail, "You", orders)
    ]
