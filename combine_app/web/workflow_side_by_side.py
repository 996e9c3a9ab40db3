"""The side-by-side page: two versions of the workflow in two columns, steps aligned by step_id.

The sides are those the compare page takes (a revision number, ``current`` or ``source``),
by default the source and the current revision. Both are checked at once, and what is wrong
with each is said next to its own field, in the API's words.
"""

from __future__ import annotations

from flask import render_template, request
from flask_login import login_required

from combine_app.definition.tree import ordered_step_fields
from combine_app.web import web
from combine_app.web.workflow import instance_service, project_for
from combine_app.web.workflow_revisions import resolved_sides, side_options
from combine_app.workflows.side_by_side import side_by_side

DEFAULT_SIDES = {"from": "source", "to": "current"}

web.add_app_template_filter(ordered_step_fields, "step_fields")


@web.get("/projects/<project_id>/workflow/side-by-side")
@login_required
def workflow_side_by_side(project_id: str):
    """Two versions of the workflow side by side: ``from`` on the left, ``to`` on the right."""
    project = project_for(project_id)
    service = instance_service()
    instance = service.get_instance(project)
    chosen = {name: request.args.get(name) or default for name, default in DEFAULT_SIDES.items()}
    sides, errors, status = resolved_sides(service, instance, chosen)
    view = side_by_side(sides["from"].definition, sides["to"].definition) if sides else None
    return render_template(
        "workflow/side_by_side.html",
        project=project,
        workflow=instance,
        picker=side_options(service, instance, chosen),
        chosen=chosen,
        errors=errors,
        sides=sides,
        view=view,
    ), status
