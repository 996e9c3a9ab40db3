"""Projects together with their workflow state, each read in a single query."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, func

from combine_app.extensions import db
from combine_app.projects.models import Project
from combine_app.workflows.models import WorkflowInstance


@dataclass(frozen=True)
class ProjectRow:
    """A project and the state of its workflow instance (None: no workflow)."""

    project: Project
    workflow_status: str | None
    workflow_ref: dict | None = None
    workflow_revision: int | None = None

    @property
    def has_workflow(self) -> bool:
        """Whether the project has a workflow instance."""
        return self.workflow_status is not None


def _with_workflow(query: Select) -> Select:
    return query.outerjoin(WorkflowInstance, WorkflowInstance.project_id == Project.id).add_columns(
        WorkflowInstance.status, WorkflowInstance.base_workflow_ref, WorkflowInstance.revision
    )


def page(query: Select, offset: int, limit: int) -> tuple[list[ProjectRow], int]:
    """One page of projects with workflow states and the total, in one statement.

    The total rides along as a window count; only a page past the end needs a second query.
    """
    rows = db.session.execute(
        _with_workflow(query)
        .add_columns(func.count().over().label("total"))
        .order_by(Project.created_at.desc(), Project.project_id.desc())
        .offset(offset)
        .limit(limit)
    ).all()
    if rows:
        total = rows[0].total
    else:
        total = db.session.scalar(
            db.select(func.count()).select_from(query.order_by(None).subquery())
        )
    return [ProjectRow(row[0], row[1], row[2], row[3]) for row in rows], total


def one(query: Select) -> ProjectRow | None:
    """A single project (already narrowed by ``query``) with its workflow state."""
    row = db.session.execute(_with_workflow(query)).first()
    return ProjectRow(row[0], row[1], row[2], row[3]) if row else None
