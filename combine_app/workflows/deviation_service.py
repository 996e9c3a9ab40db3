"""DeviationService: request the acceptance of a drift item, decide it, withdraw it, list them.

Every request, approval, rejection and withdrawal changes the instance's governance record: it
needs the rights editing needs (409 for an archived project or an instance that is not active),
honours the revision an ``If-Match`` insists on (412), adds one to the instance's revision like
every change, and writes its history entry in the same transaction. Who may do what comes from
the project's roles; with the project's ``four_eyes`` policy on, nobody decides a request they
made or a difference they made themselves (four_eyes.py holds those rules and their words).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session

from combine_app import clock
from combine_app.auth.models import User
from combine_app.catalog.loader import PackageLoader
from combine_app.database import utcnow
from combine_app.errors import Conflict, Forbidden, NotFound, ValidationFailed
from combine_app.projects import roles
from combine_app.projects.models import Project
from combine_app.workflows.deviations import (
    AcceptedDeviationRepository,
    as_acceptance,
    authorship_in,
)
from combine_app.workflows.drift_items import ACCEPTED, REJECTED, REQUESTED, acceptance_status
from combine_app.workflows.four_eyes import (
    approval_refusal,
    rejection_refusal,
    review_by_problem,
)
from combine_app.workflows.models import (
    DEVIATION_KEY_LENGTH_WORDS,
    MAX_DEVIATION_KEY_LENGTH,
    REASON_LIMIT,
    AcceptedDeviation,
    WorkflowInstance,
)
from combine_app.workflows.revisions import checkpoint_due, write_checkpoint
from combine_app.workflows.service import WorkflowInstanceService, require_revision

REQUESTED_CHANGE = "deviation_requested"
ACCEPTED_CHANGE = "deviation_accepted"
REJECTED_CHANGE = "deviation_rejected"
WITHDRAWN_CHANGE = "deviation_withdrawn"


class DeviationService:
    """Business rules for the deviation requests and acceptances of a project's workflow."""

    def __init__(
        self, session: Session, loader: PackageLoader, today: Callable[[], date] = clock.today
    ):
        self.session = session
        self.today = today
        self.workflows = WorkflowInstanceService(session, loader, today)
        self.deviations = AcceptedDeviationRepository(session)

    def request(
        self,
        project: Project,
        user: User,
        key: str,
        reason: str,
        review_by: date | None = None,
        *,
        expected_revision: int | None = None,
    ) -> dict[str, Any]:
        """Ask that the current drift item ``key`` be accepted, with why; returns the row.

        Accepted at once when the caller may decide alone (approver or owner, four-eyes off),
        otherwise ``requested``. 422 naming ``reason``, ``review_by`` or ``key`` when one breaks
        the rules. A request replaces whatever the key held (the history keeps it); an identical
        repeat writes nothing.
        """
        role = roles.require(project, user, roles.REQUEST_DEVIATION)
        instance = self._changeable_instance(project, expected_revision)
        reason = check_reason(reason)
        policy = roles.policy_of(project)
        problem = review_by_problem(review_by, self.today(), policy.review_days)
        if problem is not None:
            raise ValidationFailed(problem, {"/review_by": [problem]})
        if not 0 < len(key) <= MAX_DEVIATION_KEY_LENGTH:  # the API's schema refuses it first
            raise ValidationFailed(
                DEVIATION_KEY_LENGTH_WORDS, {"/key": [DEVIATION_KEY_LENGTH_WORDS]}
            )
        item = self._current_item(instance, key)
        status = ACCEPTED if roles.decides_alone(role, policy) else REQUESTED
        existing = self.deviations.get(instance.id, key)
        if existing is not None and _repeats(existing, item, reason, review_by, status):
            return self._described(existing, item)
        self.workflows.instances.touch(instance)
        replaced = as_acceptance(existing) if existing is not None else None
        if existing is None:
            existing = self.deviations.add(AcceptedDeviation(instance_id=instance.id, key=key))
        now = utcnow()
        existing.kind = item["kind"]
        existing.status = status
        existing.reason = reason
        existing.review_by = review_by
        existing.fingerprint = item["fingerprint"]
        existing.requested_by = user.username
        existing.requested_at = now
        accepted = status == ACCEPTED
        existing.accepted_by = user.username if accepted else None
        existing.accepted_at = now if accepted else None
        existing.note = None
        existing.revision = instance.revision
        detail = {
            **_item_detail(instance, item),
            "status": status,
            "reason": reason,
            "review_by": _iso(review_by),
        }
        if replaced is not None:
            detail["replaces"] = {
                name: replaced[name] for name in ("status", "reason", "fingerprint", "review_by")
            }
        change = ACCEPTED_CHANGE if accepted else REQUESTED_CHANGE
        self._record(instance, change, detail, user.username, reason)
        return self._described(existing, item)

    def approve(
        self,
        project: Project,
        user: User,
        key: str,
        note: str | None = None,
        *,
        expected_revision: int | None = None,
    ) -> dict[str, Any]:
        """Accept the request for ``key``: the item is explained from now on.

        404 without a request; 409 when it is accepted already, or its difference or the date
        it was asked for no longer holds; 403 (saying why) when four-eyes forbids the caller.
        """
        roles.require(project, user, roles.DECIDE_DEVIATION)
        instance = self._changeable_instance(project, expected_revision)
        row = self._request_of(instance, key)
        note = check_note(note)
        request = as_acceptance(row)
        item = self._current_item(instance, key, missing=None)
        if item is None or item["fingerprint"] != row.fingerprint:
            raise Conflict(
                "The difference changed since its acceptance was requested; ask for it again "
                "as it is now."
            )
        authorship = authorship_in(self.session, [instance.id], user.username)[instance.id]
        policy = roles.policy_of(project)
        refusal = approval_refusal(user.username, request, item, authorship, policy.four_eyes)
        if refusal is not None:
            raise Forbidden(refusal)
        problem = review_by_problem(row.review_by, self.today(), policy.review_days)
        if problem is not None:
            raise Conflict(f"{problem} Ask for it again with another review-by date.")
        self.workflows.instances.touch(instance)
        row.status = ACCEPTED
        row.accepted_by = user.username
        row.accepted_at = utcnow()
        row.note = note
        row.revision = instance.revision
        detail = {
            **_item_detail(instance, item),
            "status": ACCEPTED,
            "reason": row.reason,
            "review_by": request["review_by"],
            "requested_by": request["requested_by"],
            "requested_at": request["requested_at"],
            "note": note,
        }
        self._record(instance, ACCEPTED_CHANGE, detail, user.username, row.reason)
        return self._described(row, item)

    def reject(
        self,
        project: Project,
        user: User,
        key: str,
        reason: str,
        *,
        expected_revision: int | None = None,
    ) -> dict[str, Any]:
        """Refuse the request for ``key`` with a reason; the row goes, its history entry stays.

        Answers the request with status ``rejected`` and the rejection's reason as ``note``.
        403 for its own requester (who may withdraw it instead).
        """
        roles.require(project, user, roles.DECIDE_DEVIATION)
        instance = self._changeable_instance(project, expected_revision)
        row = self._request_of(instance, key)
        reason = check_reason(reason)
        request = as_acceptance(row)
        refusal = rejection_refusal(user.username, request)
        if refusal is not None:
            raise Forbidden(refusal)
        self.deviations.delete(row)
        self.workflows.instances.touch(instance)
        detail = {
            "revision": instance.revision,
            **{
                name: request[name]
                for name in ("key", "kind", "reason", "review_by", "requested_by", "requested_at")
            },
            "fingerprint": request["fingerprint"],
            "rejection": reason,
        }
        self._record(instance, REJECTED_CHANGE, detail, user.username, reason)
        return {**request, "status": REJECTED, "note": reason, "revision": instance.revision}

    def withdraw(
        self, project: Project, user: User, key: str, *, expected_revision: int | None = None
    ) -> None:
        """Withdraw the request or acceptance of ``key``; 404 when there is none.

        A request may be withdrawn by its requester or by an approver or owner; an acceptance
        by an approver or owner.
        """
        role = roles.require(project, user, roles.READ)
        instance = self._changeable_instance(project, expected_revision)
        existing = self.deviations.get(instance.id, key)
        if existing is None:
            raise NotFound(f"No deviation request or acceptance with the key {key!r}.")
        own_request = (
            existing.status == REQUESTED
            and existing.requested_by == user.username
            and roles.allows(role, roles.REQUEST_DEVIATION)
        )
        if not own_request:
            roles.require(project, user, roles.WITHDRAW_DEVIATION)
        withdrawn = as_acceptance(existing)
        self.deviations.delete(existing)
        self.workflows.instances.touch(instance)
        detail = {
            "revision": instance.revision,
            **{
                name: withdrawn[name]
                for name in (
                    "key",
                    "kind",
                    "status",
                    "reason",
                    "review_by",
                    "requested_by",
                    "accepted_by",
                    "accepted_at",
                )
            },
        }
        self._record(instance, WITHDRAWN_CHANGE, detail, user.username, None)

    def list(self, project: Project) -> list[dict[str, Any]]:
        """Every request and acceptance of the project's instance, oldest request first, each
        with its status now."""
        instance = self.workflows.get_instance(project)
        items = {item["key"]: item for item in self.workflows.drift_of(instance)["items"]}
        return [
            self._described(row, items.get(row.key))
            for row in self.deviations.for_instance(instance.id)
        ]

    def offers(self, project: Project, user: User, drift: dict[str, Any]) -> dict[str, Any]:
        """What ``user`` may do with this project's deviations now, for the pages: each right
        as None when allowed or the refusal in the API's words.

        ``request`` (ask for an acceptance), ``decides_alone`` (a request is accepted at once),
        ``withdraw_acceptance``, the review-by bounds (``today``, ``latest``, ``required``) and,
        for each requested item by key, ``approve``, ``reject`` and ``withdraw``.
        """
        role = roles.role_of(project, user)
        policy = roles.policy_of(project)
        today = self.today()
        latest = (
            today + timedelta(days=policy.review_days) if policy.review_days is not None else None
        )
        decide_refusal = roles.refusal(role, roles.DECIDE_DEVIATION)
        requested = [
            item
            for item in drift["items"]
            if item["acceptance"] is not None and item["acceptance"]["status"] == REQUESTED
        ]
        saved = None
        if requested and decide_refusal is None:
            instance = self.workflows.get_instance(project)
            saved = authorship_in(self.session, [instance.id], user.username)[instance.id]
        items = {}
        for item in requested:
            request = item["acceptance"]
            own = request["requested_by"] == user.username and roles.allows(
                role, roles.REQUEST_DEVIATION
            )
            items[item["key"]] = {
                "approve": decide_refusal
                or approval_refusal(user.username, request, item, saved, policy.four_eyes),
                "reject": decide_refusal or rejection_refusal(user.username, request),
                "withdraw": None if own else roles.refusal(role, roles.WITHDRAW_DEVIATION),
            }
        return {
            "request": roles.refusal(role, roles.REQUEST_DEVIATION),
            "decides_alone": role is not None and roles.decides_alone(role, policy),
            "withdraw_acceptance": roles.refusal(role, roles.WITHDRAW_DEVIATION),
            "today": today.isoformat(),
            "latest": latest.isoformat() if latest is not None else None,
            "required": policy.review_days is not None,
            "items": items,
        }

    def _changeable_instance(
        self, project: Project, expected_revision: int | None
    ) -> WorkflowInstance:
        """The instance, locked, when its deviations may change; 412 when ``expected_revision``
        is stale, 409 when the project or instance cannot change."""
        # The same rule, and message, as every other change of the workflow.
        self.workflows._ensure_editable_project(project)
        instance = self.workflows.get_instance(project, for_update=True)
        require_revision(instance, expected_revision)
        if instance.status != "active":
            raise Conflict(
                f"The workflow is {instance.status}; only an active one can be changed, and "
                "requesting, deciding or withdrawing a deviation is a change."
            )
        return instance

    def _current_item(self, instance: WorkflowInstance, key: str, **missing: Any) -> Any:
        """The drift item ``key`` now; 422 naming ``key`` when there is none (or ``missing``)."""
        drift = self.workflows.drift_of(instance)
        item = next((item for item in drift["items"] if item["key"] == key), None)
        if item is None:
            if "missing" in missing:
                return missing["missing"]
            raise ValidationFailed(
                f"{key!r} is not a current difference of this workflow.",
                {"/key": [_not_a_difference(drift)]},
            )
        return item

    def _request_of(self, instance: WorkflowInstance, key: str) -> AcceptedDeviation:
        """The undecided request for ``key``; 404 without one, 409 when it is decided."""
        row = self.deviations.get(instance.id, key)
        if row is None:
            raise NotFound(f"No request to accept the deviation {key!r}.")
        if row.status != REQUESTED:
            raise Conflict(
                f"The deviation {key!r} is accepted already; an approver or owner may withdraw "
                "the acceptance instead."
            )
        return row

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

    def _described(self, row: AcceptedDeviation, item: dict[str, Any] | None) -> dict[str, Any]:
        acceptance = as_acceptance(row)
        items = {row.key: item} if item is not None else {}
        return {**acceptance, "status": acceptance_status(acceptance, items, today=self.today())}


