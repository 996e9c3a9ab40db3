"""Requests waiting for one person's decision, across every project they may decide in.

Read in a fixed number of statements however many projects there are: the undecided requests
with their instances and projects, then (only when there are some) the drift of those instances,
what the person saved in them and the projects' policies.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from combine_app import clock
from combine_app.auth.models import User
from combine_app.catalog.errors import CatalogError
from combine_app.catalog.loader import PackageLoader
from combine_app.projects import roles
from combine_app.projects.models import Project
from combine_app.workflows.deviations import authorship_in
from combine_app.workflows.drift_items import REQUESTED, STEP_MOVED
from combine_app.workflows.four_eyes import approval_refusal
from combine_app.workflows.models import AcceptedDeviation, WorkflowInstance
from combine_app.workflows.move_words import sentences_by_step
from combine_app.workflows.service import WorkflowInstanceService


@dataclass(frozen=True)
class Waiting:
    """One request the person may approve: its project, drift item and the request itself, and
    the workflow's revision when it was read (a decision made from it is refused once stale)."""

    project: Project
    item: dict[str, Any]
    request: dict[str, Any]
    revision: int
    move_words: str | None = None  # a moved step's item, as every page tells that move


def waiting_for(
    session: Session, loader: PackageLoader, user: User, today: Callable[[], date] = clock.today
) -> list[Waiting]:
    """The requests ``user`` may approve now, by project key then request time.

    A request counts while its difference is as it was asked for, its project and workflow may
    change, and neither the caller's role nor the project's four-eyes policy refuses them.
    """
    found = session.execute(
        select(WorkflowInstance, Project)
        .join(Project, Project.id == WorkflowInstance.project_id)
        .where(
            WorkflowInstance.status == "active",
            Project.archived_at.is_(None),
            roles.decides_in(user),
            WorkflowInstance.id.in_(
                select(AcceptedDeviation.instance_id).where(AcceptedDeviation.status == REQUESTED)
            ),
        )
        .order_by(Project.project_id)
    ).all()
    if not found:
        return []
    instances = [instance for instance, _ in found]
    drifts = WorkflowInstanceService(session, loader, today).drifts_of(instances)
    saved = authorship_in(session, [instance.id for instance in instances], user.username)
    policies = roles.policies_of([project for _, project in found])
    waiting = []
    for instance, project in found:
        four_eyes = policies[project.id].four_eyes
        requests = [
            item
            for item in drifts[instance.id]["items"]
            if item["acceptance"] is not None and item["acceptance"]["status"] == REQUESTED
        ]
        requests.sort(key=lambda item: item["acceptance"]["requested_at"])
        for item in requests:
            refusal = approval_refusal(
                user.username, item["acceptance"], item, saved[instance.id], four_eyes
            )
            if refusal is None:
                words = _move_words(loader, instance, drifts[instance.id], item)
                waiting.append(Waiting(project, item, item["acceptance"], instance.revision, words))
    return waiting


def _move_words(
    loader: PackageLoader, instance: WorkflowInstance, drift: dict, item: dict
) -> str | None:
    """A moved step's item in the words of ``move_words`` (None for any other item)."""
    if item["kind"] != STEP_MOVED:
        return None
    ref = instance.base_workflow_ref
    try:
        source = loader.get_definition(ref["workflow_id"], ref["version"])
    except CatalogError:
        source = None
    words = sentences_by_step(drift["step_moves"], source, instance.effective_workflow)
    return words.get(item["step_id"])
