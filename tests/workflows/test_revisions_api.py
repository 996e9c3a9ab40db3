"""Reasons, any revision, compare and restore through /api/v1, on both databases."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import delete, select

from combine_app.extensions import db
from combine_app.workflows import revisions as revisions_module
from combine_app.workflows.compare import diff_of_comparison
from combine_app.workflows.diff import content_hash, replay
from combine_app.workflows.models import (
    WorkflowInstance,
    WorkflowInstanceCheckpoint,
    WorkflowInstanceHistory,
)
from combine_app.workflows.revisions import CHECKPOINT_EVERY

from .instance_support import SPD, edited, source, with_step_added, with_step_moved_first
from .test_instances_api import assert_problem
from .test_revisions import instance_of

REVISION_FIELDS = {"revision", "definition", "changed_at", "changed_by", "reason", "content_hash"}


def canonical(definition: dict) -> str:
    """The canonical JSON text of a definition (what "byte for byte" compares)."""
    return json.dumps(definition, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@pytest.fixture
def key(make_project, alice, api) -> str:
    """A project of alice's with SPD 1.1.0 assigned (revision 1)."""
    project_key = make_project(alice).project_id
    response = api.post(
        f"/projects/{project_key}/workflow", json={"workflow_id": SPD, "version": "1.1.0"}
    )
    assert response.status_code == 201
    return project_key


def url(key: str, suffix: str = "") -> str:
    """A path under the project's workflow."""
    return f"/projects/{key}/workflow{suffix}"


def save(api, key: str, definition: dict, reason: str | None = None, **headers) -> dict:
    """PUT the definition (with a reason when given); the 200 body."""
    body = {"effective_workflow": definition}
    if reason is not None:
        body["reason"] = reason
    response = api.put(url(key), json=body, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def entries(api, key: str) -> list[dict]:
    """Every history entry, newest first."""
    return api.get(url(key, "/history?limit=100")).get_json()["entries"]


# --- reasons ----------------------------------------------------------------------------------


def test_put_reason_is_trimmed_and_on_every_entry_of_the_change(api, key):
    changed = with_step_moved_first(edited(source(), description="new"), "delivery_planning")
    saved = save(api, key, changed, reason="  Design first, as agreed with the board.\n")
    of_change = [entry for entry in entries(api, key) if entry["revision"] == saved["revision"]]
    assert {entry["change_type"] for entry in of_change} == {"step_reordered", "metadata_changed"}
    assert {entry["reason"] for entry in of_change} == {"Design first, as agreed with the board."}


def test_history_reason_is_null_without_one_and_blank_counts_as_none(api, key):
    save(api, key, edited(source(), description="one"))
    save(api, key, edited(source(), description="two"), reason="   ")
    assert [entry["reason"] for entry in entries(api, key)] == [None, None, None]


def test_reason_of_1000_characters_is_kept_and_1001_is_422_writing_nothing(api, key):
    save(api, key, edited(source(), description="one"), reason="r" * 1000)
    assert entries(api, key)[0]["reason"] == "r" * 1000
    before = entries(api, key)
    response = api.put(
        url(key),
        json={"effective_workflow": edited(source(), description="x"), "reason": "r" * 1001},
    )
    assert_problem(response, 422, "/reason")
    assert entries(api, key) == before


@pytest.mark.parametrize(
    ("reason", "field"),
    [(5, "/reason"), (["x"], "/reason"), ("bad\u0000", "/reason")],
    ids=["number", "list", "nul"],
)
def test_reason_that_is_not_plain_text_is_422(api, key, reason, field):
    response = api.put(url(key), json={"effective_workflow": source(), "reason": reason})
    assert_problem(response, 422, field)


@pytest.mark.parametrize("action", ["complete", "archive"])
def test_complete_and_archive_take_a_reason(api, key, action):
    response = api.post(url(key, f"/{action}"), json={"reason": " Done here. "})
    assert response.status_code == 200, response.get_json()
    assert entries(api, key)[0]["change_type"] == "status_changed"
    assert entries(api, key)[0]["reason"] == "Done here."


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"json": {}}, {"data": "", "content_type": "application/json"}],
    ids=["no-body", "empty-object", "empty-json-body"],
)
def test_complete_without_a_reason_still_works(api, key, kwargs):
    response = api.post(url(key, "/complete"), **kwargs)
    assert response.status_code == 200, response.get_json()
    assert entries(api, key)[0]["reason"] is None


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({"json": {"reason": "r" * 1001}}, 422),
        ({"json": {"why": "x"}}, 422),
        ({"data": "{", "content_type": "application/json"}, 400),
        ({"data": "reason", "content_type": "text/plain"}, 415),
    ],
    ids=["too-long", "unknown-field", "not-json", "not-json-type"],
)
def test_archive_with_a_bad_body_is_refused_and_writes_nothing(api, key, kwargs, status):
    before = entries(api, key)
    assert_problem(api.post(url(key, "/archive"), **kwargs), status)
    assert entries(api, key) == before


