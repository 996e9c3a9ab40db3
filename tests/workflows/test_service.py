"""WorkflowInstanceService on both databases: snapshot, change history, drift and lifecycle."""

from __future__ import annotations

import json
import re
import shutil
from collections import Counter

import pytest

from combine_app.catalog.loader import PackageLoader
from combine_app.errors import Conflict, NotFound, ValidationFailed
from combine_app.projects import service as project_service
from combine_app.workflows.diff import content_hash
from combine_app.workflows.models import WorkflowInstance
from combine_app.workflows.service import WorkflowInstanceService

from .instance_support import (
    CONFIG_DIR,
    GRAPH,
    LEAN,
    SPD,
    edited,
    find_step,
    source,
    with_step_added,
    with_step_field,
    with_step_moved_first,
    with_step_removed,
)

NEW_DESCRIPTION = "Our own way of delivering software."


@pytest.fixture
def loader() -> PackageLoader:
    """A loader on the repository's combine-config."""
    return PackageLoader(CONFIG_DIR)


@pytest.fixture
def service(db_session, loader) -> WorkflowInstanceService:
    """The service on the test's session."""
    return WorkflowInstanceService(db_session, loader)


@pytest.fixture
def project(make_project, alice):
    """One project of alice's."""
    return make_project(alice)


@pytest.fixture
def instance(service, project, db_session) -> WorkflowInstance:
    """A committed instance of SPD 1.1.0."""
    created = service.create_instance(project, SPD, "1.1.0", "alice")
    db_session.commit()
    return created


@pytest.fixture
def config_copy(tmp_path):
    """A writable copy of the repository's combine-config."""
    return shutil.copytree(CONFIG_DIR, tmp_path / "combine-config")


def release_file(config_dir, workflow_id: str, version: str):
    """The definition file of one release in a config folder."""
    return config_dir / "workflows" / workflow_id / "releases" / version / "definition.yaml"


def history(service, project) -> list[tuple[str, dict]]:
    """(change_type, change_detail) of every entry, newest first."""
    page = service.get_history(project, limit=100, offset=0)
    assert page.total == len(page.entries)
    return [(entry.change_type, entry.change_detail) for entry in page.entries]


def update(service, project, db_session, definition) -> WorkflowInstance:
    """Apply one edit as alice and commit it."""
    result = service.update_instance(project, definition, "alice")
    db_session.commit()
    return result


def entries_of_revision(service, project, revision: int) -> dict[str, dict]:
    """The entries written for one revision, by change type (each kind at most once)."""
    entries = [
        (kind, detail)
        for kind, detail in history(service, project)
        if detail["revision"] == revision
    ]
    kinds = Counter(kind for kind, _ in entries)
    assert all(count == 1 for count in kinds.values()), kinds
    return dict(entries)


# --- create -----------------------------------------------------------------------------------


def test_create_snapshots_the_full_source_definition(service, instance, db_session):
    db_session.expire_all()
    stored = db_session.get(WorkflowInstance, instance.id)
    assert stored.effective_workflow == source(SPD, "1.1.0")
    # Everything is there, not only the steps.
    assert {"document_types", "entity_types", "scopes", "tags"} <= stored.effective_workflow.keys()


def test_create_snapshot_is_independent_of_the_loaders_cached_definition(service, project, loader):
    pristine = source(SPD, "1.1.0")
    loader.get_definition(SPD, "1.1.0")  # the file is parsed and cached before the snapshot
    created = service.create_instance(project, SPD, "1.1.0", "alice")

    find_step(created.effective_workflow, "code_review")["role"] = "changed in the instance"
    created.effective_workflow["document_types"]["review_record"]["accepted_by"].append("x")
    created.effective_workflow["tags"].append("mine")

    assert loader.get_definition(SPD, "1.1.0") == pristine


