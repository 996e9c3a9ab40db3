"""The benchmarks' yardsticks answer what the API answers (no timings here: see benchmarks/).

bench_api compares each endpoint with a bare Flask + psycopg2 baseline; the comparison is only
honest while the baseline sends the same JSON. These tests hold it to that on a real PostgreSQL
database (committed data: the baseline reads through its own connections), and check the seed
SQL and the wrk script builder the bench relies on.
"""

from __future__ import annotations

import json
import re

import flask_migrate
import pytest

from benchmarks import baseline_app, bench_api
from benchmarks.load import UNIQUE, Endpoint, wrk_script
from benchmarks.seed import seed_history, seed_projects
from combine_app.auth import service as auth_service
from combine_app.extensions import db
from tests.conftest import make_app
from tests.support.databases import create_database, drop_database


@pytest.fixture(scope="module")
def served(postgres_admin_url):
    """Our app and the baseline app on one committed PostgreSQL database, with a few rows."""
    url = create_database(postgres_admin_url, prefix="combine_benchtest")
    app = make_app(url)
    monkeypatch = pytest.MonkeyPatch()
    try:
        with app.app_context():
            flask_migrate.upgrade()
            user = auth_service.create_user("bencher", "bench password 123")
            token = auth_service.create_token(user, "bench")
            owner_id = user.id
            db.session.commit()
        ours = app.test_client()
        auth = {"Authorization": f"Bearer {token}"}
        project = ours.post("/api/v1/projects", json={"name": "Bench Check"}, headers=auth).json
        instance = ours.post(
            f"/api/v1/projects/{project['project_id']}/workflow",
            json={"workflow_id": bench_api.WORKFLOW_ID, "version": bench_api.WORKFLOW_VERSION},
            headers=auth,
        ).json
        seed_history(url, instance["id"], 30, "bencher")
        seed_projects(url, "bencher", 5, "CHK")
        monkeypatch.setenv("DATABASE_URL", url)
        monkeypatch.setattr(baseline_app, "_pool", None)
        yield {
            "ours": ours,
            "auth": auth,
            "baseline": baseline_app.app.test_client(),
            "key": project["project_id"],
            "instance": instance,
            "owner_id": owner_id,
        }
    finally:
        if baseline_app._pool is not None:
            baseline_app._pool.closeall()
        monkeypatch.undo()
        with app.app_context():
            db.engine.dispose()
        drop_database(postgres_admin_url, url)


def _same(ours, theirs) -> None:
    assert ours.status_code == 200, ours.text
    assert theirs.status_code == 200, theirs.text
    assert bench_api._first_difference(ours.json, theirs.json) is None
    assert ours.json == theirs.json


def test_baseline_reads_answer_the_json_the_api_answers(served):
    ours, baseline, auth, key = served["ours"], served["baseline"], served["auth"], served["key"]
    instance_id = served["instance"]["id"]
    _same(
        ours.get(f"/api/v1/projects/{key}/workflow", headers=auth),
        baseline.get(f"/instance/{instance_id}"),
    )
    for offset in (0, 15):
        _same(
            ours.get(
                f"/api/v1/projects/{key}/workflow/history?limit=20&offset={offset}", headers=auth
            ),
            baseline.get(f"/instance/{instance_id}/history?limit=20&offset={offset}"),
        )
    _same(
        ours.get("/api/v1/projects?limit=100", headers=auth),
        baseline.get(f"/projects?owner_id={served['owner_id']}&limit=100&offset=0"),
    )
    _same(
        ours.get(f"/api/v1/projects/{key}/tree", headers=auth),
        baseline.get(f"/projects/{key}/tree?owner_id={served['owner_id']}"),
    )


def test_baseline_put_writes_what_the_api_then_reads(served):
    ours, baseline, auth, key = served["ours"], served["baseline"], served["auth"], served["key"]
    instance_id = served["instance"]["id"]
    body = json.loads(bench_api.put_body(served["instance"]["effective_workflow"], "smoke"))
    written = baseline.put(f"/instance/{instance_id}?changed_by=bencher", json=body)
    _same(ours.get(f"/api/v1/projects/{key}/workflow", headers=auth), written)
    entry = ours.get(f"/api/v1/projects/{key}/workflow/history?limit=1", headers=auth).json
    newest = entry["entries"][0]
    assert newest["revision"] == written.json["revision"]
    assert newest["change_type"] == "metadata_changed"
    assert [change["field"] for change in newest["change_detail"]["changes"]] == ["description"]
    # The same body again changes nothing, on either side.
    again = baseline.put(f"/instance/{instance_id}?changed_by=bencher", json=body)
    assert again.json["revision"] == written.json["revision"]


