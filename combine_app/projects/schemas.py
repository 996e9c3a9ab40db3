"""Marshmallow schemas for project requests and responses."""

from __future__ import annotations

from marshmallow import ValidationError, fields, validate, validates_schema

from combine_app.schemas import PageArgs, StrictSchema, Trimmed

NAME_LENGTH = validate.Length(min=1, max=200)
DESCRIPTION_LENGTH = validate.Length(max=10_000)


class ProjectCreateSchema(StrictSchema):
    """Body of ``POST /projects``."""

    name = Trimmed(required=True, validate=NAME_LENGTH)
    description = Trimmed(load_default="", validate=DESCRIPTION_LENGTH)


class ProjectPatchSchema(StrictSchema):
    """Body of ``PATCH /projects/{id}``: name and/or description."""

    name = Trimmed(validate=NAME_LENGTH)
    description = Trimmed(validate=DESCRIPTION_LENGTH)

    @validates_schema
    def _needs_something(self, data, **kwargs):
        if not data:
            raise ValidationError("Send name and/or description.", "_schema")


class ProjectListArgs(PageArgs):
    """Query arguments of ``GET /projects``."""

    search = Trimmed(load_default="", validate=validate.Length(max=200))
    include_archived = fields.Boolean(load_default=False)


class ProjectSchema(StrictSchema):
    """A project as the API returns it."""

    id = fields.UUID()
    project_id = fields.String()
    name = fields.String()
    description = fields.String()
    status = fields.String()
    is_archived = fields.Boolean()
    owner = fields.Function(lambda project: project.owner.username)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
