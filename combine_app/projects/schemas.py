"""Marshmallow schemas for project requests and responses."""

from __future__ import annotations

from marshmallow import ValidationError, fields, validate, validates_schema

from combine_app.projects.models import ROLES
from combine_app.schemas import (
    PageArgs,
    PageSchema,
    ResponseSchema,
    StrictSchema,
    Trimmed,
    WholeNumber,
)
from combine_app.workflows.models import STATUSES as WORKFLOW_STATUSES
from combine_app.workflows.schemas import WorkflowInstanceSchema

NAME_LENGTH = validate.Length(min=1, max=200)
PROJECT_STATUSES = ("active", "archived")
DESCRIPTION_LENGTH = validate.Length(max=10_000)


class ProjectCreateSchema(StrictSchema):
    """Body of ``POST /projects``."""

    name = Trimmed(required=True, validate=NAME_LENGTH)
    description = Trimmed(load_default="", validate=DESCRIPTION_LENGTH)


class PolicyPatchSchema(StrictSchema):
    """The policy keys to change; the keys not sent stay as they are."""

    four_eyes = fields.Boolean(
        metadata={"description": "Nobody decides a request they made or a difference they made."}
    )
    review_days = WholeNumber(
        allow_none=True,
        validate=validate.Range(min=1, max=3650),
        metadata={"description": "Acceptances need a review date at most this many days ahead."},
    )


class ProjectPatchSchema(StrictSchema):
    """Body of ``PATCH /projects/{id}``: name, description and/or policy."""

    name = Trimmed(validate=NAME_LENGTH)
    description = Trimmed(validate=DESCRIPTION_LENGTH)
    policy = fields.Nested(PolicyPatchSchema)

    @validates_schema
    def _needs_something(self, data, **kwargs):
        if not data:
            raise ValidationError("Send name, description and/or policy.", "_schema")


class PolicySchema(ResponseSchema):
    """A project's governance policy."""

    four_eyes = fields.Boolean()
    review_days = fields.Integer(allow_none=True)


class MemberSchema(ResponseSchema):
    """A member of a project and their role."""

    username = fields.String()
    role = fields.String(validate=validate.OneOf(ROLES))
    added_by = fields.String()
    added_at = fields.DateTime()


class MemberListSchema(ResponseSchema):
    """A project's members, owners first."""

    members = fields.List(fields.Nested(MemberSchema))
    total = fields.Integer()


class SetMemberSchema(StrictSchema):
    """Body of ``PUT /projects/{id}/members/{username}`` (its own name: a generator names the
    member's role enum MemberRole)."""

    role = fields.String(required=True, validate=validate.OneOf(ROLES))


class ProjectListArgs(PageArgs):
    """Query arguments of ``GET /projects``."""

    search = Trimmed(load_default="", validate=validate.Length(max=200))
    include_archived = fields.Boolean(load_default=False)


class ProjectSchema(ResponseSchema):
    """A project as the API returns it."""

    id = fields.UUID()
    project_id = fields.String(metadata={"description": "The human key, e.g. SPD-001."})
    name = fields.String()
    description = fields.String()
    status = fields.String(validate=validate.OneOf(PROJECT_STATUSES))
    is_archived = fields.Boolean()
    owner = fields.String(
        attribute="owner.username", metadata={"description": "The owner's username."}
    )
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    your_role = fields.String(
        validate=validate.OneOf(ROLES),
        metadata={"description": "The caller's role (owner for an administrator)."},
    )
    policy = fields.Nested(PolicySchema)


def _workflow_status() -> fields.String:
    return fields.String(
        allow_none=True,
        validate=validate.OneOf(WORKFLOW_STATUSES),
        metadata={
            "description": "The workflow instance's status; null when there is none.",
            "schema": "WorkflowStatus",
        },
    )


class ProjectListItemSchema(ProjectSchema):
    """A project in a list, with the state of its workflow: dumped from a row of exactly these
    columns (``projects.overview.LIST_COLUMNS``)."""

    owner = fields.String(metadata={"description": "The owner's username."})
    has_workflow = fields.Boolean()
    workflow_status = _workflow_status()

    def get_attribute(self, obj, attr, default):
        """The policy from the row's two policy columns (no policy row: the defaults)."""
        if attr == "policy":
            return {
                "four_eyes": bool(obj.policy_four_eyes),
                "review_days": obj.policy_review_days,
            }
        return super().get_attribute(obj, attr, default)


class ProjectListSchema(PageSchema):
    """One page of the projects the caller may see, newest first."""

    projects = fields.List(fields.Nested(ProjectListItemSchema))


class ProjectFromIntakeSchema(ProjectSchema):
    """The project an intake made, with its workflow (null when none was named)."""

    workflow = fields.Nested(WorkflowInstanceSchema, allow_none=True)

    def get_attribute(self, obj, attr, default):
        """The workflow from the intake result, the rest from its project."""
        source = obj if attr == "workflow" else obj.project
        return super().get_attribute(source, attr, default)


class TreeWorkflowSchema(ResponseSchema):
    """The workflow state a project tree shows."""

    workflow_id = fields.String()
    version = fields.String()
    pow_class = fields.String(allow_none=True)
    status = fields.String(validate=validate.OneOf(WORKFLOW_STATUSES))
    revision = fields.Integer(validate=validate.Range(min=1))


class ProjectTreeSchema(ResponseSchema):
    """A project with its workflow state."""

    project = fields.Nested(ProjectSchema)
    has_workflow = fields.Boolean()
    workflow_status = _workflow_status()
    workflow = fields.Nested(TreeWorkflowSchema, allow_none=True)
