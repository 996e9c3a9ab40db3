"""Small response helpers shared by the route modules."""

from __future__ import annotations

from flask import current_app
from werkzeug import Response


def no_content() -> Response:
    """An empty 204 answer (a Response, so flask-smorest sends it as it is)."""
    return current_app.response_class(status=204)
