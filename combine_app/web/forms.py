"""Reading HTML forms: through the API's marshmallow schemas, and within size limits."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import IO

from flask import Request, current_app, request, session
from marshmallow import Schema, ValidationError
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.utils import cached_property

_READ_SIZE = 64 * 1024


def load_form(schema: Schema) -> tuple[dict | None, dict]:
    """Load the posted form fields the schema knows; return (data, errors)."""
    submitted = {name: request.form[name] for name in schema.fields if name in request.form}
    try:
        return schema.load(submitted), {}
    except ValidationError as error:
        return None, error.messages


def shown_revision() -> int | None:
    """The workflow revision the posted form was shown at (its hidden ``revision`` field), or
    None when it sent none: a change from a stale page is then refused as a stale If-Match is."""
    text = request.form.get("revision", "")
    return int(text) if text.isdigit() and len(text) < 10 else None


# The editor's form works without JavaScript, so between actions it carries the working copy
# three times: as a hidden JSON field, as one control per step field, and as the "edit as
# JSON" text (indented). Each is about the size of the definition, which the shared rule holds
# to the API's body limit; multipart encoding adds a header per control. So that form may be
# larger than other bodies: FORM_LIMIT_FACTOR times the body limit, with as many parts as
# MAX_STEPS steps need, and only for a signed-in session (a stranger's body stays small).
FORM_LIMIT_FACTOR = 6
MAX_EDITOR_FORM_PARTS = 250_000


def large_form(view: Callable) -> Callable:
    """Mark a view whose form may carry a whole definition (see FORM_LIMIT_FACTOR)."""
    view.large_form = True  # type: ignore[attr-defined]
    return view


class CombineRequest(Request):
    """Flask's request, with larger form limits for the views marked ``large_form``.

    Decided from the matched view, before anything reads the body: Flask-WTF's CSRF check
    reads the form before the view runs, so a limit set inside the view would come too late.
    """

    def _large_form(self) -> bool:
        view = current_app.view_functions.get(self.endpoint or "")
        return getattr(view, "large_form", False) and "_user_id" in session

    @property
    def max_content_length(self) -> int | None:
        """The body limit; FORM_LIMIT_FACTOR times larger for a signed-in editor form."""
        limit = super().max_content_length
        return limit * FORM_LIMIT_FACTOR if limit and self._large_form() else limit

    @cached_property
    def stream(self) -> IO[bytes]:
        """The body, held to ``max_content_length`` however it is framed.

        With a ``Content-Length`` Werkzeug refuses a body past the limit (413) before reading.
        Without one (``Transfer-Encoding: chunked``) it would stop reading at the limit and
        hand on the truncated body: here the body is read up to one byte past the limit, and
        a body that has that byte is 413 too, never a shorter body that happens to parse.
        """
        limit = self.max_content_length
        if self.content_length is not None or limit is None:
            return super().stream
        if "wsgi.input_terminated" not in self.environ:
            return io.BytesIO()  # no length and no terminating server: nothing can be read
        raw = self.environ["wsgi.input"]
        parts, size = [], 0
        while size <= limit:
            part = raw.read(min(_READ_SIZE, limit + 1 - size))
            if not part:
                break
            parts.append(part)
            size += len(part)
        if size > limit:
            raise RequestEntityTooLarge()
        return io.BytesIO(b"".join(parts))

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value

    @property
    def max_form_memory_size(self) -> int | None:
        """Largest single form field: a whole definition for a signed-in editor form."""
        if self._large_form():
            return self.max_content_length
        return super().max_form_memory_size

    @max_form_memory_size.setter
    def max_form_memory_size(self, value: int | None) -> None:
        self._max_form_memory_size = value

    @property
    def max_form_parts(self) -> int | None:
        """Most form fields: one per step field for a signed-in editor form."""
        if self._large_form():
            return MAX_EDITOR_FORM_PARTS
        return super().max_form_parts

    @max_form_parts.setter
    def max_form_parts(self, value: int | None) -> None:
        self._max_form_parts = value