def test_base_workflow_ref_names_workflow_version_pow_class_and_content_hash(service, project):
    created = service.create_instance(project, LEAN, "1.0.0", "alice")
    assert created.base_workflow_ref == {
        "workflow_id": LEAN,
        "version": "1.0.0",
        "pow_class": "template",
        "content_hash": content_hash(source(LEAN, "1.0.0")),
    }
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", created.base_workflow_ref["content_hash"])


def test_content_hash_differs_between_releases(service, project, make_project, alice):
    older = service.create_instance(project, SPD, "1.0.0", "alice")
    newer = service.create_instance(make_project(alice, "Other Thing"), SPD, "1.1.0", "alice")
    assert older.base_workflow_ref["content_hash"] != newer.base_workflow_ref["content_hash"]


def test_create_writes_one_created_entry_with_the_reference_and_revision_1(
    service, instance, project
):
    [(kind, detail)] = history(service, project)
    assert kind == "created"
    assert detail == {"revision": 1, **instance.base_workflow_ref}
    assert instance.revision == 1
    assert instance.status == "active"


def test_create_without_a_version_uses_the_active_release(service, project):
    created = service.create_instance(project, SPD, None, "alice")
    assert created.base_workflow_ref["version"] == "1.1.0"
    assert created.effective_workflow == source(SPD, "1.1.0")


def test_create_without_a_version_follows_the_active_pointer_not_the_highest_release(
    config_copy, db_session, project
):
    pointers = config_copy / "_active" / "active_releases.json"
    data = json.loads(pointers.read_text())
    data["workflows"][SPD] = "1.0.0"
    pointers.write_text(json.dumps(data))
    service = WorkflowInstanceService(db_session, PackageLoader(config_copy))

    created = service.create_instance(project, SPD, None, "alice")
    assert created.base_workflow_ref["version"] == "1.0.0"
    assert created.effective_workflow == source(SPD, "1.0.0")


def test_second_create_for_the_project_is_a_conflict_and_writes_nothing(
    service, instance, project, db_session
):
    with pytest.raises(Conflict):
        service.create_instance(project, LEAN, "1.0.0", "alice")
    db_session.rollback()
    assert service.get_instance(project).base_workflow_ref["workflow_id"] == SPD
    assert [kind for kind, _ in history(service, project)] == ["created"]


def test_unknown_workflow_is_refused_naming_workflow_id(service, project):
    with pytest.raises(ValidationFailed) as caught:
        service.create_instance(project, "no_such_workflow", "1.0.0", "alice")
    assert set(caught.value.errors) == {"/workflow_id"}


def test_unknown_version_is_refused_naming_version(service, project):
    with pytest.raises(ValidationFailed) as caught:
        service.create_instance(project, SPD, "9.9.9", "alice")
    assert set(caught.value.errors) == {"/version"}


@pytest.mark.parametrize("version", [None, "1.0.0"])
def test_a_graph_shaped_workflow_cannot_become_an_instance(service, project, version):
    with pytest.raises(ValidationFailed) as caught:
        service.create_instance(project, GRAPH, version, "alice")
    assert set(caught.value.errors) == {"/workflow_id"}
    with pytest.raises(NotFound):
        service.get_instance(project)


# --- update: one history entry per kind of change -----------------------------------------------


def test_adding_a_step_writes_one_step_added_entry(service, instance, project, db_session):
    updated = update(service, project, db_session, with_step_added(source(), "retrospective"))

    assert updated.revision == 2
    assert find_step(updated.effective_workflow, "retrospective")["role"] == "Tester 1.0"
    entries = entries_of_revision(service, project, 2)
    assert set(entries) == {"step_added"}
    assert [step["step_id"] for step in entries["step_added"]["steps"]] == ["retrospective"]


def test_adding_a_nested_step_names_its_parent(service, instance, project, db_session):
    definition = source()
    find_step(definition, "per_epic")["steps"].append({"step_id": "epic_demo", "name": "Demo"})
    update(service, project, db_session, definition)

    [added] = entries_of_revision(service, project, 2)["step_added"]["steps"]
    assert added["step_id"] == "epic_demo"
    assert added["parent"] == "per_epic"


