"""Schema pieces shared by the feature packages."""

from __future__ import annotations

from http import HTTPStatus

from marshmallow import RAISE, Schema, fields, validate

MAX_PAGE_SIZE = 100
PROBLEM_JSON = "application/problem+json"


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


class DescribedDict(fields.Dict):
    """A mapping kept exactly as sent, described in the API by ``described_by``.

    For documents with keys of their own (a POW definition): a Nested schema would drop on dump
    what it does not name, and the rules the document must follow live in the service.
    """

    def __init__(self, described_by: type[Schema], **kwargs):
        super().__init__(**kwargs)
        self.described_by = described_by


class StrictSchema(Schema):
    """Refuses keys it does not know, so typos surface as 422 instead of being ignored."""

    class Meta:
        unknown = RAISE


class PageArgs(StrictSchema):
    """``offset`` and ``limit`` query arguments, bounded."""

    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=10_000_000))
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=MAX_PAGE_SIZE))


class ResponseSchema(StrictSchema):
    """A response body: the API description lists every field as always present, none else.

    Marshmallow ignores ``required`` on dump, so the OpenAPI converter
    (``combine_app.api.openapi``) marks each dumped field of these schemas required and the
    object closed. A key that may be absent belongs in a schema that is not a ResponseSchema.
    """


class PageSchema(ResponseSchema):
    """The paging fields every list page answers with."""

    total = fields.Integer(validate=validate.Range(min=0))
    offset = fields.Integer(validate=validate.Range(min=0))
    limit = fields.Integer(validate=validate.Range(min=1))


class ProblemSchema(StrictSchema):
    """RFC 9457 problem details: the one error body of ``/api/v1``."""

    type = fields.String(required=True)
    title = fields.String(required=True, validate=validate.Length(min=1))
    status = fields.Integer(required=True, validate=validate.Range(min=400, max=599))
    detail = fields.String(required=True, validate=validate.Length(min=1))
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": "Messages by field name or JSON pointer."},
    )


problem_schema = ProblemSchema()


def problem_body(status: int, detail: str, errors: dict | None = None) -> dict:
    """The problem+json body of ``status``; ``errors`` only when there are some."""
    body = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status}
    body["detail"] = detail
    if errors:
        body["errors"] = errors
    return problem_schema.dump(body)
