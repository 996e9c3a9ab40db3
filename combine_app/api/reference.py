"""The browsable API reference: the generated OpenAPI document as a page, for signed-in users.

Rendered on the server from the same document ``/api/v1/openapi.json`` serves, in the app's own
layout: no script, nothing fetched but the app's stylesheet, so it reads with a keyboard and a
screen reader like every other page (reference_outline.py says what is shown).
"""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import login_required

from combine_app.api.openapi import openapi_document
from combine_app.api.reference_outline import outline

reference = Blueprint(
    "api_reference", __name__, url_prefix="/api-reference", template_folder="templates"
)


@reference.get("/")
@login_required
def page():
    """The API reference page."""
    return render_template("api/reference.html", reference=outline(openapi_document()))