# --- GET …/revisions/{n} ----------------------------------------------------------------------


def test_every_revision_reads_back_as_get_returned_it_then(api, key):
    seen = {1: api.get(url(key)).get_json()}
    seen[2] = save(api, key, with_step_added(source(), "security_review", at=2), reason="Audit")
    assert api.post(url(key, "/complete"), json={"reason": "Shipped"}).status_code == 200
    seen[3] = api.get(url(key)).get_json()  # status only: the definition is revision 2's
    for number, body in seen.items():
        response = api.get(url(key, f"/revisions/{number}"))
        assert response.status_code == 200
        revision = response.get_json()
        assert set(revision) == REVISION_FIELDS
        assert revision["revision"] == number
        assert canonical(revision["definition"]) == canonical(body["effective_workflow"])
        assert revision["content_hash"] == content_hash(body["effective_workflow"])
    assert api.get(url(key, "/revisions/2")).get_json()["reason"] == "Audit"
    assert api.get(url(key, "/revisions/3")).get_json()["reason"] == "Shipped"
    assert api.get(url(key, "/revisions/1")).get_json()["changed_by"] == "alice"


@pytest.mark.parametrize("number", ["0", "2", "99999999999", "-1", "x"])
def test_revision_beyond_the_current_one_is_404(api, key, number):
    assert_problem(api.get(url(key, f"/revisions/{number}")), 404)


def test_revisions_of_someone_elses_project_are_404(api_for, make_user, key):
    bob = api_for(make_user("bob"))
    assert_problem(bob.get(url(key, "/revisions/1")), 404)
    assert_problem(bob.get(url(key, "/compare?from=1&to=current")), 404)
    assert_problem(bob.post(url(key, "/restore"), json={"revision": 1}), 404)


def test_reading_any_revision_costs_one_checkpoint_and_a_bounded_replay(api, key, count_queries):
    bodies = {1: source()}
    for number in range(2, 2 * CHECKPOINT_EVERY + 12):
        definition = edited(source(), description=f"edit {number}")
        if number % 7 == 0:
            definition = with_step_moved_first(definition, "delivery_planning")
        bodies[number] = save(api, key, definition)["effective_workflow"]
    instance = instance_of(key)
    latest = instance.revision
    assert latest == 2 * CHECKPOINT_EVERY + 11
    statements = set()
    for number in range(1, latest + 1):
        revision = revisions_module.read_revision(db.session, instance, number)
        assert revision.replayed_saves < CHECKPOINT_EVERY
        assert canonical(revision.definition) == canonical(bodies[number])
        with count_queries() as queries:
            assert api.get(url(key, f"/revisions/{number}")).status_code == 200
        statements.add(len(queries))
    # The same few statements whatever the revision: project, instance, checkpoint, history.
    assert max(statements) <= 5, statements
    far = revisions_module.read_revision(db.session, instance, latest - 1)
    assert far.replayed_saves == (latest - 1) % CHECKPOINT_EVERY


# --- base not known ---------------------------------------------------------------------------


def forget_base(key: str) -> WorkflowInstance:
    """Make the instance look like one the migration could not rebuild the base of."""
    instance = instance_of(key)
    db.session.execute(
        delete(WorkflowInstanceCheckpoint).where(
            WorkflowInstanceCheckpoint.instance_id == instance.id
        )
    )
    db.session.add(
        WorkflowInstanceCheckpoint(
            instance_id=instance.id,
            revision=instance.revision,
            definition=instance.effective_workflow,
            content_hash=content_hash(instance.effective_workflow),
        )
    )
    db.session.commit()
    return instance


