"""The workbench listing's response schemas: the one description of a workbench row."""

from __future__ import annotations

from marshmallow import fields, validate

from combine_app.catalog import validation as pow_rules
from combine_app.schemas import ResponseSchema
from combine_app.workflows.schemas import DerivedFromSchema


class WorkbenchRowSchema(ResponseSchema):
    """One reference or template POW, as its active release describes it (a WorkflowInfo)."""

    workflow_id = fields.String()
    name = fields.String()
    description = fields.String()
    active_version = fields.String()
    versions = fields.List(fields.String(), metadata={"description": "Ascending by semver."})
    pow_class = fields.String(validate=validate.OneOf(pow_rules.CONFIG_POW_CLASSES))
    derived_from = fields.Nested(DerivedFromSchema, allow_none=True)
    source_version = fields.String(allow_none=True)
    tags = fields.List(fields.String())
    step_count = fields.Integer(validate=validate.Range(min=0))
    schema_version = fields.String(allow_none=True)


class WorkbenchListingSchema(ResponseSchema):
    """Every reference and template POW in the config folder."""

    workflows = fields.List(fields.Nested(WorkbenchRowSchema))
    total = fields.Integer(validate=validate.Range(min=0))
