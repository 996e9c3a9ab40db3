"""WorkflowInstanceService: instance lifecycle, history and drift (WS-ADR-046-001 phase 3).

Services add and flush in the caller's transaction and never commit, so an instance change and
its history entries land together or not at all.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

from sqlalchemy import Row, inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from combine_app import clock
from combine_app.catalog.errors import CatalogError, InvalidDefinition, UnknownVersion
from combine_app.catalog.loader import PackageLoader
from combine_app.definition import rules
from combine_app.errors import Conflict, NotFound, PreconditionFailed, ValidationFailed
from combine_app.projects.models import Project
from combine_app.workflows import diff as structural
from combine_app.workflows import drift_store
from combine_app.workflows.compare import comparison
from combine_app.workflows.definition_rules import definition_problems
from combine_app.workflows.deviations import AcceptedDeviationRepository, base_snapshots
from combine_app.workflows.drift_items import (
    computed_drift,
    drift_summary,
    summary_with_acceptances,
    with_acceptances,
)
from combine_app.workflows.models import WorkflowInstance
from combine_app.workflows.repository import WorkflowInstanceRepository
from combine_app.workflows.revisions import (
    Revision,
    RevisionMissing,
    checkpoint_due,
    read_revision,
    write_checkpoint,
)

# One side of a comparison: a revision number, "current", or "source" (the release as it is now).
Side = int | str


class ResolvedSide(NamedTuple):
    """A comparison side: its description (side, revision, content_hash) and its definition."""

    info: dict
    definition: dict


def compared(sides: Mapping[str, ResolvedSide]) -> dict:
    """What changed from the resolved side ``from`` to ``to``, with each side's description."""
    result = comparison(sides["from"].definition, sides["to"].definition)
    result["from"], result["to"] = sides["from"].info, sides["to"].info
    return result


def instance_etag(instance) -> str:
    """The strong ETag of an instance (an object or a row): its id and its revision."""
    return f'"{instance.id}:{instance.revision}"'


def require_revision(instance: WorkflowInstance, expected_revision: int | None) -> None:
    """412, carrying the current ETag, unless ``expected_revision`` is None or current.

    The one staleness check of every door: the API's ``If-Match`` and the revision a page
    showed both end here, after the row is locked and before anything is written.
    """
    if expected_revision is not None and expected_revision != instance.revision:
        raise PreconditionFailed(
            f"The workflow changed since you read it: it is at revision {instance.revision}, "
            f"not {expected_revision}. Reload it and apply your change again.",
            headers={"ETag": instance_etag(instance)},
        )


def missing_instance(project_key: str) -> NotFound:
    """The 404 of a project that has no workflow instance."""
    return NotFound(f"Project {project_key} has no workflow instance.")


@dataclass(frozen=True)
class HistoryPage:
    """One page of an instance's history, newest first."""

    entries: list[Row]  # rows of the history table's columns, read by attribute
    total: int


def rule_errors(found: list[rules.Problem], prefix: str = "") -> dict[str, list[str]]:
    """Problems as validation ``errors``: messages keyed by JSON pointer under ``prefix``."""
    errors: dict[str, list[str]] = {}
    for problem in found:
        errors.setdefault(f"{prefix}{problem.pointer}", []).append(problem.message)
    return errors