def test_revisions_before_an_unknown_base_are_409_saying_why(api, key):
    save(api, key, edited(source(), description="one"))
    save(api, key, edited(source(), description="two"))
    forget_base(key)
    body = assert_problem(api.get(url(key, "/revisions/1")), 409)
    assert "cannot be rebuilt" in body["detail"] and "from 3 on" in body["detail"]
    assert api.get(url(key, "/revisions/3")).status_code == 200
    assert_problem(api.get(url(key, "/compare?from=1&to=current")), 409)
    assert_problem(api.post(url(key, "/restore"), json={"revision": 2}), 409)
    later = save(api, key, edited(source(), description="three"))
    assert api.get(url(key, "/revisions/3")).get_json()["definition"]["description"] == "two"
    assert api.get(url(key, "/revisions/4")).get_json()["definition"] == later["effective_workflow"]


# --- compare ----------------------------------------------------------------------------------


def test_compare_two_revisions_lists_what_changed_and_applies(api, key):
    moved = with_step_moved_first(
        with_step_added(source(), "security_review", at=2), "delivery_planning"
    )
    save(api, key, moved)
    response = api.get(url(key, "/compare?from=1&to=2"))
    assert response.status_code == 200
    result = response.get_json()
    assert result["steps_added"] == ["security_review"]
    assert result["steps_moved"] == ["delivery_planning"]
    assert result["step_moves"][0]["step_id"] == "delivery_planning"
    assert result["steps_removed"] == [] and result["metadata_changes"] == []
    assert result["from"] == {"side": "1", "revision": 1, "content_hash": content_hash(source())}
    assert result["to"]["side"] == "2" and result["to"]["revision"] == 2
    assert canonical(replay(source(), diff_of_comparison(result))) == canonical(moved)
    back = api.get(url(key, "/compare?from=current&to=1")).get_json()
    assert back["steps_removed"] == ["security_review"]
    assert back["from"]["side"] == "current" and back["from"]["revision"] == 2


def test_compare_with_the_source_as_it_is_now(api, key):
    save(api, key, edited(source(), description="ours"))
    result = api.get(url(key, "/compare?from=source&to=current")).get_json()
    assert [change["field"] for change in result["metadata_changes"]] == ["description"]
    assert result["from"]["side"] == "source" and result["from"]["revision"] is None
    same = api.get(url(key, "/compare?from=source&to=1")).get_json()
    assert same["is_same"] is True


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("from=0&to=1", "from"),
        ("from=1&to=3", "to"),
        ("from=abc&to=1", "from"),
        ("from=1&to=-2", "to"),
        ("from=1", "to"),
        ("to=1", "from"),
        ("from=1&to=1.5", "to"),
        ("from=1&to=%00", "to"),
        ("from=1&to=current&extra=1", "extra"),
    ],
)
def test_bad_compare_sides_are_422_naming_the_parameter(api, key, query, parameter):
    save(api, key, edited(source(), description="ours"))
    assert_problem(api.get(url(key, f"/compare?{query}")), 422, parameter)


def test_compare_names_both_sides_at_once_when_neither_exists(api, key):
    save(api, key, edited(source(), description="ours"))
    body = assert_problem(api.get(url(key, "/compare?from=7&to=9")), 422)
    assert body["errors"] == {
        "from": ["Revision 7 does not exist: the workflow is at revision 2."],
        "to": ["Revision 9 does not exist: the workflow is at revision 2."],
    }


# --- restore ----------------------------------------------------------------------------------


