"""Schema pieces shared by the feature packages."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

MAX_PAGE_SIZE = 100


class Trimmed(fields.String):
    """A string with surrounding white space removed on load."""

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).strip()


class StrictSchema(Schema):
    """Refuses keys it does not know, so typos surface as 422 instead of being ignored."""

    class Meta:
        unknown = RAISE


class PageArgs(StrictSchema):
    """``offset`` and ``limit`` query arguments, bounded."""

    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=10_000_000))
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=MAX_PAGE_SIZE))
