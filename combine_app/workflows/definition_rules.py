"""The one rule for what a workflow definition may hold, whichever door it comes through.

The workflow service calls ``definition_problems`` before it stores a definition, so the API's
PUT and POST, the editor's Save and the intake refuse the same things with the same messages:
POW structure, portable JSON values (``combine_app.portable_json``: numbers within 2^53 - 1,
no NUL or unpaired surrogate, bounded nesting) and a size that fits in a request body, so
that whatever is stored can be read and sent back by PUT unchanged.
"""

from __future__ import annotations

from flask import current_app, has_app_context

from combine_app.catalog.validation import Errors, validate_pow
from combine_app.portable_json import compact_size
from combine_app.settings import MAX_BODY_BYTES

# What a PUT body adds around the definition: {"effective_workflow":...}.
_PUT_ENVELOPE = len('{"effective_workflow":}')


def max_definition_bytes() -> int:
    """The largest definition (compact JSON) whose PUT body still fits under the body limit."""
    limit = current_app.config.get("MAX_CONTENT_LENGTH") if has_app_context() else None
    return (limit or MAX_BODY_BYTES) - _PUT_ENVELOPE


def definition_problems(definition: object) -> Errors:
    """Messages by JSON pointer for everything that keeps ``definition`` from being stored."""
    errors = validate_pow(definition, source="config")
    if errors:
        return errors
    size, limit = compact_size(definition), max_definition_bytes()
    if size > limit:
        return {
            "": [
                f"The definition is {size:,} bytes as compact JSON; at most {limit:,} fit in "
                "a request body."
            ]
        }
    return {}