def test_restore_makes_an_old_revision_current_as_one_new_change(api, key):
    first = save(api, key, with_step_added(source(), "security_review"), reason="Add review")
    save(api, key, edited(first["effective_workflow"], description="later"))
    etag = api.get(url(key)).headers["ETag"]
    response = api.post(
        url(key, "/restore"),
        json={"revision": 1, "reason": "Back to the release"},
        headers={"If-Match": etag},
    )
    assert response.status_code == 200, response.get_json()
    restored = response.get_json()
    assert restored["revision"] == 4
    assert canonical(restored["effective_workflow"]) == canonical(source())
    newest = [entry for entry in entries(api, key) if entry["revision"] == 4]
    assert {entry["change_type"] for entry in newest} == {"step_removed", "metadata_changed"}
    assert all(entry["change_detail"]["restored_from"] == 1 for entry in newest)
    assert all(entry["reason"] == "Back to the release" for entry in newest)
    assert canonical(api.get(url(key, "/revisions/4")).get_json()["definition"]) == canonical(
        source()
    )


def test_restoring_what_the_workflow_holds_writes_nothing(api, key):
    save(api, key, edited(source(), description="one"))
    save(api, key, edited(source(), description="two"))
    save(api, key, edited(source(), description="one"))  # revision 4 equals revision 2
    before = entries(api, key)
    for number in (2, 4):
        response = api.post(url(key, "/restore"), json={"revision": number})
        assert response.status_code == 200
        assert response.get_json()["revision"] == 4
    assert entries(api, key) == before


def test_restore_with_a_stale_etag_is_412_and_writes_nothing(api, key):
    stale = api.get(url(key)).headers["ETag"]
    save(api, key, edited(source(), description="one"))
    before = entries(api, key)
    assert_problem(
        api.post(url(key, "/restore"), json={"revision": 1}, headers={"If-Match": stale}), 412
    )
    assert entries(api, key) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"revision": 3}, "/revision"),
        ({"revision": 0}, "/revision"),
        ({"revision": "1"}, "/revision"),
        ({"revision": 1.5}, "/revision"),
        ({"revision": True}, "/revision"),
        ({}, "/revision"),
        ({"revision": 1, "reason": "r" * 1001}, "/reason"),
        ({"revision": 1, "when": "now"}, "/when"),
    ],
)
def test_bad_restore_is_422_naming_the_field(api, key, body, field):
    save(api, key, edited(source(), description="one"))
    before = entries(api, key)
    assert_problem(api.post(url(key, "/restore"), json=body), 422, field)
    assert entries(api, key) == before


def test_a_revision_written_as_1_0_is_revision_1_as_the_document_says(api, key):
    save(api, key, edited(source(), description="one"))
    restored = api.post(url(key, "/restore"), json={"revision": 1.0})
    assert restored.status_code == 200, restored.get_json()
    assert restored.get_json()["revision"] == 3


def test_restore_of_a_completed_workflow_or_archived_project_is_409(api, key):
    save(api, key, edited(source(), description="one"))
    api.post(url(key, "/complete"))
    assert_problem(api.post(url(key, "/restore"), json={"revision": 1}), 409)
    assert api.post(f"/projects/{key}/archive").status_code == 200
    assert_problem(api.post(url(key, "/restore"), json={"revision": 1}), 409)


def test_history_entries_keep_their_revision_order_after_restores(api, key):
    save(api, key, edited(source(), description="one"))
    api.post(url(key, "/restore"), json={"revision": 1})
    api.post(url(key, "/restore"), json={"revision": 2})
    revisions = [entry["revision"] for entry in entries(api, key)]
    assert revisions == sorted(revisions, reverse=True) and revisions[0] == 4
    kinds = db.session.scalars(
        select(WorkflowInstanceHistory.change_type).where(
            WorkflowInstanceHistory.instance_id == instance_of(key).id,
            WorkflowInstanceHistory.revision == 4,
        )
    ).all()
    assert kinds == ["metadata_changed"]
    assert api.get(url(key, "/revisions/4")).get_json()["definition"] == edited(
        source(), description="one"
    )


@pytest.mark.parametrize("header", ['""', '"", W/""'])
def test_an_empty_if_match_tag_names_nothing_and_is_412(api, key, header):
    before = entries(api, key)
    assert_problem(
        api.post(url(key, "/restore"), json={"revision": 1}, headers={"If-Match": header}), 412
    )
    assert_problem(
        api.put(url(key), json={"effective_workflow": source()}, headers={"If-Match": header}), 412
    )
    assert entries(api, key) == before
