"""Schema pieces shared by the feature packages."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

MAX_PAGE_SIZE = 100


class Trimmed(fields.String):
    """A string with surrounding white space removed on load; NUL is refused.

    PostgreSQL cannot hold NUL in text, and the driver refuses it even as a query parameter
    (``?search=%00`` was a 500): a query argument never passes the JSON body's checks.
    """

    default_error_messages = {"nul": "Must not contain a NUL character (\\u0000)."}

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if "\x00" in text:
            raise self.make_error("nul")
        return text.strip()


class StrictSchema(Schema):
    """Refuses keys it does not know, so typos surface as 422 instead of being ignored."""

    class Meta:
        unknown = RAISE


class PageArgs(StrictSchema):
    """``offset`` and ``limit`` query arguments, bounded."""

    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=10_000_000))
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=MAX_PAGE_SIZE))