def test_removing_a_step_writes_one_step_removed_entry_and_no_reorder(
    service, instance, project, db_session
):
    update(service, project, db_session, with_step_removed(source(), "solution_architecture"))

    entries = entries_of_revision(service, project, 2)
    assert set(entries) == {"step_removed"}
    assert [s["step_id"] for s in entries["step_removed"]["steps"]] == ["solution_architecture"]


def test_moving_a_step_writes_one_step_reordered_entry_naming_only_that_step(
    service, instance, project, db_session
):
    update(service, project, db_session, with_step_moved_first(source(), "release_readiness"))

    entries = entries_of_revision(service, project, 2)
    assert set(entries) == {"step_reordered"}
    assert [s["step_id"] for s in entries["step_reordered"]["steps"]] == ["release_readiness"]


def test_editing_a_step_writes_one_step_modified_entry_with_old_and_new(
    service, instance, project, db_session
):
    definition = with_step_field(source(), "code_review", "role", "Senior Developer 1.0")
    update(service, project, db_session, definition)

    entries = entries_of_revision(service, project, 2)
    assert set(entries) == {"step_modified"}
    [modified] = entries["step_modified"]["steps"]
    assert modified["step_id"] == "code_review"
    assert [(c["field"], c["old"], c["new"]) for c in modified["changes"]] == [
        ("role", "Technical Lead 1.0", "Senior Developer 1.0")
    ]


def test_changing_metadata_writes_one_metadata_changed_entry_with_old_and_new(
    service, instance, project, db_session
):
    original = source()
    new_tags = ["software_delivery", "ours"]
    update(
        service, project, db_session, edited(original, description=NEW_DESCRIPTION, tags=new_tags)
    )

    entries = entries_of_revision(service, project, 2)
    assert set(entries) == {"metadata_changed"}
    changes = {c["field"]: (c["old"], c["new"]) for c in entries["metadata_changed"]["changes"]}
    assert changes == {
        "description": (original["description"], NEW_DESCRIPTION),
        "tags": (original["tags"], new_tags),
    }


def test_one_edit_doing_everything_writes_one_entry_per_kind_for_the_same_revision(
    service, instance, project, db_session
):
    definition = with_step_removed(source(), "solution_architecture")
    definition = with_step_moved_first(definition, "release_readiness")
    definition = with_step_added(definition, "retrospective")
    definition = with_step_field(definition, "story_breakdown", "role", "Product Owner 1.0")
    definition = edited(definition, description=NEW_DESCRIPTION)
    updated = update(service, project, db_session, definition)

    assert updated.revision == 2
    assert updated.effective_workflow == definition
    entries = entries_of_revision(service, project, 2)
    assert set(entries) == {
        "step_added",
        "step_removed",
        "step_reordered",
        "step_modified",
        "metadata_changed",
    }
    assert all(detail["revision"] == 2 for detail in entries.values())
    assert [s["step_id"] for s in entries["step_added"]["steps"]] == ["retrospective"]
    assert [s["step_id"] for s in entries["step_removed"]["steps"]] == ["solution_architecture"]
    assert [s["step_id"] for s in entries["step_reordered"]["steps"]] == ["release_readiness"]
    assert [s["step_id"] for s in entries["step_modified"]["steps"]] == ["story_breakdown"]
    assert [c["field"] for c in entries["metadata_changed"]["changes"]] == ["description"]
    assert [kind for kind, _ in history(service, project)][-1] == "created"


def test_each_change_bumps_the_revision_by_one_and_names_it(service, instance, project, db_session):
    first = update(service, project, db_session, with_step_added(source(), "one"))
    assert first.revision == 2
    second = update(service, project, db_session, with_step_added(first.effective_workflow, "two"))
    assert second.revision == 3
    assert [(kind, detail["revision"]) for kind, detail in history(service, project)] == [
        ("step_added", 3),
        ("step_added", 2),
        ("created", 1),
    ]


