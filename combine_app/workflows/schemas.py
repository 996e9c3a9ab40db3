"""Marshmallow schemas for workflow instance requests and responses (spec phase 4).

The response schemas dump what the views answer with and, through the API's OpenAPI
converter, describe it: a field added here is sent and documented at once.
"""

from __future__ import annotations

import re

from marshmallow import INCLUDE, Schema, fields, validate

from combine_app.catalog import validation as pow_rules
from combine_app.definition import patterns
from combine_app.schemas import (
    DescribedDict,
    FullMatch,
    PageArgs,
    PageSchema,
    ResponseSchema,
    StrictSchema,
    Trimmed,
    WholeNumber,
)
from combine_app.workflows import drift_items, history_export
from combine_app.workflows.models import (
    CHANGE_TYPES,
    DEVIATION_KEY_LENGTH_WORDS,
    MAX_DEVIATION_KEY_LENGTH,
    REASON_LIMIT,
    STATUSES,
)

# One pattern each, shared with the config loader and validation (combine_app/definition).
IDENTIFIER = FullMatch(
    patterns.IDENTIFIER_PATTERN, f"Must be an identifier: it {patterns.IDENTIFIER_WORDS}."
)
SEMVER = FullMatch(patterns.SEMVER_PATTERN, patterns.SEMVER_WORDS)
# Described as the rules the service applies (catalog/validation.py); loaded by it, not here.
_ID = [validate.Length(min=1, max=pow_rules.MAX_ID_LENGTH), IDENTIFIER]
_POW_CLASS = validate.OneOf(pow_rules.CONFIG_POW_CLASSES)


class CreateWorkflowInstanceSchema(StrictSchema):
    """Body of ``POST /projects/{id}/workflow``: which release of which POW to snapshot."""

    workflow_id = Trimmed(required=True, validate=[validate.Length(max=100), IDENTIFIER])
    version = Trimmed(required=True, validate=SEMVER)


class DerivedFromSchema(Schema):
    """The POW a template was derived from."""

    class Meta:
        unknown = INCLUDE

    workflow_id = fields.String(required=True, validate=_ID)
    version = fields.String(required=True, validate=SEMVER)


class StepSchema(Schema):
    """A step; a step with ``iterate_over`` may hold nested steps. Unknown keys are kept."""

    class Meta:
        unknown = INCLUDE

    step_id = fields.String(required=True, validate=_ID)
    steps = fields.List(fields.Nested(lambda: StepSchema()))


class PowDefinitionSchema(Schema):
    """A POW definition; unknown keys are kept.

    Describes what the workflow service accepts (catalog/validation.py holds the rules: step_ids
    unique across the whole tree, at most MAX_STEPS steps nested at most MAX_DEPTH deep). A
    definition is stored and answered as sent, so it is dumped as a plain mapping.
    """

    class Meta:
        unknown = INCLUDE

    workflow_id = fields.String(required=True, validate=_ID)
    name = Trimmed(required=True, validate=validate.Length(min=1))
    pow_class = fields.String(required=True, validate=_POW_CLASS)
    description = fields.String()
    schema_version = fields.String()
    source_version = fields.String(allow_none=True, validate=SEMVER)
    tags = fields.List(fields.String())
    derived_from = fields.Nested(DerivedFromSchema, allow_none=True)
    steps = fields.List(fields.Nested(StepSchema), required=True)


class Reason(Trimmed):
    """Why a change is made: plain text, trimmed, at most 1,000 characters; blank is none."""

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
    """Body of ``PUT /projects/{id}/workflow``: the full replacement definition, and why."""

    effective_workflow = DescribedDict(PowDefinitionSchema, required=True)
    reason = Reason()


class ReasonSchema(StrictSchema):
    """Body of ``…/complete`` and ``…/archive``: ``{reason?}``, or no body at all."""

    # The API's request reader answers {} for an empty body of such a schema (no 415).
    BODY_OPTIONAL = True

    reason = Reason()


class RestoreSchema(StrictSchema):
    """Body of ``POST …/workflow/restore``: the revision to make current again, and why."""

    revision = WholeNumber(required=True, validate=validate.Range(min=1, max=2_000_000_000))
    reason = Reason()


_REVISION_NUMBER = re.compile(r"^[1-9][0-9]{0,8}$")


class Side(Trimmed):
    """One side of a comparison: a revision number, ``current`` or ``source``."""

    default_error_messages = {
        "side": "Must be a revision number (1, 2, ...), 'current' or 'source'."
    }

    def __init__(self, **kwargs):
        kwargs.setdefault(
            "metadata",
            {
                "description": "A revision number, `current`, or `source` (the source release "
                "as it is now).",
                "pattern": r"^([1-9][0-9]{0,8}|current|source)$",
            },
        )
        super().__init__(**kwargs)

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


class HistoryArgs(PageArgs):
    """``limit`` and ``offset`` of the history endpoint."""


