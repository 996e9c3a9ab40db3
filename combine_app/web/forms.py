"""Reading HTML forms through the same marshmallow schemas the API uses."""

from __future__ import annotations

from flask import request
from marshmallow import Schema, ValidationError


def load_form(schema: Schema) -> tuple[dict | None, dict]:
    """Load the posted form fields the schema knows; return (data, errors)."""
    submitted = {name: request.form[name] for name in schema.fields if name in request.form}
    try:
        return schema.load(submitted), {}
    except ValidationError as error:
        return None, error.messages