def test_seeded_history_continues_the_instance_revisions(served):
    ours, auth, key = served["ours"], served["auth"], served["key"]
    page = ours.get(f"/api/v1/projects/{key}/workflow/history?limit=100", headers=auth).json
    revisions = [entry["revision"] for entry in page["entries"]]
    assert revisions == sorted(revisions, reverse=True)
    assert revisions[-1] == 1 and page["entries"][-1]["change_type"] == "created"
    assert len(set(revisions)) == len(revisions)


def test_wrk_script_makes_each_body_unique_and_refuses_two_markers():
    endpoint = Endpoint("PUT", "PUT", "/x", {"A": "b]]c"}, f'{{"d": "{UNIQUE}"}}')
    script = wrk_script(endpoint, "run7")
    assert 'local head = [[{"d": "]]' in script
    assert 'local tail = [["}]]' in script
    assert "[ [[A]] ] = [=[b]]c]=]" in script
    with pytest.raises(ValueError, match="twice"):
        wrk_script(Endpoint("PUT", "PUT", "/x", {}, UNIQUE * 2), "run8")


def test_profile_phases_follow_module_and_function_names():
    from flask.json.provider import DefaultJSONProvider
    from marshmallow import Schema
    from sqlalchemy.orm import Session
    from sqlalchemy.sql.compiler import SQLCompiler

    from benchmarks.profile_request import frame_kind
    from combine_app.api import json_body
    from combine_app.workflows.diff import content_hash

    assert frame_kind(DefaultJSONProvider.dumps.__code__) == "encode"
    assert frame_kind(Schema.dump.__code__) == "marshmallow"
    assert frame_kind(Session.execute.__code__) == "objects"
    assert frame_kind(SQLCompiler.visit_select.__code__) == "SQL build"
    assert frame_kind(json_body.__code__) == "parse"
    assert frame_kind(content_hash.__code__) == "app"
    assert frame_kind(json.dumps.__code__) is None  # stdlib: takes its caller's kind


def test_profile_phases_name_our_own_dump_and_body_reading():
    from benchmarks.profile_request import frame_kind
    from combine_app.portable_json import depth_exceeds
    from combine_app.schemas import ResponseSchema

    assert frame_kind(ResponseSchema.dump.__code__) == "dump"
    inner = next(c for c in depth_exceeds.__code__.co_consts if hasattr(c, "co_qualname"))
    assert frame_kind(inner) == "parse"  # a comprehension inside the body reader


PAGE_ROW = re.compile(
    r"^(?P<page>.+?)\s{2,}(?P<counterpart>\S.*?)\s+(?P<wall>\d+\.\d\d)\s+(?P<cpu>\d+\.\d\d|n/a)"
    r"\s+<=(?P<goal>[\d.]+)x\s+(?P<verdict>met|NOT met \((?P<over>[\d.]+) times over\))$"
)


@pytest.mark.server
def test_bench_pages_quick_prints_each_page_against_its_json_with_a_ratio_and_verdict(
    postgres_admin_url, monkeypatch, capsys
):
    from benchmarks import bench_pages

    monkeypatch.setenv("COMBINE_BENCH_POSTGRES_URL", postgres_admin_url)
    argv = ["--quick", "--projects", "25", "--steps", "40", "--rounds", "1", "--seconds", "0.1"]
    assert bench_pages.main(argv) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("page ") and "JSON" in line)
    rows = [PAGE_ROW.match(line) for line in lines[start + 2 : start + 8]]
    assert all(rows), lines[start : start + 8]
    assert [row["page"] for row in rows] == [
        "project list (25 rows)",
        "project page, 40 steps",
        "editor, 40 steps",
        "drift page, 40 steps",
        "compare page, 1 -> current",
        "editor action (Down), 40 steps",
    ]
    assert [row["counterpart"] for row in rows][-1] == "PUT workflow (a step moved)"
    assert [float(row["goal"]) for row in rows] == [2, 2, 3, 2, 2, 2]
    for row in rows:
        judged = float(row["cpu"] if row["cpu"] != "n/a" else row["wall"])
        assert judged > 0
        assert (row["verdict"] == "met") == (judged <= float(row["goal"]))
    # Each side's row has its sizes; the editor's post and the tail table are there too.
    assert re.search(r"^page: editor, 40 steps\s+\d+\s+[\d.]+\s+[\d.]+\s+\S+\s+[\d,]+$", out, re.M)
    assert re.search(r"editor action: the post is [1-9][\d,]* bytes in [1-9][\d,]* fields", out)
    assert len(re.findall(r"^.+ <=1\.5x  (met|NOT met)", out, re.M)) == 6