def test_an_identical_body_writes_nothing_and_keeps_the_revision(
    service, instance, project, db_session
):
    same = json.loads(json.dumps(source(), sort_keys=True))  # same content, other key order
    result = update(service, project, db_session, same)

    assert result.revision == 1
    db_session.expire_all()
    assert service.get_instance(project).revision == 1
    assert [kind for kind, _ in history(service, project)] == ["created"]


def test_an_invalid_definition_is_refused_naming_the_pointer_and_writes_nothing(
    service, instance, project, db_session
):
    broken = with_step_field(source(), "code_review", "step_id", "Code-Review")
    with pytest.raises(ValidationFailed) as caught:
        service.update_instance(project, broken, "alice")
    assert "/effective_workflow/steps/4/steps/2/step_id" in caught.value.errors
    db_session.rollback()
    assert service.get_instance(project).revision == 1


def test_the_workflow_id_of_an_instance_cannot_change(service, instance, project):
    with pytest.raises(ValidationFailed) as caught:
        service.update_instance(project, edited(source(), workflow_id="my_own_flow"), "alice")
    assert "/effective_workflow/workflow_id" in caught.value.errors


def test_updating_a_project_without_an_instance_is_not_found(service, project):
    with pytest.raises(NotFound):
        service.update_instance(project, source(), "alice")


# --- drift ------------------------------------------------------------------------------------


def test_drift_of_a_fresh_instance_is_empty(service, instance, project):
    assert service.compute_drift(project) == {
        "base_workflow_id": SPD,
        "base_version": "1.1.0",
        "steps_added": [],
        "steps_removed": [],
        "steps_reordered": False,
        "steps_moved": [],
        "steps_modified": [],
        "step_moves": [],
        "step_changes": [],
        "metadata_changed": False,
        "metadata_changes": [],
        "is_drifted": False,
        "source_available": True,
        "source_changed": False,
        "latest_version": "1.1.0",
        "items": [],
        "unexplained_count": 0,
        "is_drifted_unexplained": False,
    }


def test_drift_after_edits_lists_exactly_what_was_edited(service, project, db_session):
    service.create_instance(project, SPD, "1.0.0", "alice")
    original = source(SPD, "1.0.0")
    definition = with_step_removed(original, "solution_architecture")
    definition = with_step_added(definition, "retrospective")
    definition = with_step_field(definition, "story_breakdown", "role", "Product Owner 1.0")
    definition = edited(definition, description=NEW_DESCRIPTION)
    update(service, project, db_session, definition)

    drift = service.compute_drift(project)
    assert drift["base_workflow_id"] == SPD
    assert drift["base_version"] == "1.0.0"
    assert drift["steps_added"] == ["retrospective"]
    assert drift["steps_removed"] == ["solution_architecture"]
    assert drift["steps_reordered"] is False
    assert drift["steps_moved"] == []
    assert drift["steps_modified"] == ["story_breakdown"]
    assert drift["metadata_changed"] is True
    assert [(c["field"], c["old"], c["new"]) for c in drift["metadata_changes"]] == [
        ("description", original["description"], NEW_DESCRIPTION)
    ]
    assert drift["is_drifted"] is True
    assert drift["source_available"] is True
    assert drift["source_changed"] is False
    assert drift["latest_version"] == "1.1.0"


def test_drift_after_a_move_names_the_moved_step(service, instance, project, db_session):
    update(service, project, db_session, with_step_moved_first(source(), "release_readiness"))

    drift = service.compute_drift(project)
    assert drift["steps_reordered"] is True
    assert drift["steps_moved"] == ["release_readiness"]
    assert drift["steps_added"] == drift["steps_removed"] == drift["steps_modified"] == []
    assert drift["is_drifted"] is True