class WorkflowInstanceService:
    """Business rules for a project's workflow instance."""

    def __init__(
        self, session: Session, loader: PackageLoader, today: Callable[[], date] = clock.today
    ):
        self.session = session
        self.loader = loader
        # The UTC date acceptances' review_by dates are read against (tests move it).
        self.today = today
        self.instances = WorkflowInstanceRepository(session)

    def create_instance(
        self, project: Project, workflow_id: str, version: str | None, changed_by: str
    ) -> WorkflowInstance:
        """Snapshot the source POW into a new instance and record ``created``.

        409 when the project already has an instance (the unique index referees races);
        422 naming the field for an unknown workflow or version.
        """
        self._ensure_editable_project(project)
        taken = Conflict(f"Project {project.project_id} already has a workflow instance.")
        if self.instances.get_by_project_id(project.id) is not None:
            raise taken
        source, version = self._load_source(workflow_id, version)
        errors = definition_problems(source)
        if errors:
            raise ValidationFailed(
                f"The source workflow {workflow_id!r} cannot be stored as an instance.",
                {"/workflow_id": [message for messages in errors.values() for message in messages]},
            )
        added = rules.errors_added({}, source)
        if added:
            raise ValidationFailed(
                f"The source workflow {workflow_id!r} {version} could not run; see errors.",
                {"/workflow_id": [f"{p.pointer}: {p.message}" for p in added]},
            )
        effective, digest = structural.snapshot(source)
        base_ref = {
            "workflow_id": workflow_id,
            "version": version,
            "pow_class": source.get("pow_class"),
            "content_hash": digest,
        }
        try:
            # A concurrent request may insert first: the unique index decides, and the loser
            # hears the same 409 as a later caller would, on pages and in the API alike.
            with self.session.begin_nested():
                instance = self.instances.create(project.id, base_ref, effective)
        except IntegrityError:
            raise taken from None
        self.instances.add_history(
            instance, "created", {"revision": instance.revision, **base_ref}, changed_by
        )
        write_checkpoint(self.session, instance)  # the base snapshot, in the same transaction
        self.session.flush()
        return instance

    def get_instance(self, project: Project, *, for_update: bool = False) -> WorkflowInstance:
        """The project's instance; 404 when it has none."""
        instance = self.instances.get_by_project_id(project.id, for_update=for_update)
        if instance is None:
            raise missing_instance(project.project_id)
        return instance

    def update_instance(
        self,
        project: Project,
        effective_workflow: dict,
        changed_by: str,
        *,
        expected_revision: int | None = None,
        reason: str | None = None,
        restored_from: int | None = None,
    ) -> WorkflowInstance:
        """Replace the effective workflow; write one history entry per kind of change.

        The row is locked first (PostgreSQL), then ``expected_revision`` (from If-Match) is
        compared before anything is written. An identical body writes nothing. Every entry
        carries ``reason``, and names ``restored_from`` when the change restores a revision.
        """
        self._ensure_editable_project(project)
        instance = self.get_instance(project, for_update=True)
        require_revision(instance, expected_revision)
        if instance.status != "active":
            raise Conflict(f"The workflow is {instance.status}; only an active one can be edited.")
        errors = definition_problems(effective_workflow)
        if errors:
            raise ValidationFailed(
                "effective_workflow is not a valid POW; see errors.",
                {f"/effective_workflow{pointer}": messages for pointer, messages in errors.items()},
            )
        added = rules.errors_added(instance.effective_workflow, effective_workflow)
        if added:
            raise ValidationFailed(
                "The workflow could not run as saved; see errors.",
                rule_errors(added, prefix="/effective_workflow"),
            )
        current_id = instance.base_workflow_ref["workflow_id"]
        if effective_workflow.get("workflow_id") != current_id:
            raise ValidationFailed(
                "workflow_id cannot change: an instance stays bound to its source workflow.",
                {"/effective_workflow/workflow_id": [f"Must stay {current_id!r}."]},
            )
        changes = structural.diff_definitions(instance.effective_workflow, effective_workflow)
        if changes.is_empty:
            return instance
        new_definition, _ = structural.snapshot(effective_workflow)
        self.instances.update_effective_workflow(instance, new_definition)
        for position, (change_type, detail) in enumerate(
            structural.history_changes(changes, instance.revision)
        ):
            if restored_from is not None:
                detail["restored_from"] = restored_from
            self.instances.add_history(
                instance, change_type, detail, changed_by, position=position, reason=reason
            )
        self._keep_checkpoint_if_due(instance)
        self.session.flush()
        return instance

    def read_revision(self, instance: WorkflowInstance, number: int) -> Revision:
        """The instance as it stood after revision ``number`` (404 beyond it, 409 if unknown)."""
        return read_revision(self.session, instance, number)

    def compare(self, instance: WorkflowInstance, old: Side, new: Side) -> dict:
        """What changed from side ``old`` to side ``new`` (parameters ``from`` and ``to``)."""
        return compared(self.resolve_sides(instance, {"from": old, "to": new}))

    def resolve_sides(
        self, instance: WorkflowInstance, sides: Mapping[str, Side]
    ) -> dict[str, ResolvedSide]:
        """Each side by its parameter name, all checked at once: one 422 naming every
        parameter whose revision does not exist; 409 when the source cannot be loaded now."""
        resolved, errors = {}, {}
        for parameter, side in sides.items():
            try:
                resolved[parameter] = self._side(instance, side)
            except RevisionMissing as error:
                errors[parameter] = [error.detail]
        if errors:
            messages = [message for found in errors.values() for message in found]
            detail = messages[0] if len(messages) == 1 else "Both sides are refused; see errors."
            raise ValidationFailed(detail, errors)
        return resolved

    def restore_instance(
        self,
        project: Project,
        number: int,
        changed_by: str,
        *,
        expected_revision: int | None = None,
        reason: str | None = None,
    ) -> WorkflowInstance:
        """Make the definition equal revision ``number`` again, as one new change.

        Refused as a PUT is (archived project, stale If-Match, inactive instance: 409/412);
        a revision that does not exist is 422 naming ``revision``. Restoring what the workflow
        already holds writes nothing.
        """
        self._ensure_editable_project(project)
        instance = self.get_instance(project)
        try:
            target = self.read_revision(instance, number)
        except RevisionMissing as error:
            raise ValidationFailed(error.detail, {"/revision": [error.detail]}) from error
        return self.update_instance(
            project,
            target.definition,
            changed_by,
            expected_revision=expected_revision,
            reason=reason,
            restored_from=number,
        )

    def _side(self, instance: WorkflowInstance, side: Side) -> ResolvedSide:
        """A comparison side's description and definition (RevisionMissing if there is none)."""
        if side == "current":
            definition = instance.effective_workflow
            return self._resolved("current", instance.revision, definition)
        if side == "source":
            ref = instance.base_workflow_ref
            try:
                definition = self.loader.get_definition(ref["workflow_id"], ref["version"])
            except CatalogError as error:
                raise Conflict(
                    f"The source {ref['workflow_id']} {ref['version']} cannot be loaded now "
                    f"({error}); compare revisions instead."
                ) from error
            return self._resolved("source", None, definition)
        revision = self.read_revision(instance, side)
        return self._resolved(str(side), side, revision.definition)

    @staticmethod
    def _resolved(side: str, revision: int | None, definition: dict) -> ResolvedSide:
        info = {
            "side": side,
            "revision": revision,
            "content_hash": structural.content_hash(definition),
        }
        return ResolvedSide(info, definition)

    def problems_of(self, instance: WorkflowInstance) -> dict:
        """Whether the instance's workflow can run: its problems and their counts."""
        found = rules.problems(instance.effective_workflow)
        errors = sum(1 for problem in found if problem.severity == rules.ERROR)
        return {"problems": found, "error_count": errors, "warning_count": len(found) - errors}

    def compute_drift(self, project: Project) -> dict:
        """How the project's instance differs from its source now."""
        return self.drift_of(self.get_instance(project))

    def drift_of(
        self,
        instance: WorkflowInstance,
        kept: Mapping[uuid.UUID, drift_store.Kept] | None = None,
    ) -> dict:
        """How ``instance`` differs from its source now, item by item, with its acceptances.

        ``kept``: its kept drift by id (empty: none) when the caller read it already.
        """
        return self.drifts_of([instance], kept=kept)[instance.id]

    def drifts_of(
        self,
        instances: list[WorkflowInstance],
        kept: Mapping[uuid.UUID, drift_store.Kept] | None = None,
    ) -> dict:
        """The drift of each instance, by id, in a fixed number of queries however many.

        Each computed drift comes from the store when it was kept under what the instance and
        its source are now, else it is computed and kept (drift_store.py); acceptances, review
        dates and the active version are applied now. One query reads the kept rows (none when
        the caller passes ``kept``), one the acceptances of the drifted instances.
        """
        computed, latest = self._computed(instances, full=True, kept=kept)
        accepted = self._accepted(instance_id for instance_id, c in computed.items() if c["items"])
        today = self.today()
        return {
            instance.id: with_acceptances(
                computed[instance.id], latest[instance.id], accepted[instance.id], today=today
            )
            for instance in instances
        }

    def drift_summaries_of(self, instances: list[WorkflowInstance]) -> dict:
        """What the badges show of each instance's drift, by id: ``drifts_of`` without the
        items and the diff's lists (flags, counts, ``latest_version``), from the kept summaries:
        no diff runs for an instance whose drift is kept."""
        summaries, latest = self._computed(instances, full=False)
        accepted = self._accepted(
            instance_id for instance_id, summary in summaries.items() if summary["fingerprints"]
        )
        today = self.today()
        return {
            instance.id: summary_with_acceptances(
                summaries[instance.id], latest[instance.id], accepted[instance.id], today=today
            )
            for instance in instances
        }

    def _accepted(self, instance_ids: Iterable[uuid.UUID]) -> defaultdict:
        """The acceptances of these instances by key (none read when there are no ids)."""
        found = AcceptedDeviationRepository(self.session).for_instances(instance_ids)
        return defaultdict(dict, found)

    def _computed(
        self,
        instances: list[WorkflowInstance],
        *,
        full: bool,
        kept: Mapping[uuid.UUID, drift_store.Kept] | None = None,
    ) -> tuple[dict, dict]:
        """Each instance's computed drift (``full``) or its summary, kept or computed now and
        kept, and each one's active version; both by instance id."""
        if kept is None:
            kept = drift_store.read_kept(
                self.session, [instance.id for instance in instances], full=full
            )
        states: dict[tuple[str, str], tuple[str | None, str | None]] = {}
        found, latest, stale = {}, {}, []
        for instance in instances:
            ref = instance.base_workflow_ref
            release = (ref["workflow_id"], ref["version"])
            if release not in states:
                states[release] = self.loader.release_state(*release)
            source_hash, latest[instance.id] = states[release]
            row = kept.get(instance.id)
            if row is not None and row.holds(instance.revision, source_hash):
                found[instance.id] = row.drift if full else row.summary
            else:
                stale.append(instance)
        for instance_id, computed in self._compute(stale).items():
            found[instance_id] = computed if full else drift_summary(computed)
        return found, latest

    def _compute(self, instances: list[WorkflowInstance]) -> dict:
        """Compute the drift of each instance afresh and keep it; by instance id."""
        if not instances:
            return {}
        bases = base_snapshots(self.session, instances)
        current = self._definitions(instances)
        computed, rows = {}, []
        for instance in instances:
            ref = instance.base_workflow_ref
            try:
                source, source_hash = self.loader.hashed_definition(
                    ref["workflow_id"], ref["version"]
                )
            except CatalogError:
                source, source_hash = None, None
            base, base_hash = bases[instance.id]
            if base is None and source_hash is not None and source_hash == ref.get("content_hash"):
                base = source  # the source is still what was snapshotted: it is the base
            revision, effective = current[instance.id]
            result = computed_drift(effective, source, ref, base)
            computed[instance.id] = result
            if revision == instance.revision:
                summary = drift_summary(result)
                rows.append(
                    drift_store.row_for(
                        instance.id, revision, source_hash, base_hash, summary, result
                    )
                )
        drift_store.fill(self.session, rows)
        return computed

    def _definitions(self, instances: list[WorkflowInstance]) -> dict:
        """(revision, effective definition) of each instance, by id: as held, or read together
        where the definition was not read with the instance (a later read may see a later
        revision: then the drift is served but not kept under the revision read first)."""
        found, unread = {}, []
        for instance in instances:
            if "effective_workflow" in inspect(instance).unloaded:
                unread.append(instance.id)
            else:
                found[instance.id] = (instance.revision, instance.effective_workflow)
        if unread:
            rows = self.session.execute(
                select(
                    WorkflowInstance.id,
                    WorkflowInstance.revision,
                    WorkflowInstance.effective_workflow,
                ).where(WorkflowInstance.id.in_(unread))
            )
            found.update((row.id, (row.revision, row.effective_workflow)) for row in rows)
        return found

    def get_history(self, project: Project, limit: int, offset: int) -> HistoryPage:
        """A page of the project's instance history, newest first, with the total count."""
        return self.history_of(self.get_instance(project), limit, offset)

    def history_of(self, instance: WorkflowInstance, limit: int, offset: int) -> HistoryPage:
        """A page of ``instance``'s history, newest first, with the total count."""
        total = instance.history_count
        return HistoryPage(self.instances.get_history(instance.id, limit, offset, total), total)

    def complete_instance(
        self,
        project: Project,
        changed_by: str,
        reason: str | None = None,
        *,
        expected_revision: int | None = None,
    ) -> WorkflowInstance:
        """``active`` to ``completed``; 409 from any other status."""
        self._ensure_editable_project(project)
        instance = self.get_instance(project, for_update=True)
        require_revision(instance, expected_revision)
        if instance.status != "active":
            raise Conflict(
                f"Only an active workflow can be completed; this one is {instance.status}."
            )
        return self._change_status(instance, "completed", changed_by, reason)

    def archive_instance(
        self,
        project: Project,
        changed_by: str,
        reason: str | None = None,
        *,
        expected_revision: int | None = None,
    ) -> WorkflowInstance:
        """Any status to ``archived``; 409 when already archived."""
        self._ensure_editable_project(project)
        instance = self.get_instance(project, for_update=True)
        require_revision(instance, expected_revision)
        if instance.status == "archived":
            raise Conflict("The workflow is already archived.")
        return self._change_status(instance, "archived", changed_by, reason)

    def _change_status(
        self, instance: WorkflowInstance, status: str, changed_by: str, reason: str | None
    ) -> WorkflowInstance:
        previous = instance.status
        self.instances.update_status(instance, status)
        self.instances.add_history(
            instance,
            "status_changed",
            {"revision": instance.revision, "from": previous, "to": status},
            changed_by,
            reason=reason,
        )
        self._keep_checkpoint_if_due(instance)
        self.session.flush()
        return instance

    def _keep_checkpoint_if_due(self, instance: WorkflowInstance) -> None:
        """Keep the full definition every CHECKPOINT_EVERY revisions (reads replay fewer)."""
        if checkpoint_due(instance.revision):
            write_checkpoint(self.session, instance)

    def _load_source(self, workflow_id: str, version: str | None) -> tuple[dict, str]:
        """The source POW and its resolved version, or 422 naming the field at fault."""
        try:
            version = version or self.loader.active_version(workflow_id)
            source = self.loader.get_definition(workflow_id, version)
        except UnknownVersion as error:
            raise ValidationFailed(str(error), {"/version": [str(error)]}) from error
        except InvalidDefinition as error:
            raise ValidationFailed(
                f"The source workflow {workflow_id!r} is not a valid POW.",
                {"/workflow_id": [str(error)]},
            ) from error
        except CatalogError as error:
            raise ValidationFailed(str(error), {"/workflow_id": [str(error)]}) from error
        return source, version

    @staticmethod
    def _ensure_editable_project(project: Project) -> None:
        if project.is_archived:
            raise Conflict(
                f"Project {project.project_id} is archived: its workflow can be read but not "
                "changed. Unarchive the project first."
            )
