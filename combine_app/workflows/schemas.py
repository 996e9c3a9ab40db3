"""Marshmallow schemas for workflow instance requests and responses (spec phase 4)."""

from __future__ import annotations

import re

from marshmallow import fields, validate

from combine_app.schemas import PageArgs, StrictSchema, Trimmed
from combine_app.workflows.models import MAX_DEVIATION_KEY_LENGTH, REASON_LIMIT

IDENTIFIER = validate.Regexp(r"^[a-z][a-z0-9_]*$", error="Must match ^[a-z][a-z0-9_]*$.")
SEMVER = validate.Regexp(r"^\d+\.\d+\.\d+$", error="Must be a version like 1.0.0.")


class CreateWorkflowInstanceSchema(StrictSchema):
    """Body of ``POST /projects/{id}/workflow``; ``version`` defaults to the active release."""

    workflow_id = Trimmed(required=True, validate=[validate.Length(max=100), IDENTIFIER])
    version = Trimmed(load_default=None, allow_none=True, validate=SEMVER)


class Reason(Trimmed):
    """Why a change is made: plain text, trimmed, at most REASON_LIMIT characters; blank is none."""

    default_error_messages = {"too_long": f"At most {REASON_LIMIT} characters."}

    def __init__(self, **kwargs):
        kwargs.setdefault("load_default", None)
        kwargs.setdefault("allow_none", True)
        kwargs.setdefault("metadata", {"description": self.__doc__, "maxLength": REASON_LIMIT})
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if len(text) > REASON_LIMIT:
            raise self.make_error("too_long")
        return text or None


class UpdateWorkflowInstanceSchema(StrictSchema):
    """Body of ``PUT /projects/{id}/workflow``: the full replacement definition and why."""

    effective_workflow = fields.Dict(required=True)
    reason = Reason()


class ReasonSchema(StrictSchema):
    """Body of ``…/complete`` and ``…/archive``: optional, ``{reason?}``."""

    reason = Reason()


class RestoreSchema(StrictSchema):
    """Body of ``POST …/workflow/restore``: the revision to make current again, and why."""

    revision = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=2_000_000_000)
    )
    reason = Reason()


_REVISION_NUMBER = re.compile(r"^[1-9][0-9]{0,8}$")


class Side(Trimmed):
    """One side of a comparison: a revision number, ``current`` or ``source``."""

    default_error_messages = {
        "side": "Must be a revision number (1, 2, ...), 'current' or 'source'."
    }

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if text in ("current", "source"):
            return text
        if _REVISION_NUMBER.match(text):
            return int(text)
        raise self.make_error("side")


class CompareArgs(StrictSchema):
    """``from`` and ``to`` of the compare endpoint."""

    from_ = Side(required=True, data_key="from")
    to = Side(required=True)


class RevisionSchema(StrictSchema):
    """The effective workflow as it stood after one revision."""

    revision = fields.Integer()
    definition = fields.Dict()
    changed_at = fields.DateTime()
    changed_by = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)
    content_hash = fields.String()


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
    reason = fields.String(allow_none=True)


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