def test_drift_counts_a_step_moved_to_another_parent_as_moved_not_removed_and_added(
    service, instance, project, db_session
):
    definition = source()
    per_epic = find_step(definition, "per_epic")
    code_review = next(s for s in per_epic["steps"] if s["step_id"] == "code_review")
    per_epic["steps"].remove(code_review)
    definition["steps"].append(code_review)
    update(service, project, db_session, definition)

    drift = service.compute_drift(project)
    assert drift["steps_moved"] == ["code_review"]
    assert drift["steps_added"] == drift["steps_removed"] == drift["steps_modified"] == []
    [(kind, detail)] = entries_of_revision(service, project, 2).items()
    assert kind == "step_reordered"
    [moved] = detail["steps"]
    assert (moved["step_id"], moved["from_parent"], moved["to_parent"]) == (
        "code_review",
        "per_epic",
        None,
    )


def test_drift_when_the_source_is_gone_reports_it_and_invents_nothing(
    config_copy, db_session, project
):
    service = WorkflowInstanceService(db_session, PackageLoader(config_copy))
    service.create_instance(project, SPD, "1.0.0", "alice")
    update(service, project, db_session, with_step_added(source(SPD, "1.0.0"), "retrospective"))
    assert service.compute_drift(project)["steps_added"] == ["retrospective"]

    shutil.rmtree(release_file(config_copy, SPD, "1.0.0").parent)

    drift = service.compute_drift(project)
    assert drift["source_available"] is False
    assert drift["base_workflow_id"] == SPD
    assert drift["base_version"] == "1.0.0"
    assert drift["steps_added"] == drift["steps_removed"] == []
    assert drift["steps_moved"] == drift["steps_modified"] == []
    assert drift["metadata_changes"] == []
    assert drift["steps_reordered"] is False
    assert drift["metadata_changed"] is False
    assert drift["source_changed"] is False
    assert drift["latest_version"] == "1.1.0"


def test_drift_when_the_whole_workflow_is_gone_has_no_latest_version(
    config_copy, db_session, project
):
    service = WorkflowInstanceService(db_session, PackageLoader(config_copy))
    service.create_instance(project, SPD, "1.0.0", "alice")
    shutil.rmtree(config_copy / "workflows" / SPD)

    drift = service.compute_drift(project)
    assert drift["source_available"] is False
    assert drift["latest_version"] is None
    assert drift["steps_added"] == drift["steps_removed"] == []


def test_drift_notices_a_source_edited_in_place_after_the_snapshot(
    config_copy, db_session, project
):
    service = WorkflowInstanceService(db_session, PackageLoader(config_copy))
    service.create_instance(project, SPD, "1.1.0", "alice")
    db_session.commit()
    assert service.compute_drift(project)["source_changed"] is False

    path = release_file(config_copy, SPD, "1.1.0")
    text = path.read_text()
    assert "name: Code Review\n" in text
    path.write_text(text.replace("name: Code Review\n", "name: Peer Code Review\n"))

    drift = service.compute_drift(project)
    assert drift["source_available"] is True
    assert drift["source_changed"] is True
    # Compared against the source as it is now, the instance still has the old name.
    assert drift["steps_modified"] == ["code_review"]
    assert drift["is_drifted"] is True


def test_a_comment_only_edit_of_the_source_is_not_a_source_change(config_copy, db_session, project):
    service = WorkflowInstanceService(db_session, PackageLoader(config_copy))
    service.create_instance(project, SPD, "1.1.0", "alice")
    path = release_file(config_copy, SPD, "1.1.0")
    path.write_text("# A comment added later; the definition is the same.\n" + path.read_text())

    drift = service.compute_drift(project)
    assert drift["source_changed"] is False
    assert drift["is_drifted"] is False


