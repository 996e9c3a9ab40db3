"""DeviationService: accept a current drift item with a reason, withdraw it, list acceptances.

Accepting and withdrawing change the instance's governance record, so they need the rights
editing needs (409 for an archived project or an instance that is not active), add one to the
instance's revision like every change, and write their history entry in the same transaction.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from combine_app.catalog.loader import PackageLoader
from combine_app.database import utcnow
from combine_app.errors import Conflict, NotFound, ValidationFailed
from combine_app.projects.models import Project
from combine_app.workflows.deviations import AcceptedDeviationRepository, as_acceptance
from combine_app.workflows.drift_items import acceptance_status
from combine_app.workflows.models import REASON_LIMIT, AcceptedDeviation, WorkflowInstance
from combine_app.workflows.revisions import checkpoint_due, write_checkpoint
from combine_app.workflows.service import WorkflowInstanceService

ACCEPTED_CHANGE = "deviation_accepted"
WITHDRAWN_CHANGE = "deviation_withdrawn"


class DeviationService:
    """Business rules for the accepted deviations of a project's workflow instance."""

    def __init__(self, session: Session, loader: PackageLoader):
        self.session = session
        self.workflows = WorkflowInstanceService(session, loader)
        self.deviations = AcceptedDeviationRepository(session)

    def accept(self, project: Project, key: str, reason: str, accepted_by: str) -> dict[str, Any]:
        """Accept the current drift item ``key`` with a reason; returns the acceptance.

        422 naming ``reason`` when it is empty or too long, naming ``key`` when the key is not a
        current difference. Accepting again replaces the earlier acceptance (its fingerprint and
        reason); an identical repeat writes nothing.
        """
        instance = self._editable_instance(project)
        reason = check_reason(reason)
        drift = self.workflows.drift_of(instance)
        item = next((item for item in drift["items"] if item["key"] == key), None)
        if item is None:
            raise ValidationFailed(
                f"{key!r} is not a current difference of this workflow.",
                {"/key": [_not_a_difference(key, drift)]},
            )
        existing = self.deviations.get(instance.id, key)
        if (
            existing is not None
            and existing.fingerprint == item["fingerprint"]
            and existing.reason == reason
        ):
            return self._described(existing, item)
        self.workflows.instances.touch(instance)
        if existing is None:
            existing = self.deviations.add(AcceptedDeviation(instance_id=instance.id, key=key))
        replaced = as_acceptance(existing) if existing.fingerprint else None
        existing.kind = item["kind"]
        existing.reason = reason
        existing.fingerprint = item["fingerprint"]
        existing.accepted_by = accepted_by
        existing.accepted_at = utcnow()
        existing.revision = instance.revision
        detail = {
            "revision": instance.revision,
            "key": key,
            "kind": item["kind"],
            "step_id": item["step_id"],
            "field": item["field"],
            "origin": item["origin"],
            "reason": reason,
            "fingerprint": item["fingerprint"],
        }
        if replaced is not None:
            detail["replaces"] = {name: replaced[name] for name in ("reason", "fingerprint")}
        self._record(instance, ACCEPTED_CHANGE, detail, accepted_by, reason)
        return self._described(existing, item)

    def withdraw(self, project: Project, key: str, withdrawn_by: str) -> None:
        """Withdraw the acceptance of ``key``; 404 when there is none."""
        instance = self._editable_instance(project)
        existing = self.deviations.get(instance.id, key)
        if existing is None:
            raise NotFound(f"No accepted deviation with the key {key!r}.")
        acceptance = as_acceptance(existing)
        self.deviations.delete(existing)
        self.workflows.instances.touch(instance)
        detail = {
            "revision": instance.revision,
            "key": key,
            "kind": acceptance["kind"],
            "reason": acceptance["reason"],
            "accepted_by": acceptance["accepted_by"],
            "accepted_at": acceptance["accepted_at"],
        }
        self._record(instance, WITHDRAWN_CHANGE, detail, withdrawn_by, None)

    def list(self, project: Project) -> list[dict[str, Any]]:
        """Every acceptance of the project's instance, oldest first, each with its status now."""
        instance = self.workflows.get_instance(project)
        items = {item["key"]: item for item in self.workflows.drift_of(instance)["items"]}
        return [
            self._described(row, items.get(row.key))
            for row in self.deviations.for_instance(instance.id)
        ]

    def _editable_instance(self, project: Project) -> WorkflowInstance:
        """The instance, locked, when its deviations may be changed; 409 otherwise."""
        # The same rule, and message, as every other change of the workflow.
        self.workflows._ensure_editable_project(project)
        instance = self.workflows.get_instance(project, for_update=True)
        if instance.status != "active":
            raise Conflict(
                f"The workflow is {instance.status}; only an active one can be changed, "
                "and accepting or withdrawing a deviation is a change."
            )
        return instance

    def _record(
        self,
        instance: WorkflowInstance,
        change_type: str,
        detail: dict[str, Any],
        changed_by: str,
        reason: str | None,
    ) -> None:
        """The history entry of the change, and the checkpoint its revision may be due."""
        self.workflows.instances.add_history(
            instance, change_type, detail, changed_by, reason=reason
        )
        if checkpoint_due(instance.revision):
            write_checkpoint(self.session, instance)
        self.session.flush()

    @staticmethod
    def _described(row: AcceptedDeviation, item: dict[str, Any] | None) -> dict[str, Any]:
        acceptance = as_acceptance(row)
        items = {row.key: item} if item is not None else {}
        return {**acceptance, "status": acceptance_status(acceptance, items)}


def check_reason(reason: str | None) -> str:
    """The reason trimmed; 422 naming ``reason`` when it is missing, blank or too long."""
    text = (reason or "").strip()
    if not text:
        raise ValidationFailed(
            "Say why this difference is intended.", {"/reason": ["A reason is required."]}
        )
    if len(text) > REASON_LIMIT:
        message = f"At most {REASON_LIMIT:,} characters (this one has {len(text):,})."
        raise ValidationFailed("The reason is too long.", {"/reason": [message]})
    return text


def _not_a_difference(key: str, drift: dict[str, Any]) -> str:
    if not drift["source_available"]:
        return "The source can no longer be loaded, so no difference can be named or accepted."
    if not drift["items"]:
        return "The workflow is in sync with its source: there is nothing to accept."
    return f"No current difference has this key; the drift lists {len(drift['items'])}."