def check_reason(reason: str | None) -> str:
    """The reason trimmed; 422 naming ``reason`` when it is missing, blank or too long."""
    text = (reason or "").strip()
    if not text:
        raise ValidationFailed(
            "Say why this difference is intended.", {"/reason": ["A reason is required."]}
        )
    return _within_limit("reason", "The reason", text)


def check_note(note: str | None) -> str | None:
    """The approver's note trimmed (None when blank); 422 naming ``note`` when too long."""
    text = (note or "").strip()
    return _within_limit("note", "The note", text) if text else None


def _within_limit(name: str, what: str, text: str) -> str:
    if len(text) > REASON_LIMIT:
        message = f"At most {REASON_LIMIT:,} characters (this one has {len(text):,})."
        raise ValidationFailed(f"{what} is too long.", {f"/{name}": [message]})
    return text


def _repeats(
    row: AcceptedDeviation, item: dict, reason: str, review_by: date | None, status: str
) -> bool:
    """Whether a request would write what the row holds already (and is no weaker)."""
    return (
        row.fingerprint == item["fingerprint"]
        and row.reason == reason
        and row.review_by == review_by
        and (row.status == status or row.status == ACCEPTED)
    )


def _item_detail(instance: WorkflowInstance, item: dict[str, Any]) -> dict[str, Any]:
    return {
        "revision": instance.revision,
        "key": item["key"],
        "kind": item["kind"],
        "step_id": item["step_id"],
        "field": item["field"],
        "origin": item["origin"],
        "fingerprint": item["fingerprint"],
    }


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _not_a_difference(drift: dict[str, Any]) -> str:
    if not drift["source_available"]:
        return "The source can no longer be loaded, so no difference can be named or accepted."
    if not drift["items"]:
        return "The workflow is in sync with its source: there is nothing to accept."
    return f"No current difference has this key; the drift lists {len(drift['items'])}."