def test_latest_version_is_the_active_release_now(config_copy, db_session, project):
    service = WorkflowInstanceService(db_session, PackageLoader(config_copy))
    service.create_instance(project, SPD, "1.0.0", "alice")
    assert service.compute_drift(project)["latest_version"] == "1.1.0"

    pointers = config_copy / "_active" / "active_releases.json"
    data = json.loads(pointers.read_text())
    data["workflows"][SPD] = "1.0.0"
    pointers.write_text(json.dumps(data, indent=4))

    assert service.compute_drift(project)["latest_version"] == "1.0.0"


def test_drift_of_a_project_without_an_instance_is_not_found(service, project):
    with pytest.raises(NotFound):
        service.compute_drift(project)


# --- lifecycle --------------------------------------------------------------------------------


def test_complete_moves_active_to_completed_and_records_it(service, instance, project, db_session):
    completed = service.complete_instance(project, "alice")
    db_session.commit()

    assert completed.status == "completed"
    assert completed.revision == 2
    kind, detail = history(service, project)[0]
    assert kind == "status_changed"
    assert detail == {"revision": 2, "from": "active", "to": "completed"}


def test_complete_is_a_conflict_unless_active(service, instance, project, db_session):
    service.complete_instance(project, "alice")
    db_session.commit()
    with pytest.raises(Conflict):
        service.complete_instance(project, "alice")
    db_session.rollback()
    service.archive_instance(project, "alice")
    db_session.commit()
    with pytest.raises(Conflict):
        service.complete_instance(project, "alice")
    db_session.rollback()
    assert service.get_instance(project).status == "archived"
    assert service.get_instance(project).revision == 3


@pytest.mark.parametrize("complete_first", [False, True])
def test_archive_moves_active_or_completed_to_archived(
    service, instance, project, db_session, complete_first
):
    if complete_first:
        service.complete_instance(project, "alice")
        db_session.commit()
    before = service.get_instance(project).status
    archived = service.archive_instance(project, "alice")
    db_session.commit()

    assert archived.status == "archived"
    kind, detail = history(service, project)[0]
    assert kind == "status_changed"
    assert (detail["from"], detail["to"]) == (before, "archived")
    assert detail["revision"] == archived.revision


def test_archive_of_an_archived_instance_is_a_conflict_and_writes_nothing(
    service, instance, project, db_session
):
    service.archive_instance(project, "alice")
    db_session.commit()
    with pytest.raises(Conflict):
        service.archive_instance(project, "alice")
    db_session.rollback()
    assert service.get_instance(project).revision == 2
    assert len(history(service, project)) == 2


@pytest.mark.parametrize("transition", ["complete_instance", "archive_instance"])
def test_editing_a_completed_or_archived_instance_is_a_conflict(
    service, instance, project, db_session, transition
):
    getattr(service, transition)(project, "alice")
    db_session.commit()
    with pytest.raises(Conflict):
        service.update_instance(project, with_step_added(source(), "late_step"), "alice")
    db_session.rollback()
    assert service.get_instance(project).effective_workflow == source()
    assert service.get_instance(project).revision == 2


def test_an_archived_project_refuses_changes_but_its_workflow_can_be_read(
    service, instance, project, db_session, alice
):
    service.update_instance(project, with_step_added(source(), "retrospective"), "alice")
    project_service.archive_project(project, alice)
    db_session.commit()

    refused = [
        lambda: service.update_instance(project, source(), "alice"),
        lambda: service.complete_instance(project, "alice"),
        lambda: service.archive_instance(project, "alice"),
        lambda: service.create_instance(project, SPD, None, "alice"),
    ]
    for attempt in refused:
        with pytest.raises(Conflict, match="archived"):
            attempt()
        db_session.rollback()

    readable = service.get_instance(project)
    assert readable.status == "active"
    assert readable.revision == 2
    assert service.compute_drift(project)["steps_added"] == ["retrospective"]
    assert [kind for kind, _ in history(service, project)] == ["step_added", "created"]
