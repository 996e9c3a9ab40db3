"""WorkflowInstanceRepository on both databases: CRUD, append-only history, FK and cascade."""

from __future__ import annotations

import inspect
import uuid

import pytest
from sqlalchemy import Uuid, bindparam, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from combine_app.projects.models import Project
from combine_app.workflows.models import WorkflowInstance, WorkflowInstanceHistory
from combine_app.workflows.repository import WorkflowInstanceRepository

from .instance_support import SPD, source, with_step_added

REF = {"workflow_id": SPD, "version": "1.1.0", "pow_class": "reference", "content_hash": "x"}


@pytest.fixture
def repo(db_session) -> WorkflowInstanceRepository:
    """A repository on the test's session."""
    return WorkflowInstanceRepository(db_session)


@pytest.fixture
def project(make_project, alice):
    """One project of alice's."""
    return make_project(alice)


@pytest.fixture
def instance(repo, project, db_session):
    """A committed instance of SPD 1.1.0 for ``project``."""
    created = repo.create(project.id, dict(REF), source())
    db_session.commit()
    return created


def reread(db_session, instance_id: uuid.UUID) -> WorkflowInstance:
    """The instance as the database holds it, not as the session remembers it."""
    db_session.expire_all()
    return db_session.get(WorkflowInstance, instance_id)


def count_rows(db_session, model, **where) -> int:
    """How many rows of ``model`` match the equality filters."""
    query = select(func.count()).select_from(model)
    for column, value in where.items():
        query = query.where(getattr(model, column) == value)
    return db_session.scalar(query)


def test_create_inserts_an_active_instance_at_revision_1(repo, project, db_session):
    definition = source()
    created = repo.create(project.id, dict(REF), definition)
    db_session.commit()

    stored = reread(db_session, created.id)
    assert stored.project_id == project.id
    assert stored.base_workflow_ref == REF
    assert stored.effective_workflow == definition
    assert stored.status == "active"
    assert stored.revision == 1
    assert stored.created_at is not None and stored.updated_at is not None


def test_get_by_project_id_finds_the_instance_or_none(repo, instance, project, make_project, alice):
    assert repo.get_by_project_id(project.id).id == instance.id
    assert repo.get_by_project_id(project.id, for_update=True).id == instance.id
    other = make_project(alice, "Other Thing")
    assert repo.get_by_project_id(other.id) is None
    assert repo.get_by_project_id(uuid.uuid4()) is None


def test_get_by_id_finds_the_instance_or_none(repo, instance):
    assert repo.get_by_id(instance.id) is instance
    assert repo.get_by_id(uuid.uuid4()) is None


def test_update_effective_workflow_stores_it_and_bumps_the_revision(repo, instance, db_session):
    new_definition = with_step_added(instance.effective_workflow, "extra_step")
    repo.update_effective_workflow(instance, new_definition)
    db_session.commit()

    stored = reread(db_session, instance.id)
    assert stored.effective_workflow == new_definition
    assert stored.revision == 2


def test_update_status_stores_it_and_bumps_the_revision(repo, instance, db_session):
    repo.update_status(instance, "completed")
    db_session.commit()

    stored = reread(db_session, instance.id)
    assert stored.status == "completed"
    assert stored.revision == 2


def test_update_of_an_instance_changed_behind_its_back_raises_stale_data(
    repo, instance, db_session
):
    # Another writer bumped the revision since this session read the row.
    db_session.execute(
        text("UPDATE workflow_instances SET revision = revision + 1 WHERE id = :id").bindparams(
            bindparam("id", type_=Uuid)
        ),
        {"id": instance.id},
    )
    with pytest.raises(StaleDataError), db_session.begin_nested():
        repo.update_status(instance, "completed")


def test_add_history_appends_an_entry_for_the_current_revision(repo, instance, db_session):
    entry = repo.add_history(instance, "created", {"revision": 1}, "alice")
    db_session.commit()

    db_session.expire_all()
    stored = db_session.get(WorkflowInstanceHistory, entry.id)
    assert stored.instance_id == instance.id
    assert stored.change_type == "created"
    assert stored.change_detail == {"revision": 1}
    assert stored.changed_by == "alice"
    assert stored.revision == 1
    assert stored.position == 0
    assert stored.changed_at is not None


