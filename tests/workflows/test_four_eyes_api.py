"""Requests and decisions among a project's members on both databases: four-eyes, roles,
reject and withdraw rules, and the policy's review days."""

from __future__ import annotations

from datetime import timedelta

import pytest

from combine_app.workflows.four_eyes import MADE_IT, REQUESTED_IT, REQUESTER_REJECTS
from tests.support.problems import assert_problem

from .deviation_support import (
    PROMPT_KEY,
    approve,
    assign,
    edit,
    history,
    listed,
    prompt_item,
    reject,
    request,
    revision,
    withdraw,
)


class Team:
    """alice owns the project; bob is its editor, carol and dave approvers, vic a viewer."""

    def __init__(self, api_for, make_user, make_project, alice):
        self.users = {"alice": alice}
        for name in ("bob", "carol", "dave", "vic"):
            self.users[name] = make_user(name)
        self.users["root"] = make_user("root", admin=True)
        self.api = {name: api_for(user) for name, user in self.users.items()}
        self.key = make_project(alice).project_id
        for name, role in (
            ("bob", "editor"),
            ("carol", "approver"),
            ("dave", "approver"),
            ("vic", "viewer"),
        ):
            response = self.api["alice"].put(
                f"/projects/{self.key}/members/{name}", json={"role": role}
            )
            assert response.status_code == 201, response.get_json()
        assign(self.api["alice"], self.key)

    def __getitem__(self, name: str):
        return self.api[name]

    def policy(self, **policy) -> None:
        """Set the project's policy as its owner."""
        response = self["alice"].patch(f"/projects/{self.key}", json={"policy": policy})
        assert response.status_code == 200, response.get_json()
        assert response.get_json()["policy"] == {
            "four_eyes": False,
            "review_days": None,
            **policy,
        }


@pytest.fixture
def team(api_for, make_user, make_project, alice) -> Team:
    return Team(api_for, make_user, make_project, alice)


@pytest.fixture
def four_eyes(team) -> Team:
    """The team with four-eyes on, bob's edit of the discovery prompt saved (revision 2)."""
    team.policy(four_eyes=True)
    edit(team["bob"], team.key, "Bob's discovery prompt.")
    return team


def test_an_editors_request_stays_requested_and_leaves_the_item_unexplained(four_eyes):
    before = revision(four_eyes["bob"], four_eyes.key)
    response = request(four_eyes["bob"], four_eyes.key)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["status"] == "requested"
    assert (body["requested_by"], body["accepted_by"], body["accepted_at"]) == ("bob", None, None)
    assert revision(four_eyes["bob"], four_eyes.key) == before + 1
    item = prompt_item(four_eyes["vic"], four_eyes.key)
    assert item["explained"] is False and item["acceptance"]["status"] == "requested"
    assert history(four_eyes["vic"], four_eyes.key)[0]["change_type"] == "deviation_requested"


def test_the_requester_cannot_approve_and_a_second_approver_can(four_eyes):
    key = four_eyes.key
    assert request(four_eyes["carol"], key).get_json()["status"] == "requested"
    before = revision(four_eyes["carol"], key)
    refused = assert_problem(approve(four_eyes["carol"], key), 403)
    assert refused["detail"] == REQUESTED_IT
    assert revision(four_eyes["carol"], key) == before

    approved = approve(four_eyes["dave"], key, note="Checked with the product lead.")
    assert approved.status_code == 200, approved.get_json()
    body = approved.get_json()
    assert body["status"] == "accepted"
    assert (body["requested_by"], body["accepted_by"]) == ("carol", "dave")
    assert body["note"] == "Checked with the product lead."
    assert prompt_item(four_eyes["vic"], key)["explained"] is True
    entry = history(four_eyes["vic"], key)[0]
    assert entry["change_type"] == "deviation_accepted"
    assert entry["change_detail"]["requested_by"] == "carol"


def test_the_author_of_the_difference_cannot_approve_it(four_eyes):
    key = four_eyes.key
    edit(four_eyes["alice"], key, "Alice's discovery prompt.")
    assert request(four_eyes["bob"], key).status_code == 201
    refused = assert_problem(approve(four_eyes["alice"], key), 403)
    assert refused["detail"] == MADE_IT
    assert approve(four_eyes["carol"], key).status_code == 200


def test_administrators_are_bound_by_four_eyes_too(four_eyes):
    key = four_eyes.key
    edit(four_eyes["root"], key, "The administrator's prompt.")
    assert request(four_eyes["bob"], key).status_code == 201
    assert assert_problem(approve(four_eyes["root"], key), 403)["detail"] == MADE_IT
    # An administrator's own request is a request too, which they cannot decide.
    assert withdraw(four_eyes["bob"], key).status_code == 204
    assert request(four_eyes["root"], key).get_json()["status"] == "requested"
    assert assert_problem(approve(four_eyes["root"], key), 403)["detail"] == REQUESTED_IT
    assert approve(four_eyes["carol"], key).status_code == 200