class HistoryExportArgs(StrictSchema):
    """``format`` of the history export: ``csv`` (the default) or ``jsonl``."""

    format = fields.String(load_default="csv", validate=validate.OneOf(history_export.FORMATS))


class BaseWorkflowRefSchema(ResponseSchema):
    """Which release an instance was snapshotted from, and the hash of what it held then."""

    workflow_id = fields.String(validate=_ID)
    version = fields.String(validate=SEMVER)
    pow_class = fields.String(validate=_POW_CLASS)
    content_hash = fields.String(validate=validate.Regexp(r"^sha256:[0-9a-f]{64}$"))


class WorkflowInstanceSchema(ResponseSchema):
    """An instance as the API returns it."""

    id = fields.UUID()
    project_id = fields.UUID()
    project_key = fields.String(
        metadata={"description": "The project's human key, e.g. SPD-001."},
    )
    base_workflow_ref = fields.Nested(BaseWorkflowRefSchema)
    effective_workflow = DescribedDict(PowDefinitionSchema)
    status = fields.String(validate=validate.OneOf(STATUSES))
    revision = fields.Integer(validate=validate.Range(min=1))
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class HistoryEntrySchema(ResponseSchema):
    """One history entry."""

    id = fields.UUID()
    change_type = fields.String(validate=validate.OneOf(CHANGE_TYPES))
    change_detail = fields.Dict(
        allow_none=True,
        metadata={
            "description": "What changed, as INTERFACE.md gives it per change_type.",
            "schema": "ChangeDetail",
        },
    )
    changed_at = fields.DateTime()
    changed_by = fields.String(allow_none=True)
    revision = fields.Integer(validate=validate.Range(min=1))
    reason = fields.String(allow_none=True, metadata={"description": "Why, as its author said."})


class HistoryPageSchema(PageSchema):
    """One page of an instance's history, newest first."""

    entries = fields.List(fields.Nested(HistoryEntrySchema))


class FieldChangeSchema(ResponseSchema):
    """One field that differs: its old and new value (null when absent on that side)."""

    field = fields.String()
    old = fields.Raw(allow_none=True)
    new = fields.Raw(allow_none=True)
    change = fields.String(validate=validate.OneOf(("added", "removed", "changed")))


class StepMoveSchema(ResponseSchema):
    """A step that moved: its old and new parent (null: top level) and position."""

    step_id = fields.String()
    from_parent = fields.String(allow_none=True)
    to_parent = fields.String(allow_none=True)
    from_position = fields.Integer(validate=validate.Range(min=0))
    to_position = fields.Integer(validate=validate.Range(min=0))


class StepChangesSchema(ResponseSchema):
    """A step whose own fields differ, with each field's change."""

    step_id = fields.String()
    changes = fields.List(fields.Nested(FieldChangeSchema))


class RevisionSchema(ResponseSchema):
    """The effective workflow exactly as it stood after one revision, and who, when and why."""

    revision = fields.Integer(validate=validate.Range(min=1))
    definition = DescribedDict(PowDefinitionSchema)
    changed_at = fields.DateTime()
    changed_by = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)
    content_hash = fields.String(validate=validate.Regexp(r"^sha256:[0-9a-f]{64}$"))


class CompareSideSchema(ResponseSchema):
    """One side of a comparison: as asked, its revision (null for the source) and hash."""

    side = fields.String()
    revision = fields.Integer(allow_none=True, validate=validate.Range(min=1))
    content_hash = fields.String(validate=validate.Regexp(r"^sha256:[0-9a-f]{64}$"))


class StepAdditionSchema(ResponseSchema):
    """A step on the ``to`` side only: its place there and its own fields."""

    step_id = fields.String()
    parent = fields.String(allow_none=True)
    position = fields.Integer(validate=validate.Range(min=0))
    step = fields.Dict()


class StepRemovalSchema(ResponseSchema):
    """A step on the ``from`` side only: its place there."""

    step_id = fields.String()
    parent = fields.String(allow_none=True)
    position = fields.Integer(validate=validate.Range(min=0))


class ChangesFields(ResponseSchema):
    """The step and metadata fields that drift and compare share: one definition of their words."""

    steps_added = fields.List(fields.String())
    steps_removed = fields.List(fields.String())
    steps_reordered = fields.Boolean()
    steps_moved = fields.List(fields.String())
    step_moves = fields.List(fields.Nested(StepMoveSchema))
    steps_modified = fields.List(fields.String())
    step_changes = fields.List(fields.Nested(StepChangesSchema))
    metadata_changed = fields.Boolean()
    metadata_changes = fields.List(fields.Nested(FieldChangeSchema))


