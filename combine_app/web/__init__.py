"""The HTML pages blueprint (templates and static files live beside it)."""

from flask import Blueprint
from flask_login import current_user

from combine_app.projects import roles

web = Blueprint(
    "web",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)


@web.app_template_global()
def may(project, action: str) -> bool:
    """Whether the signed-in user's role in ``project`` allows ``action`` (what a page offers)."""
    return roles.allows(roles.role_of(project, current_user), action)


from combine_app.web import (  # noqa: E402,F401  (routes register on import)
    glossary,
    members,
    projects,
    workflow,
    workflow_deviations,
    workflow_editor,
    workflow_revisions,
    workflow_side_by_side,
)
