"""Deviation requests in the pages on both databases: who sees which decision, with which words;
review-by dates; the "Waiting for your decision" page and its count."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from combine_app.workflows.four_eyes import MADE_IT, REQUESTER_REJECTS
from tests.conftest import PASSWORD, csrf_token_from
from tests.web.test_workflow_pages import text
from tests.workflows.deviation_support import PROMPT_KEY, assign, edit, request

ROLE_NEEDED = "This needs the role approver or owner."


class Browser:
    """One person's signed-in test client, posting forms with their session's CSRF token.

    Every request runs in a fresh app context: the test's outer one would otherwise share ``g``
    (Flask-Login's cached user) between all clients, as no two real browsers ever do.
    """

    def __init__(self, app, user):
        self.app = app
        self.client = app.test_client()
        page = self.open("GET", "/login").get_data(as_text=True)
        form = {
            "username": user.username,
            "password": PASSWORD,
            "csrf_token": csrf_token_from(page),
        }
        response = self.open("POST", "/login", data=form)
        assert response.status_code == 302, response.get_data(as_text=True)
        self.token = csrf_token_from(self.page("/projects"))

    def open(self, method: str, url: str, **kwargs):
        with self.app.app_context():
            return self.client.open(url, method=method, **kwargs)

    def page(self, url: str) -> str:
        response = self.open("GET", url)
        assert response.status_code == 200, response.status_code
        return response.get_data(as_text=True)

    def post(self, url: str, **fields):
        return self.open("POST", url, data={"csrf_token": self.token, **fields})


class Team:
    """alice owns a project with four-eyes on; bob edits, carol approves, vic views."""

    def __init__(self, app, api_for, make_user, make_project, alice):
        self.users = {"alice": alice}
        for name in ("bob", "carol", "vic"):
            self.users[name] = make_user(name)
        self.api = {name: api_for(user) for name, user in self.users.items()}
        self.project = make_project(alice)
        self.key = self.project.project_id
        for name, role in (("bob", "editor"), ("carol", "approver"), ("vic", "viewer")):
            response = self.api["alice"].put(
                f"/projects/{self.key}/members/{name}", json={"role": role}
            )
            assert response.status_code == 201, response.get_json()
        response = self.api["alice"].patch(
            f"/projects/{self.key}", json={"policy": {"four_eyes": True}}
        )
        assert response.status_code == 200, response.get_json()
        assign(self.api["alice"], self.key)
        self.app = app

    def browser(self, name: str) -> Browser:
        return Browser(self.app, self.users[name])

    @property
    def drift_url(self) -> str:
        return f"/projects/{self.key}/workflow/drift"


@pytest.fixture
def team(app, api_for, make_user, make_project, alice, clock) -> Team:
    return Team(app, api_for, make_user, make_project, alice)


def item_html(page: str, key: str = PROMPT_KEY) -> str:
    match = re.search(rf'<li data-key="{re.escape(key)}"[^>]*>(.*?)</li>', page, re.S)
    assert match, f"no item {key} on the page"
    return match.group(1)


def waiting_count(page: str) -> int:
    match = re.search(r'class="waiting-link">[^<]*<span[^>]*>(\d+)</span>', page)
    assert match, "the top bar shows no waiting count"
    return int(match.group(1))


def test_an_editor_requests_and_sees_who_asked_why_and_no_approve_button(team):
    edit(team.api["bob"], team.key, "Bob's discovery prompt.")
    bob = team.browser("bob")
    item = item_html(bob.page(team.drift_url))
    assert "Request acceptance…" in item and 'name="review_by"' in item
    response = bob.post(
        f"/projects/{team.key}/workflow/deviations",
        key=PROMPT_KEY,
        reason="Our discovery runs differently.",
        review_by="2026-12-31",
    )
    assert response.status_code == 302, text(response.get_data(as_text=True))
    page = bob.page(team.drift_url)
    assert "Requested: an approver or owner must now decide." in text(page)
    item = item_html(page)
    shown = text(item)
    assert "Acceptance requested by bob" in shown
    assert "Our discovery runs differently." in shown and "review by 2026-12-31" in shown
    assert ">Approve<" not in item and "Reject…" not in item
    assert ROLE_NEEDED in shown
    assert "Withdraw request" in shown  # his own request


def test_the_author_of_the_difference_sees_why_they_cannot_approve_but_may_reject(team):
    edit(team.api["alice"], team.key, "Alice's discovery prompt.")
    assert request(team.api["bob"], team.key).status_code == 201
    item = item_html(team.browser("alice").page(team.drift_url))
    assert ">Approve<" not in item
    assert MADE_IT in text(item)
    assert "Reject…" in item


def test_an_approver_approves_from_the_drift_page_and_the_badge_changes(team):
    edit(team.api["bob"], team.key, "Bob's discovery prompt.")
    assert request(team.api["bob"], team.key).status_code == 201
    carol = team.browser("carol")
    page = carol.page(team.drift_url)
    assert "Drifted" in text(page)
    item = item_html(page)
    assert ">Approve<" in item and "Reject…" in item
    revision = re.search(r'name="revision" value="(\d+)"', item).group(1)
    response = carol.post(
        f"/projects/{team.key}/workflow/deviations/approve",
        key=PROMPT_KEY,
        note="Checked with product.",
        revision=revision,
    )
    assert response.status_code == 302
    page = carol.page(team.drift_url)
    assert "Approved: the difference is explained." in text(page)
    shown = text(item_html(page))
    assert "accepted by carol" in shown and "requested by bob" in shown
    assert "Note: Checked with product." in shown


def test_a_viewer_is_offered_no_request_and_no_decision(team):
    edit(team.api["bob"], team.key, "Bob's discovery prompt.")
    item = item_html(team.browser("vic").page(team.drift_url))
    assert "Request acceptance…" not in item and "Accept as intended…" not in item


def test_a_review_by_in_the_past_is_refused_next_to_its_field_keeping_the_reason(team, clock):
    edit(team.api["bob"], team.key, "Bob's discovery prompt.")
    response = team.browser("bob").post(
        f"/projects/{team.key}/workflow/deviations",
        key=PROMPT_KEY,
        reason="Kept as typed.",
        review_by=(clock.today - timedelta(days=1)).isoformat(),
    )
    assert response.status_code == 422
    item = item_html(response.get_data(as_text=True))
    error = re.search(r'<p class="field-error" id="review-by-[^"]+-error"[^>]*>(.*?)</p>', item)
    assert error and "cannot be in the past" in error.group(1)
    assert "Kept as typed.</textarea>" in item


def test_the_requester_cannot_reject_and_a_rejection_needs_a_reason(team):
    edit(team.api["bob"], team.key, "Bob's discovery prompt.")
    assert request(team.api["carol"], team.key).status_code == 201
    carol = team.browser("carol")
    item = item_html(carol.page(team.drift_url))
    assert "Reject…" not in item and REQUESTER_REJECTS in text(item)
    alice = team.browser("alice")
    response = alice.post(
        f"/projects/{team.key}/workflow/deviations/reject", key=PROMPT_KEY, reason="  "
    )
    assert response.status_code == 422
    assert "A reason is required." in text(item_html(response.get_data(as_text=True)))


def test_a_decision_from_a_page_shown_before_a_change_is_refused_as_stale(team):
    edit(team.api["bob"], team.key, "Bob's discovery prompt.")
    assert request(team.api["bob"], team.key).status_code == 201
    carol = team.browser("carol")
    item = item_html(carol.page(team.drift_url))
    revision = re.search(r'name="revision" value="(\d+)"', item).group(1)
    response = team.api["bob"].delete(f"/projects/{team.key}/workflow/deviations/{PROMPT_KEY}")
    assert response.status_code == 204
    assert request(team.api["bob"], team.key, reason="Asked again.").status_code == 201
    response = carol.post(
        f"/projects/{team.key}/workflow/deviations/approve", key=PROMPT_KEY, revision=revision
    )
    assert response.status_code == 412
    assert "changed since you read it" in text(response.get_data(as_text=True))


def test_the_waiting_page_lists_what_the_user_may_decide_and_the_top_bar_counts_it(team):
    edit(team.api["bob"], team.key, "Bob's discovery prompt.")
    carol, bob = team.browser("carol"), team.browser("bob")
    assert waiting_count(carol.page("/projects")) == 0
    assert request(team.api["bob"], team.key, reason="Please accept.").status_code == 201
    page = carol.page("/decisions")
    assert waiting_count(page) == 1
    assert "Waiting for your decision (1)" in text(page)
    assert "Please accept." in text(page) and team.key in text(page)
    assert waiting_count(bob.page("/decisions")) == 0  # an editor decides nothing
    response = carol.post(
        f"/projects/{team.key}/workflow/deviations/approve", key=PROMPT_KEY, next="waiting"
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("/decisions")
    page = carol.page("/decisions")
    assert waiting_count(page) == 0 and "Nothing is waiting for you" in text(page)


def test_the_waiting_page_reads_a_fixed_number_of_statements_however_many_projects(
    team, make_project, count_queries
):
    alice, carol = team.api["alice"], team.browser("carol")

    def add_requests(count: int) -> None:
        for number in range(count):
            key = make_project(team.users["alice"], f"Waiting {number}").project_id
            response = alice.put(f"/projects/{key}/members/carol", json={"role": "approver"})
            assert response.status_code == 201
            assign(alice, key)
            edit(alice, key, f"Prompt {number}.")
            response = alice.patch(f"/projects/{key}", json={"policy": {"four_eyes": True}})
            assert request(alice, key).status_code == 201

    def statements() -> tuple[int, int]:
        with count_queries() as seen:
            page = carol.page("/decisions")
        return len(seen), waiting_count(page)

    add_requests(2)
    few, shown_few = statements()
    add_requests(6)
    many, shown_many = statements()
    assert (shown_few, shown_many) == (2, 8)
    assert many == few, "the waiting page reads more statements for more projects"
