"""Every request that changes an instance honours If-Match and answers the new ETag.

INTERFACE.md section 3: PUT, restore, complete, archive, accepting and withdrawing a deviation
each refuse a stale If-Match with 412 (carrying the current ETag) and write nothing, and each
success answers the instance's new ETag, so a client can chain changes on the ETags it is given.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

from tests.support.problems import assert_problem
from tests.workflows.instance_support import SPD, with_step_field

PROMPT_KEY = "step_modified:product_discovery:task_prompt"


def _edit(api, key, headers):
    current = api.get(f"/projects/{key}/workflow").get_json()["effective_workflow"]
    changed = with_step_field(current, "product_discovery", "task_prompt", "Edited again.")
    return api.put(
        f"/projects/{key}/workflow", json={"effective_workflow": changed}, headers=headers
    )


def _restore(api, key, headers):
    return api.post(f"/projects/{key}/workflow/restore", json={"revision": 1}, headers=headers)


def _complete(api, key, headers):
    return api.post(f"/projects/{key}/workflow/complete", headers=headers)


def _archive(api, key, headers):
    return api.post(f"/projects/{key}/workflow/archive", json={"reason": "Done."}, headers=headers)


def _accept(api, key, headers, reason: str = "Our discovery differs."):
    body = {"key": PROMPT_KEY, "reason": reason}
    return api.post(f"/projects/{key}/workflow/deviations", json=body, headers=headers)


def _withdraw(api, key, headers):
    return api.delete(f"/projects/{key}/workflow/deviations/{PROMPT_KEY}", headers=headers)


CHANGES: dict[str, Callable] = {
    "put": _edit,
    "restore": _restore,
    "complete": _complete,
    "archive": _archive,
    "accept deviation": _accept,
    "withdraw deviation": _withdraw,
}


@pytest.fixture
def key(make_project, alice) -> str:
    """The key of one of alice's projects."""
    return make_project(alice).project_id


@pytest.fixture
def instance(api, key) -> dict:
    """SPD 1.1.0 at revision 3, with its ETag: created, its discovery prompt edited (a drift
    item to accept), that item accepted (an acceptance to withdraw)."""
    response = api.post(f"/projects/{key}/workflow", json={"workflow_id": SPD, "version": "1.1.0"})
    assert response.status_code == 201, response.get_json()
    current = response.get_json()["effective_workflow"]
    changed = with_step_field(current, "product_discovery", "task_prompt", "Ours.")
    edited = api.put(f"/projects/{key}/workflow", json={"effective_workflow": changed})
    assert edited.status_code == 200, edited.get_json()
    assert _accept(api, key, {}, reason="The first reason.").status_code == 201
    got = api.get(f"/projects/{key}/workflow")
    assert got.get_json()["revision"] == 3
    return {"body": got.get_json(), "etag": got.headers["ETag"]}


def _state(api, key) -> tuple:
    got = api.get(f"/projects/{key}/workflow")
    history = api.get(f"/projects/{key}/workflow/history?limit=100").get_json()
    deviations = api.get(f"/projects/{key}/workflow/deviations").get_json()
    return got.get_json(), got.headers["ETag"], history, deviations


@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
def test_a_stale_if_match_is_412_with_the_current_etag_and_writes_nothing(
    api, key, instance, change
):
    before = _state(api, key)
    stale = f'"{instance["body"]["id"]}:2"'
    body = assert_problem(change(api, key, {"If-Match": stale}), 412)
    assert "revision 3" in body["detail"]
    assert _state(api, key) == before
    response = change(api, key, {"If-Match": stale})
    assert response.headers["ETag"] == instance["etag"]


@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
def test_an_if_match_naming_another_instance_is_412(api, key, instance, change):
    before = _state(api, key)
    other = f'"{uuid.uuid4()}:3"'
    response = change(api, key, {"If-Match": other})
    assert_problem(response, 412)
    assert response.headers["ETag"] == instance["etag"]
    assert _state(api, key) == before


@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
def test_a_current_if_match_succeeds_and_answers_the_new_etag(api, key, instance, change):
    response = change(api, key, {"If-Match": instance["etag"]})
    assert response.status_code < 300, response.get_data(as_text=True)
    after = api.get(f"/projects/{key}/workflow")
    assert after.get_json()["revision"] == 4
    assert response.headers["ETag"] == after.headers["ETag"] == f'"{instance["body"]["id"]}:4"'


@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
def test_the_star_and_no_if_match_both_act(api, key, instance, change):
    assert change(api, key, {"If-Match": "*"}).status_code < 300
    assert api.get(f"/projects/{key}/workflow").get_json()["revision"] == 4


def test_each_answered_etag_is_good_for_the_next_change(api, key, instance):
    """A client holding only the ETag of its last answer never meets a 412 of its own."""
    tag = instance["etag"]
    for change in (_withdraw, _accept, _edit, _restore, _complete, _archive):
        response = change(api, key, {"If-Match": tag})
        assert response.status_code < 300, (change.__name__, response.get_data(as_text=True))
        assert response.headers["ETag"] != tag
        tag = response.headers["ETag"]
    assert api.get(f"/projects/{key}/workflow").headers["ETag"] == tag


def test_a_refused_change_answers_no_etag_of_a_change(api, key, instance):
    """A 409 (here: completing twice) is not a change: it names no new revision."""
    assert _complete(api, key, {}).status_code == 200
    response = _complete(api, key, {"If-Match": "*"})
    assert_problem(response, 409)
    assert "ETag" not in response.headers


def test_the_document_declares_if_match_412_and_etag_on_every_change(api):
    document = api.get("/openapi.json").get_json()
    changes = [
        ("put", "/api/v1/projects/{project_id}/workflow"),
        ("post", "/api/v1/projects/{project_id}/workflow/restore"),
        ("post", "/api/v1/projects/{project_id}/workflow/complete"),
        ("post", "/api/v1/projects/{project_id}/workflow/archive"),
        ("post", "/api/v1/projects/{project_id}/workflow/deviations"),
        ("delete", "/api/v1/projects/{project_id}/workflow/deviations/{key}"),
    ]
    for method, path in changes:
        operation = document["paths"][path][method]
        names = [parameter.get("name") for parameter in operation.get("parameters", [])]
        assert "If-Match" in names, (method, path)
        assert "ETag" in operation["responses"]["412"]["headers"], (method, path)
        successes = [status for status in operation["responses"] if int(status) < 300]
        assert successes and all(
            "ETag" in operation["responses"][status]["headers"] for status in successes
        ), (method, path)
