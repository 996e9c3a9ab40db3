"""The history export: every entry, oldest first, as CSV or JSON Lines, streamed in batches,
from the API, the command line and the project page; members only."""

from __future__ import annotations

import csv
import io
import json

import pytest

from combine_app.workflows import history_export
from combine_app.workflows.models import WorkflowInstance

from .instance_support import SPD, edited, source

EXPORT = "/projects/{key}/workflow/history/export"


@pytest.fixture
def key(api, make_project, alice) -> str:
    """alice's project with SPD assigned and two saves, one with a reason a spreadsheet would
    run as a formula."""
    project = make_project(alice)
    key = project.project_id
    assert (
        api.post(
            f"/projects/{key}/workflow", json={"workflow_id": SPD, "version": "1.1.0"}
        ).status_code
        == 201
    )
    for number, reason in ((1, '=HYPERLINK("x")'), (2, 'Second, with a "quote"')):
        body = {
            "effective_workflow": edited(source(), description=f"edit {number}"),
            "reason": reason,
        }
        assert api.put(f"/projects/{key}/workflow", json=body).status_code == 200
    return key


def test_csv_has_the_columns_every_entry_oldest_first_and_is_safe_in_a_spreadsheet(api, key):
    response = api.get(EXPORT.format(key=key) + "?format=csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == f'attachment; filename="{key}-history.csv"'
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert list(rows[0]) == list(history_export.COLUMNS)
    assert [(row["revision"], row["change_type"]) for row in rows] == [
        ("1", "created"),
        ("2", "metadata_changed"),
        ("3", "metadata_changed"),
    ]
    assert rows[1]["reason"] == '\'=HYPERLINK("x")'  # quoted, not run
    assert rows[2]["reason"] == 'Second, with a "quote"'
    assert rows[2]["changed_by"] == "alice"
    detail = json.loads(rows[2]["change_detail"])
    assert detail["changes"][0]["new"] == "edit 2"
    history = api.get(f"/projects/{key}/workflow/history").get_json()["entries"]
    assert [row["changed_at"] for row in rows] == [
        entry["changed_at"] for entry in reversed(history)
    ]


def test_jsonl_is_one_entry_per_line_with_the_detail_as_an_object(api, key):
    response = api.get(EXPORT.format(key=key) + "?format=jsonl")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/jsonl; charset=utf-8"
    lines = response.get_data(as_text=True).splitlines()
    records = [json.loads(line) for line in lines]
    assert [record["revision"] for record in records] == [1, 2, 3]
    assert set(records[0]) == set(history_export.COLUMNS)
    assert records[1]["reason"] == '=HYPERLINK("x")'  # JSON keeps the text as written
    assert records[2]["change_detail"]["changes"][0]["new"] == "edit 2"


def test_csv_is_the_default_and_an_unknown_format_is_422_naming_it(api, key):
    assert api.get(EXPORT.format(key=key)).headers["Content-Type"].startswith("text/csv")
    refused = api.get(EXPORT.format(key=key) + "?format=xlsx")
    assert refused.status_code == 422
    assert list(refused.get_json()["errors"]) == ["format"]


def test_only_members_may_export(api, key, make_user, api_for):
    stranger = api_for(make_user("mallory"))
    assert stranger.get(EXPORT.format(key=key)).status_code == 404
    viewer = make_user("vic")
    assert api.put(f"/projects/{key}/members/vic", json={"role": "viewer"}).status_code == 201
    assert api_for(viewer).get(EXPORT.format(key=key)).status_code == 200


def test_entries_are_read_in_batches_so_memory_does_not_grow_with_the_history(
    api, key, db_session, count_queries
):
    instance_id = db_session.query(WorkflowInstance.id).scalar()
    for number in range(3, 6):
        body = {"effective_workflow": edited(source(), description=f"edit {number}")}
        assert api.put(f"/projects/{key}/workflow", json=body).status_code == 200
    with count_queries() as statements:
        found = list(history_export.entries(db_session, instance_id, batch=2))
    assert [entry["revision"] for entry in found] == [1, 2, 3, 4, 5, 6]
    reads = [s for s in statements if "workflow_instance_history" in s]
    assert len(reads) == 4  # 2 + 2 + 2, then an empty batch that ends it
    assert all("LIMIT" in s.upper() for s in reads)


def test_the_command_prints_what_the_api_answers(app, api, key, tmp_path):
    runner = app.test_cli_runner()
    for fmt in history_export.FORMATS:
        result = runner.invoke(args=["workflow", "history", key, "--format", fmt])
        assert result.exit_code == 0, result.output
        answered = api.get(EXPORT.format(key=key) + f"?format={fmt}").get_data(as_text=True)
        assert result.output.replace("\r\n", "\n") == answered.replace("\r\n", "\n")
    out = tmp_path / "history.csv"
    assert runner.invoke(args=["workflow", "history", key, "--output", str(out)]).exit_code == 0
    assert out.read_text(encoding="utf-8").startswith(",".join(history_export.COLUMNS))
    missing = runner.invoke(args=["workflow", "history", "NOPE-001"])
    assert missing.exit_code == 1
    assert "'NOPE-001' is not a project." in missing.output


def test_the_project_page_links_the_download(client, login, alice, key):
    login(alice)
    page = client.get(f"/projects/{key}").get_data(as_text=True)
    assert f'href="/api/v1/projects/{key}/workflow/history/export?format=csv"' in page
    assert "Download history (CSV)" in page
    download = client.get(f"/api/v1/projects/{key}/workflow/history/export?format=csv")
    assert download.status_code == 200  # the signed-in session is enough
