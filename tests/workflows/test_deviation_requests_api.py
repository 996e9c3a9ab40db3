"""Deviation requests through /api/v1 on both databases: immediate acceptance, review dates and
expiry with a controlled clock, If-Match on every change, decisions that do not apply."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.support.problems import assert_problem

from .deviation_support import (
    PROMPT_KEY,
    approve,
    assign,
    edit,
    etag,
    history,
    listed,
    prompt_item,
    reject,
    request,
    revision,
    withdraw,
)


@pytest.fixture
def key(make_project, alice) -> str:
    """One of alice's projects, its workflow's discovery prompt edited (revision 2)."""
    return make_project(alice).project_id


@pytest.fixture
def drifted(api, key) -> str:
    assign(api, key)
    edit(api, key, "Our own discovery prompt.")
    return key


def test_an_owner_without_four_eyes_accepts_at_once_as_requester_and_acceptor(api, drifted, clock):
    response = request(api, drifted, review_by="2026-12-31")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["status"] == "accepted"
    assert (body["requested_by"], body["accepted_by"]) == ("alice", "alice")
    assert body["review_by"] == "2026-12-31" and body["note"] is None
    assert body["revision"] == 3
    assert response.headers["ETag"] == etag(api, drifted)
    assert response.headers["ETag"].endswith(':3"')
    assert prompt_item(api, drifted)["explained"] is True
    assert [entry["change_type"] for entry in history(api, drifted)][:1] == ["deviation_accepted"]


def test_an_acceptance_expires_the_day_after_its_review_by_date_and_a_renewal_explains_again(
    api, drifted, clock
):
    today = clock.today.isoformat()
    assert request(api, drifted, review_by=today).status_code == 201
    assert prompt_item(api, drifted)["explained"] is True

    clock.advance(1)
    item = prompt_item(api, drifted)
    assert item["explained"] is False
    assert item["acceptance"]["status"] == "expired"
    assert listed(api, drifted)[PROMPT_KEY]["status"] == "expired"
    drift = api.get(f"/projects/{drifted}/workflow/drift").get_json()
    assert (drift["unexplained_count"], drift["is_drifted_unexplained"]) == (1, True)

    renewal = (clock.today + timedelta(days=30)).isoformat()
    renewed = request(api, drifted, reason="Still ours after review.", review_by=renewal)
    assert renewed.status_code == 201
    assert renewed.get_json()["status"] == "accepted"
    assert prompt_item(api, drifted)["explained"] is True
    latest = history(api, drifted)[0]
    assert latest["change_detail"]["replaces"]["review_by"] == today


def test_review_by_may_be_today_but_never_in_the_past_and_must_be_a_date(api, drifted, clock):
    before = revision(api, drifted)
    yesterday = (clock.today - timedelta(days=1)).isoformat()
    for value in (yesterday, "5 December", "2026-13-01", 20261205):
        body = assert_problem(request(api, drifted, review_by=value), 422)
        assert list(body["errors"]) == ["/review_by"], body
    assert revision(api, drifted) == before and listed(api, drifted) == {}
    assert request(api, drifted, review_by=clock.today.isoformat()).status_code == 201


@pytest.mark.parametrize("route", ["request", "approve", "reject", "withdraw"])
def test_every_change_with_a_stale_if_match_is_412_with_the_current_etag_and_writes_nothing(
    api, drifted, route
):
    stale = etag(api, drifted)
    edit(api, drifted, "Changed again.")
    current = etag(api, drifted)
    calls = {
        "request": lambda headers: request(api, drifted, headers=headers),
        "approve": lambda headers: approve(api, drifted, headers=headers),
        "reject": lambda headers: reject(api, drifted, headers=headers),
        "withdraw": lambda headers: withdraw(api, drifted, headers=headers),
    }
    response = calls[route]({"If-Match": stale})
    assert_problem(response, 412)
    assert response.headers["ETag"] == current
    assert etag(api, drifted) == current and listed(api, drifted) == {}


def test_request_and_withdraw_with_the_current_if_match_answer_the_new_etag(api, drifted):
    current = etag(api, drifted)
    made = request(api, drifted, headers={"If-Match": current})
    assert made.status_code == 201
    assert made.headers["ETag"] == etag(api, drifted) != current
    gone = withdraw(api, drifted, headers={"If-Match": made.headers["ETag"]})
    assert gone.status_code == 204
    assert gone.headers["ETag"] == etag(api, drifted) != made.headers["ETag"]


def test_withdrawing_an_acceptance_is_recorded_with_what_it_was(api, drifted):
    assert request(api, drifted).status_code == 201
    assert withdraw(api, drifted).status_code == 204
    entry = history(api, drifted)[0]
    assert entry["change_type"] == "deviation_withdrawn"
    assert entry["change_detail"]["status"] == "accepted"
    assert entry["change_detail"]["accepted_by"] == "alice"
    assert prompt_item(api, drifted)["acceptance"] is None


def test_deciding_without_a_request_is_404_and_deciding_an_acceptance_is_409(api, drifted):
    assert_problem(approve(api, drifted), 404)
    assert_problem(reject(api, drifted), 404)
    assert request(api, drifted).status_code == 201
    before = revision(api, drifted)
    assert "accepted already" in assert_problem(approve(api, drifted), 409)["detail"]
    assert_problem(reject(api, drifted), 409)
    assert revision(api, drifted) == before


def test_a_note_and_a_rejection_reason_are_checked_like_reasons(api, drifted):
    body = assert_problem(approve(api, drifted, note="x" * 1001), 422)
    assert list(body["errors"]) == ["/note"]
    body = assert_problem(reject(api, drifted, reason="   "), 422)
    assert list(body["errors"]) == ["/reason"]