class CompareResponseSchema(ChangesFields):
    """What differs from ``from`` to ``to``, in drift's words, and enough to apply it."""

    from_ = fields.Nested(CompareSideSchema, data_key="from", attribute="from")
    to = fields.Nested(CompareSideSchema)
    step_additions = fields.List(fields.Nested(StepAdditionSchema))
    step_removals = fields.List(fields.Nested(StepRemovalSchema))
    is_same = fields.Boolean()


class DriftResponseSchema(ChangesFields):
    """How an instance differs from its source now; computed at read time, never stored."""

    base_workflow_id = fields.String()
    base_version = fields.String()
    is_drifted = fields.Boolean()
    source_available = fields.Boolean()
    source_changed = fields.Boolean()
    latest_version = fields.String(allow_none=True)
    items = fields.List(fields.Nested(lambda: DriftItemSchema()))
    unexplained_count = fields.Integer(validate=validate.Range(min=0))
    is_drifted_unexplained = fields.Boolean()


class AcceptDeviationSchema(StrictSchema):
    """Body of ``POST /projects/{id}/workflow/deviations``: the drift item's key, why, and the
    last UTC date the acceptance should explain it (optional unless the policy sets
    ``review_days``)."""

    key = fields.String(
        required=True,
        validate=validate.Length(
            min=1, max=MAX_DEVIATION_KEY_LENGTH, error=DEVIATION_KEY_LENGTH_WORDS
        ),
    )
    reason = Trimmed(required=True, validate=validate.Length(min=1, max=REASON_LIMIT))
    review_by = fields.Date(load_default=None, allow_none=True)


class ApproveDeviationSchema(StrictSchema):
    """Body of ``POST …/workflow/deviations/{key}/approve``: ``{note?}``, or no body at all."""

    BODY_OPTIONAL = True

    note = Reason(metadata={"description": "What the approver adds (plain text, optional)."})


class RejectDeviationSchema(StrictSchema):
    """Body of ``POST …/workflow/deviations/{key}/reject``: why the request is refused."""

    reason = Trimmed(required=True, validate=validate.Length(min=1, max=REASON_LIMIT))


class AcceptedDeviationSchema(ResponseSchema):
    """A request for, or an acceptance of, a deviation, with what it is to the drift now
    (``status``; ``rejected`` only in the answer to a rejection)."""

    key = fields.String()
    kind = fields.String(validate=validate.OneOf(drift_items.KINDS))
    status = fields.String(
        validate=validate.OneOf((*drift_items.ACCEPTANCE_STATUSES, drift_items.REJECTED))
    )
    reason = fields.String()
    review_by = fields.String(allow_none=True, metadata={"format": "date"})
    requested_by = fields.String(allow_none=True)
    requested_at = fields.String(metadata={"format": "date-time"})
    accepted_by = fields.String(allow_none=True)
    accepted_at = fields.String(allow_none=True, metadata={"format": "date-time"})
    note = fields.String(allow_none=True)
    fingerprint = fields.String()
    revision = fields.Integer(validate=validate.Range(min=1))


class AcceptedDeviationListSchema(ResponseSchema):
    """Every deviation request and acceptance of an instance, oldest request first."""

    deviations = fields.List(fields.Nested(AcceptedDeviationSchema))
    total = fields.Integer(validate=validate.Range(min=0))


class DriftItemSchema(ResponseSchema):
    """One difference between the source and the instance.

    ``source`` and ``instance`` hold each side's value (field kinds; ``change`` tells a missing
    field from null) or place (step kinds; null on the side where the step is not).
    """

    key = fields.String(validate=validate.Length(min=1))
    kind = fields.String(validate=validate.OneOf(drift_items.KINDS))
    step_id = fields.String(allow_none=True)
    field = fields.String(allow_none=True)
    change = fields.String(
        allow_none=True,
        validate=validate.OneOf(("added", "removed", "changed")),
        metadata={
            "description": "How the field differs; null for a step.",
            "schema": "FieldChangeKind",
        },
    )
    source = fields.Raw(allow_none=True)
    instance = fields.Raw(allow_none=True)
    origin = fields.String(validate=validate.OneOf(drift_items.ORIGINS))
    fingerprint = fields.String(validate=validate.Regexp(r"^sha256:[0-9a-f]{64}$"))
    explained = fields.Boolean()
    acceptance = fields.Nested(AcceptedDeviationSchema, allow_none=True)


class ProblemItemSchema(ResponseSchema):
    """One reason the workflow cannot run (error) or may not run as meant (warning)."""

    severity = fields.String(validate=validate.OneOf(("error", "warning")))
    code = fields.String(metadata={"description": "The rule, e.g. unknown_document_type."})
    message = fields.String()
    pointer = fields.String(metadata={"description": "A JSON pointer into the definition."})


class ProblemsSchema(ResponseSchema):
    """Whether the instance's workflow can run: errors block a save that adds them."""

    problems = fields.List(fields.Nested(ProblemItemSchema))
    error_count = fields.Integer()
    warning_count = fields.Integer()