def _history_over_three_revisions(repo, instance, db_session) -> None:
    """created at 1; two entries at 2; one at 3, each committed with its revision."""
    repo.add_history(instance, "created", {"revision": 1}, "alice")
    db_session.commit()
    repo.update_effective_workflow(instance, with_step_added(instance.effective_workflow, "x"))
    repo.add_history(instance, "step_added", {"revision": 2}, "alice", position=0)
    repo.add_history(instance, "metadata_changed", {"revision": 2}, "alice", position=1)
    db_session.commit()
    repo.update_status(instance, "completed")
    repo.add_history(instance, "status_changed", {"revision": 3}, "bob")
    db_session.commit()


def test_recent_revisions_are_one_row_per_revision_newest_first_with_author(
    repo, instance, db_session
):
    _history_over_three_revisions(repo, instance, db_session)

    rows = repo.recent_revisions(instance.id, newest=3, count=2)
    assert [(row.revision, row.changed_by) for row in rows] == [(3, "bob"), (2, "alice")]
    assert all(row.changed_at is not None for row in rows)
    assert [row.revision for row in repo.recent_revisions(instance.id, 3, 10)] == [3, 2, 1]


def test_get_history_is_newest_revision_first_and_in_written_order_within_one(
    repo, instance, db_session
):
    _history_over_three_revisions(repo, instance, db_session)

    entries = repo.get_history(instance.id, limit=10, offset=0)
    assert [(e.revision, e.change_type) for e in entries] == [
        (3, "status_changed"),
        (2, "step_added"),
        (2, "metadata_changed"),
        (1, "created"),
    ]


def test_get_history_pages_with_limit_and_offset(repo, instance, db_session):
    _history_over_three_revisions(repo, instance, db_session)
    everything = [e.id for e in repo.get_history(instance.id, limit=10, offset=0)]

    pages = [repo.get_history(instance.id, limit=3, offset=offset) for offset in (0, 3, 6)]
    assert [len(page) for page in pages] == [3, 1, 0]
    assert [e.id for page in pages for e in page] == everything
    assert [e.id for e in repo.get_history(instance.id, limit=2, offset=1)] == everything[1:3]


def test_count_history_counts_only_this_instances_entries(
    repo, instance, db_session, make_project, alice
):
    assert repo.count_history(instance.id) == 0
    _history_over_three_revisions(repo, instance, db_session)
    other = repo.create(make_project(alice, "Other Thing").id, dict(REF), source())
    repo.add_history(other, "created", {"revision": 1}, "alice")
    db_session.commit()

    assert repo.count_history(instance.id) == 4
    assert repo.count_history(other.id) == 1
    assert len(repo.get_history(other.id, limit=10, offset=0)) == 1


def test_the_repository_offers_no_way_to_update_or_delete_history():
    public = {
        name
        for name, member in inspect.getmembers(WorkflowInstanceRepository, inspect.isfunction)
        if not name.startswith("_")
    }
    assert public == {
        "create",
        "get_by_project_id",
        "get_by_id",
        "update_effective_workflow",
        "update_status",
        "touch",
        "add_history",
        "get_history",
        "recent_revisions",
        "count_history",
    }


def test_an_instance_for_a_missing_project_is_refused_by_the_foreign_key(repo, db_session):
    with pytest.raises(IntegrityError), db_session.begin_nested():
        repo.create(uuid.uuid4(), dict(REF), source())


def test_a_second_instance_for_the_same_project_is_refused_by_the_unique_index(
    repo, instance, project, db_session
):
    with pytest.raises(IntegrityError), db_session.begin_nested():
        repo.create(project.id, dict(REF), source())
    assert count_rows(db_session, WorkflowInstance, project_id=project.id) == 1


def test_deleting_the_project_row_cascades_to_its_instance_and_history(
    repo, instance, project, db_session, make_project, alice
):
    _history_over_three_revisions(repo, instance, db_session)
    bystander = repo.create(make_project(alice, "Other Thing").id, dict(REF), source())
    repo.add_history(bystander, "created", {"revision": 1}, "alice")
    db_session.commit()
    instance_id, bystander_id, project_id = instance.id, bystander.id, project.id
    db_session.expunge_all()

    db_session.execute(
        text("DELETE FROM projects WHERE id = :id").bindparams(bindparam("id", type_=Uuid)),
        {"id": project_id},
    )
    db_session.commit()

    assert count_rows(db_session, Project, id=project_id) == 0
    assert count_rows(db_session, WorkflowInstance, id=instance_id) == 0
    assert count_rows(db_session, WorkflowInstanceHistory, instance_id=instance_id) == 0
    assert count_rows(db_session, WorkflowInstance, id=bystander_id) == 1
    assert count_rows(db_session, WorkflowInstanceHistory, instance_id=bystander_id) == 1
