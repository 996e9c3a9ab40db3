"""Marshmallow schemas for workflow instance requests and responses (spec phase 4)."""

from __future__ import annotations

from marshmallow import fields, validate

from combine_app.schemas import PageArgs, StrictSchema, Trimmed
from combine_app.workflows.models import MAX_DEVIATION_KEY_LENGTH, REASON_LIMIT

IDENTIFIER = validate.Regexp(r"^[a-z][a-z0-9_]*$", error="Must match ^[a-z][a-z0-9_]*$.")
SEMVER = validate.Regexp(r"^\d+\.\d+\.\d+$", error="Must be a version like 1.0.0.")


class CreateWorkflowInstanceSchema(StrictSchema):
    """Body of ``POST /projects/{id}/workflow``; ``version`` defaults to the active release."""

    workflow_id = Trimmed(required=True, validate=[validate.Length(max=100), IDENTIFIER])
    version = Trimmed(load_default=None, allow_none=True, validate=SEMVER)


class UpdateWorkflowInstanceSchema(StrictSchema):
    """Body of ``PUT /projects/{id}/workflow``: the full replacement definition."""

    effective_workflow = fields.Dict(required=True)


class HistoryArgs(PageArgs):
    """``limit`` and ``offset`` of the history endpoint."""


class WorkflowInstanceSchema(StrictSchema):
    """An instance as the API returns it."""

    id = fields.UUID()
    project_id = fields.UUID()
    project_key = fields.Function(lambda instance: instance.project.project_id)
    base_workflow_ref = fields.Dict()
    effective_workflow = fields.Dict()
    status = fields.String()
    revision = fields.Integer()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class HistoryEntrySchema(StrictSchema):
    """One history entry."""

    id = fields.UUID()
    change_type = fields.String()
    change_detail = fields.Dict(allow_none=True)
    changed_at = fields.DateTime()
    changed_by = fields.String(allow_none=True)
    revision = fields.Integer()


class AcceptDeviationSchema(StrictSchema):
    """Body of ``POST /projects/{id}/workflow/deviations``: the drift item's key and why."""

    key = fields.String(
        required=True, validate=validate.Length(min=1, max=MAX_DEVIATION_KEY_LENGTH)
    )
    reason = Trimmed(required=True, validate=validate.Length(min=1, max=REASON_LIMIT))


class AcceptedDeviationSchema(StrictSchema):
    """An accepted deviation, with what it is to the current drift (``status``)."""

    key = fields.String()
    kind = fields.String()
    reason = fields.String()
    fingerprint = fields.String()
    accepted_by = fields.String(allow_none=True)
    accepted_at = fields.String()
    revision = fields.Integer()
    status = fields.String()
