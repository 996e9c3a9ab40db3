"""Creating a project from an intake document, optionally with its workflow, all or nothing."""

from __future__ import annotations

from dataclasses import dataclass

from marshmallow import fields, validate
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from combine_app.auth.models import User
from combine_app.catalog.loader import PackageLoader
from combine_app.errors import ValidationFailed
from combine_app.extensions import db
from combine_app.projects import service
from combine_app.projects.models import Project
from combine_app.schemas import StrictSchema, Trimmed
from combine_app.workflows.models import WorkflowInstance
from combine_app.workflows.schemas import IDENTIFIER, SEMVER
from combine_app.workflows.service import WorkflowInstanceService

NAME_LIMIT = 200


class IntakeRequestSchema(StrictSchema):
    """Body of ``POST /projects/from-intake``; the intake document itself is kept as sent."""

    intake_document = fields.Dict(
        required=True,
        metadata={
            "description": "Kept as sent. The project is named by project_name, else by the "
            "first line of summary.description."
        },
    )
    workflow_id = Trimmed(load_default=None, allow_none=True, validate=IDENTIFIER)
    workflow_version = Trimmed(load_default=None, allow_none=True, validate=SEMVER)
    execution_id = Trimmed(load_default=None, allow_none=True, validate=validate.Length(1, 200))


@dataclass(frozen=True)
class IntakeResult:
    """What an intake produced, and whether it was made just now."""

    project: Project
    workflow: WorkflowInstance | None
    created: bool


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def _summary_description(document: dict) -> str:
    summary = document.get("summary")
    if isinstance(summary, dict):
        return _text(summary.get("description")) or _text(summary.get("title"))
    return _text(summary)


def project_name(document: dict) -> str:
    """``project_name``, else the first line of the summary's description, shortened."""
    name = _text(document.get("project_name"))
    if not name:
        summary = _summary_description(document)
        name = summary.splitlines()[0].strip() if summary else ""
    if not name:
        raise ValidationFailed(
            "The intake names no project: give intake_document.project_name or a summary "
            "with a description.",
            {"/intake_document/project_name": ["Missing or empty."]},
        )
    if len(name) > NAME_LIMIT:
        name = name[: NAME_LIMIT - 1].rsplit(" ", 1)[0].rstrip(" ,.;:") + "…"
    return name


def _execution_id(data: dict) -> str | None:
    pointer, execution_id = "/execution_id", data.get("execution_id")
    if not execution_id:
        pointer = "/intake_document/execution_id"
        execution_id = _text(data["intake_document"].get("execution_id"))
    if execution_id and len(execution_id) > 200:
        raise ValidationFailed("execution_id is at most 200 characters.", {pointer: ["Too long."]})
    return execution_id or None


def _existing(owner: User, execution_id: str) -> Project | None:
    return db.session.scalar(
        select(Project).where(
            Project.owner_id == owner.id, Project.intake_execution_id == execution_id
        )
    )


def create_from_intake(owner: User, data: dict, loader: PackageLoader) -> IntakeResult:
    """Create the project (and its workflow when asked) in the caller's transaction.

    A repeated intake with the same execution id returns the project it already made. Any
    failure raises, and the caller's rollback leaves no half-made project behind.
    """
    document = data["intake_document"]
    execution_id = _execution_id(data)
    if execution_id:
        existing = _existing(owner, execution_id)
        if existing is not None:
            return IntakeResult(existing, existing.workflow_instance, created=False)
    name = project_name(document)
    summary = _summary_description(document)
    description = _text(document.get("description")) or (summary if summary != name else "")
    try:
        project = service.create_project(
            owner,
            name,
            description[:10_000],
            intake_document=document,
            intake_execution_id=execution_id,
        )
    except IntegrityError:
        # Another request with the same execution id won the race: answer with its project.
        existing = _existing(owner, execution_id) if execution_id else None
        if existing is None:
            raise
        return IntakeResult(existing, existing.workflow_instance, created=False)
    instance = None
    if data.get("workflow_id"):
        try:
            instance = WorkflowInstanceService(db.session, loader).create_instance(
                project, data["workflow_id"], data.get("workflow_version"), owner.username
            )
        except ValidationFailed as error:
            errors = {
                ("/workflow_version" if key == "/version" else key): value
                for key, value in (error.errors or {}).items()
            }
            raise ValidationFailed(error.detail, errors) from error
    return IntakeResult(project, instance, created=True)
