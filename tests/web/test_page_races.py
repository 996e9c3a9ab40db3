"""Two browser sessions assigning a workflow at once, under real gunicorn on PostgreSQL."""

from __future__ import annotations

import functools

import pytest

from tests.support.form_session import FormSession
from tests.support.served import call, serve_fresh_database
from tests.workflows.test_concurrency import all_at_once

pytestmark = pytest.mark.server

PASSWORD = "correct horse battery"
SPD = "software_product_development"
ROUNDS = 6


@pytest.fixture(scope="module")
def served(postgres_admin_url, tmp_path_factory):
    """gunicorn with 2 workers on a migrated database; alice's token."""
    log_dir = tmp_path_factory.mktemp("gunicorn")
    with serve_fresh_database(postgres_admin_url, log_dir, workers=2, password=PASSWORD) as (
        servers,
        token,
    ):
        yield servers[0], token


def test_two_sessions_assigning_at_once_get_one_workflow_and_a_clean_message(served):
    gunicorn, token = served
    browsers = [FormSession(gunicorn.port), FormSession(gunicorn.port)]
    assert [browser.sign_in("alice", PASSWORD) for browser in browsers] == [302, 302]
    for round_number in range(ROUNDS):
        status, _, project = call(
            gunicorn.port,
            "POST",
            "/api/v1/projects",
            token=token,
            body={"name": f"R{round_number}"},
        )
        assert status == 201
        key = project["project_id"]
        form = {"workflow_id": SPD, f"version:{SPD}": "1.1.0"}
        tokens = [browser.csrf_token(f"/projects/{key}") for browser in browsers]
        path = f"/projects/{key}/workflow"
        posts = [
            functools.partial(browser.request, "POST", path, {**form, "csrf_token": csrf})
            for browser, csrf in zip(browsers, tokens, strict=True)
        ]
        results = all_at_once(posts)
        assert [status for status, _, _ in results] == [302, 302]
        pages = [browser.request("GET", f"/projects/{key}")[2] for browser in browsers]
        assigned = [page for page in pages if "Assigned software_product_development" in page]
        refused = [page for page in pages if "already has a workflow instance" in page]
        assert len(assigned) == 1 and len(refused) == 1, pages
        status, _, instance = call(
            gunicorn.port, "GET", f"/api/v1/projects/{key}/workflow", token=token
        )
        assert status == 200 and instance["revision"] == 1
    assert "Traceback" not in gunicorn.log()
