"""The history's sentences for deviation requests and decisions, as pure code."""

from __future__ import annotations

from combine_app.web.workflow_words import describe_entry

KEY = "step_modified:design:task_prompt"


def test_a_request_says_who_asked_what_and_until_when_the_reason_is_the_entrys_own_line():
    detail = {"key": KEY, "reason": "Ours.", "review_by": "2026-12-31", "status": "requested"}
    assert describe_entry("deviation_requested", detail, "bob") == [
        f"bob asked to accept the difference {KEY} (review by 2026-12-31)"
    ]


def test_an_approval_names_the_requester_and_the_note_an_immediate_acceptance_does_not():
    approved = {"key": KEY, "reason": "Ours.", "requested_by": "bob", "note": "Fine."}
    assert describe_entry("deviation_accepted", approved, "carol") == [
        f"carol accepted the difference {KEY}, requested by bob, noting “Fine.”"
    ]
    at_once = {"key": KEY, "reason": "Ours.", "review_by": None}
    assert describe_entry("deviation_accepted", at_once, "alice") == [
        f"alice accepted the difference {KEY}"
    ]


def test_a_rejection_and_withdrawals_say_what_they_ended():
    assert describe_entry("deviation_rejected", {"key": KEY, "requested_by": "bob"}, "dave") == [
        f"dave rejected the request to accept {KEY} by bob"
    ]
    request = {"key": KEY, "status": "requested"}
    assert describe_entry("deviation_withdrawn", request, "bob") == [
        f"bob withdrew the request to accept {KEY}"
    ]
    acceptance = {"key": KEY, "status": "accepted"}
    assert describe_entry("deviation_withdrawn", acceptance, "carol") == [
        f"carol withdrew the acceptance of {KEY}"
    ]
