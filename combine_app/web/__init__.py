"""The HTML pages blueprint (templates and static files live beside it)."""

from flask import Blueprint

web = Blueprint(
    "web",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

from combine_app.web import (  # noqa: E402,F401  (routes register on import)
    projects,
    workflow,
    workflow_deviations,
    workflow_revisions,
)
