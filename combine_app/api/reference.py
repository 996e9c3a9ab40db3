"""The browsable API reference: Swagger UI over the generated document, for signed-in users.

The Swagger UI files come from the ``swagger-ui-bundle-v2`` package and are served by the app
itself (no CDN); the page's own script only points Swagger UI at ``/api/v1/openapi.json`` and
adds the CSRF token to the requests a signed-in user tries out from the page.
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template, send_from_directory
from flask_login import login_required
from swagger_ui_bundle import swagger_ui_path

reference = Blueprint(
    "api_reference",
    __name__,
    url_prefix="/api-reference",
    template_folder="templates",
    static_folder="static",
)
# The Swagger UI files the page loads; nothing else of the package is served.
SWAGGER_UI_FILES = frozenset(
    {"swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png", "favicon-16x16.png"}
)


@reference.get("/")
@login_required
def page():
    """The API reference page."""
    return render_template("api/reference.html")


@reference.get("/swagger-ui/<name>")
@login_required
def swagger_ui(name: str):
    """One of the Swagger UI files, from the installed package."""
    if name not in SWAGGER_UI_FILES:
        abort(404)
    return send_from_directory(swagger_ui_path, name, max_age=3600)
