"""A client generated from the served OpenAPI document walks the API against real gunicorn.

The document is fetched as a client developer would, ``openapi-python-client`` (a dev
dependency) generates a package from it offline, and that package alone (no raw HTTP) creates
a project, assigns a workflow, edits it with If-Match from the last ETag, reads history pages
and drift, accepts a deviation, reads, compares and restores revisions, completes the
workflow and exports its history. This guards the document as clients use it.
"""

from __future__ import annotations

import importlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import skip_without_postgres
from tests.support.served import call, serve_fresh_database

pytestmark = pytest.mark.server

PACKAGE = "combine_api_client"


@pytest.fixture(scope="module")
def generated(tmp_path_factory, postgres_admin_url):
    """(the generated package, an authenticated client of it) against a fresh gunicorn."""
    skip_without_postgres()
    generator = Path(sys.executable).with_name("openapi-python-client")
    work = tmp_path_factory.mktemp("generated")
    with serve_fresh_database(
        postgres_admin_url, work, workers=1, password="generated client 123"
    ) as (servers, token):
        port = servers[0].port
        status, _, document = call(port, "GET", "/api/v1/openapi.json", token=token)
        assert status == 200
        (work / "openapi.json").write_text(json.dumps(document))
        run = subprocess.run(
            [str(generator), "generate", "--path", "openapi.json", "--meta", "none"],
            cwd=work,
            capture_output=True,
            text=True,
            timeout=120,
            env={"PATH": f"{generator.parent}:/usr/bin:/bin", "HOME": str(work)},
            check=False,
        )
        assert run.returncode == 0, run.stdout + run.stderr
        assert "warning" not in (run.stdout + run.stderr).lower(), run.stdout + run.stderr
        # Every model has a name from the document: none is a generated "...Type0" variant.
        numbered = sorted(path.name for path in (work / PACKAGE / "models").glob("*_type_*.py"))
        assert numbered == [], numbered
        sys.path.insert(0, str(work))
        try:
            package = importlib.import_module(PACKAGE)
            client = package.AuthenticatedClient(base_url=f"http://127.0.0.1:{port}", token=token)
            yield package, client
        finally:
            sys.path.remove(str(work))
            for name in [name for name in sys.modules if name.split(".")[0] == PACKAGE]:
                del sys.modules[name]
            shutil.rmtree(work / PACKAGE, ignore_errors=True)


def _answer(response, status: int):
    assert response.status_code == status, response.content[:500]
    return response


def test_the_generated_client_walks_the_api(generated):
    package, client = generated
    projects = importlib.import_module(f"{PACKAGE}.api.projects")
    workflow = importlib.import_module(f"{PACKAGE}.api.workflow")
    models = importlib.import_module(f"{PACKAGE}.models")
    api = {
        name: importlib.import_module(f"{workflow.__name__}.{name}")
        for name in (
            "assign_workflow",
            "get_workflow",
            "update_workflow",
            "get_history",
            "get_drift",
            "accept_deviation",
            "get_revision",
            "compare_revisions",
            "restore_revision",
            "complete_workflow",
            "export_history",
        )
    }
    create_project = importlib.import_module(f"{projects.__name__}.create_project")

    project = _answer(
        create_project.sync_detailed(client=client, body=models.ProjectCreate(name="Walked By")),
        201,
    ).parsed
    key = project.project_id
    body = models.CreateWorkflowInstance(
        workflow_id="software_product_development", version="1.1.0"
    )
    _answer(api["assign_workflow"].sync_detailed(key, client=client, body=body), 201)
    answer = _answer(api["get_workflow"].sync_detailed(key, client=client), 200)
    assert isinstance(answer.parsed, models.WorkflowInstance)
    definition = answer.parsed.effective_workflow
    definition.description = "Edited by the generated client."
    answer = _answer(
        api["update_workflow"].sync_detailed(
            key,
            client=client,
            body=models.UpdateWorkflowInstance(effective_workflow=definition),
            if_match=answer.headers["ETag"],
        ),
        200,
    )
    etag = answer.headers["ETag"]
    first = _answer(api["get_history"].sync_detailed(key, client=client, limit=1), 200).parsed
    second = _answer(
        api["get_history"].sync_detailed(key, client=client, offset=1, limit=1), 200
    ).parsed
    assert first.total == second.total == 2
    assert first.entries[0].id != second.entries[0].id
    drift = _answer(api["get_drift"].sync_detailed(key, client=client), 200).parsed
    assert drift.is_drifted and drift.items
    answer = _answer(
        api["accept_deviation"].sync_detailed(
            key,
            client=client,
            body=models.AcceptDeviation(key=drift.items[0].key, reason="Fine here."),
            if_match=etag,
        ),
        201,
    )
    etag = answer.headers["ETag"]
    _answer(api["get_revision"].sync_detailed(key, 1, client=client), 200)
    _answer(api["compare_revisions"].sync_detailed(key, client=client, from_="1", to="2"), 200)
    answer = _answer(
        api["restore_revision"].sync_detailed(
            key, client=client, body=models.Restore(revision=1, reason="Back."), if_match=etag
        ),
        200,
    )
    answer = _answer(
        api["complete_workflow"].sync_detailed(key, client=client, if_match=answer.headers["ETag"]),
        200,
    )
    assert answer.parsed.status == models.WorkflowInstanceStatus.COMPLETED
    _answer(api["export_history"].sync_detailed(key, client=client), 200)