def test_with_the_policy_off_an_approver_accepts_alone_and_an_author_may_approve(team):
    key = team.key
    edit(team["alice"], key, "Alice's discovery prompt.")
    assert request(team["carol"], key).get_json()["status"] == "accepted"
    assert withdraw(team["carol"], key).status_code == 204
    assert request(team["bob"], key).get_json()["status"] == "requested"
    assert approve(team["alice"], key).get_json()["status"] == "accepted"


def test_only_approvers_and_owners_decide_and_only_members_who_may_edit_request(four_eyes):
    key = four_eyes.key
    refused = assert_problem(request(four_eyes["vic"], key), 403)
    assert "editor" in refused["detail"]
    assert request(four_eyes["bob"], key).status_code == 201
    for name in ("bob", "vic"):
        assert "approver" in assert_problem(approve(four_eyes[name], key), 403)["detail"]
        assert_problem(reject(four_eyes[name], key), 403)


def test_a_rejection_by_another_approver_removes_the_request_and_keeps_its_history(four_eyes):
    key = four_eyes.key
    assert request(four_eyes["carol"], key).status_code == 201
    assert assert_problem(reject(four_eyes["carol"], key), 403)["detail"] == REQUESTER_REJECTS
    rejected = reject(four_eyes["dave"], key, reason="Keep the governed prompt.")
    assert rejected.status_code == 200
    body = rejected.get_json()
    assert (body["status"], body["note"], body["requested_by"]) == (
        "rejected",
        "Keep the governed prompt.",
        "carol",
    )
    assert listed(four_eyes["vic"], key) == {}
    entry = history(four_eyes["vic"], key)[0]
    assert (entry["change_type"], entry["reason"]) == (
        "deviation_rejected",
        "Keep the governed prompt.",
    )
    assert entry["change_detail"]["reason"] == "Ours on purpose."


def test_a_request_is_withdrawn_by_its_requester_or_a_decider_not_by_another_member(
    four_eyes, make_user, api_for
):
    key = four_eyes.key
    erin = make_user("erin")
    response = four_eyes["alice"].put(f"/projects/{key}/members/erin", json={"role": "editor"})
    assert response.status_code == 201
    assert request(four_eyes["bob"], key).status_code == 201
    assert_problem(withdraw(api_for(erin), key), 403)
    assert_problem(withdraw(four_eyes["vic"], key), 403)
    assert withdraw(four_eyes["bob"], key).status_code == 204
    assert request(four_eyes["bob"], key).status_code == 201
    assert withdraw(four_eyes["carol"], key).status_code == 204
    assert [entry["change_type"] for entry in history(four_eyes["vic"], key)][:2] == [
        "deviation_withdrawn",
        "deviation_requested",
    ]


def test_an_acceptance_is_withdrawn_by_an_approver_or_owner_only(four_eyes):
    key = four_eyes.key
    assert request(four_eyes["bob"], key).status_code == 201
    assert approve(four_eyes["carol"], key).status_code == 200
    assert "approver" in assert_problem(withdraw(four_eyes["bob"], key), 403)["detail"]
    assert withdraw(four_eyes["dave"], key).status_code == 204
    assert prompt_item(four_eyes["vic"], key)["acceptance"] is None


def test_a_request_whose_difference_changed_since_cannot_be_approved(four_eyes):
    key = four_eyes.key
    assert request(four_eyes["bob"], key).status_code == 201
    edit(four_eyes["bob"], key, "Bob changed his mind.")
    assert listed(four_eyes["vic"], key)[PROMPT_KEY]["status"] == "changed_since"
    assert "changed since" in assert_problem(approve(four_eyes["carol"], key), 409)["detail"]


def test_review_days_makes_review_by_required_and_bounded(team, clock):
    team.policy(four_eyes=True, review_days=30)
    edit(team["bob"], team.key, "Bob's discovery prompt.")
    for review_by in (None, (clock.today + timedelta(days=31)).isoformat()):
        body = assert_problem(request(team["bob"], team.key, review_by=review_by), 422)
        assert "/review_by" in body["errors"], body
    latest = (clock.today + timedelta(days=30)).isoformat()
    made = request(team["bob"], team.key, review_by=latest)
    assert made.status_code == 201 and made.get_json()["review_by"] == latest


def test_an_approved_acceptance_expires_after_its_review_date(team, clock):
    team.policy(four_eyes=True)
    edit(team["bob"], team.key, "Bob's discovery prompt.")
    today = clock.today.isoformat()
    assert request(team["bob"], team.key, review_by=today).status_code == 201
    assert approve(team["carol"], team.key).status_code == 200
    assert prompt_item(team["vic"], team.key)["explained"] is True
    clock.advance(1)
    item = prompt_item(team["vic"], team.key)
    assert item["explained"] is False and item["acceptance"]["status"] == "expired"
