"""The drift gate, run as the real ``flask --app wsgi workflow drift`` on both databases."""

from __future__ import annotations

import json
import os
import shutil
from datetime import timedelta

import flask_migrate
import pytest

from combine_app.auth import service as auth_service
from combine_app.catalog.app_loader import get_loader
from combine_app.clock import utc_today
from combine_app.extensions import db
from combine_app.projects import service as project_service
from combine_app.workflows.deviation_service import DeviationService
from combine_app.workflows.service import WorkflowInstanceService
from tests.conftest import make_app, skip_without_postgres
from tests.support.databases import create_database, drop_database
from tests.support.served import flask_command

from .instance_support import CONFIG_DIR, SPD, source, with_step_field

PROMPT_KEY = "step_modified:product_discovery:task_prompt"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def gate(request, tmp_path_factory):
    """A database with six projects and the environment the command runs in.

    ``sync`` is in sync, ``drifted`` has an unexplained edit, ``accepted`` the same edit
    accepted, ``old`` is on release 1.0.0, which was then edited in place (and 1.1.0 is active);
    ``expired`` has the edit accepted ten days ago until nine days ago, ``expiring`` accepted
    until five days from now.
    """
    folder = tmp_path_factory.mktemp("gate")
    if request.param == "sqlite":
        url = f"sqlite:///{folder / 'gate.sqlite3'}"
    else:
        skip_without_postgres()
        admin = request.getfixturevalue("postgres_admin_url")
        url = create_database(admin, prefix="combine_gate")
    config = folder / "combine-config"
    shutil.copytree(CONFIG_DIR, config)
    app = make_app(url, COMBINE_CONFIG_DIR=config)
    with app.app_context():
        flask_migrate.upgrade()
        keys = _seed()
        db.session.commit()
        db.engine.dispose()
    old_release = config / "workflows" / SPD / "releases" / "1.0.0"
    edited = source(SPD, "1.0.0")
    edited["description"] = "Edited in place by the governance team."
    for path in old_release.glob("definition.*"):
        path.unlink()
    (old_release / "definition.json").write_text(json.dumps(edited), encoding="utf-8")
    env = {
        **os.environ,
        "COMBINE_ENV": "production",
        "SECRET_KEY": "gate-test-secret",
        "DATABASE_URL": url,
        "COMBINE_CONFIG_DIR": str(config),
        "FLASK_SKIP_DOTENV": "1",
    }
    yield env, keys
    if request.param == "postgresql":
        drop_database(admin, url)


def _seed() -> dict[str, str]:
    owner = auth_service.create_user("gatekeeper", "correct horse battery")
    workflows = WorkflowInstanceService(db.session, get_loader())
    keys = {}
    for name, version in (
        ("sync", "1.1.0"),
        ("drifted", "1.1.0"),
        ("accepted", "1.1.0"),
        ("old", "1.0.0"),
        ("expired", "1.1.0"),
        ("expiring", "1.1.0"),
        ("bare", None),
    ):
        project = project_service.create_project(owner, f"Gate {name}", "")
        keys[name] = project.project_id
        if version is None:
            continue
        instance = workflows.create_instance(project, SPD, version, owner.username)
        if name in {"drifted", "accepted", "expired", "expiring"}:
            changed = with_step_field(
                instance.effective_workflow, "product_discovery", "task_prompt", "Ours."
            )
            workflows.update_instance(project, changed, owner.username)
        if name == "accepted":
            DeviationService(db.session, get_loader()).request(
                project, owner, PROMPT_KEY, "Our discovery differs on purpose."
            )
        if name == "expired":  # accepted on a day ten days ago, as the clock then said
            then = utc_today() - timedelta(days=10)
            DeviationService(db.session, get_loader(), today=lambda then=then: then).request(
                project, owner, PROMPT_KEY, "Until the audit.", then + timedelta(days=1)
            )
        if name == "expiring":
            DeviationService(db.session, get_loader()).request(
                project, owner, PROMPT_KEY, "For a while.", utc_today() + timedelta(days=5)
            )
    return keys


def drift(env, *args):
    return flask_command(env, "workflow", "drift", *args)


def test_all_projects_fail_the_default_gate_on_unexplained_drift_with_exit_2(gate):
    env, keys = gate
    result = drift(env, "--all")
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stdout.splitlines() if not line.startswith(" ")]
    assert len(lines) == 6  # every project with a workflow, by key; "bare" has none
    by_key = {line.split()[1]: line for line in lines}
    assert set(by_key) == {
        keys[name] for name in ("sync", "drifted", "accepted", "old", "expired", "expiring")
    }
    assert by_key[keys["drifted"]].startswith("FAIL ")
    assert "drifted (1 unexplained)" in by_key[keys["drifted"]]
    assert by_key[keys["accepted"]].startswith("ok ")
    assert "deviations accepted (1)" in by_key[keys["accepted"]]
    assert by_key[keys["sync"]].startswith("ok ") and "in sync" in by_key[keys["sync"]]
    old = by_key[keys["old"]]
    assert old.startswith("FAIL ") and "[source changed]" in old
    assert "[update available: 1.1.0]" in old
    assert by_key[keys["expired"]].startswith("FAIL ")
    assert "3 of 6 project(s) matched --fail-on unexplained." in result.stderr


def test_accepted_and_in_sync_projects_pass_the_default_gate_with_exit_0(gate):
    env, keys = gate
    result = drift(env, keys["sync"], keys["accepted"], keys["bare"])
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split()[1] for line in lines] == [keys["sync"], keys["accepted"], keys["bare"]]
    assert lines[2].endswith("no workflow")


def test_fail_on_any_counts_accepted_deviations_too(gate):
    env, keys = gate
    assert drift(env, keys["accepted"], "--fail-on", "any").returncode == 2
    assert drift(env, keys["sync"], "--fail-on", "any").returncode == 0


def test_fail_on_source_changed_and_update_available_in_json(gate):
    env, keys = gate
    changed = drift(env, "--all", "--fail-on", "source-changed", "--format", "json")
    assert changed.returncode == 2, changed.stderr
    document = json.loads(changed.stdout)
    assert document["fail_on"] == "source-changed"
    assert document["matched"] == [keys["old"]]
    reports = {report["project_id"]: report for report in document["projects"]}
    assert reports[keys["old"]]["source_changed"] is True
    assert reports[keys["accepted"]]["state"] == "deviations_accepted"
    assert reports[keys["accepted"]]["accepted_count"] == 1
    assert reports[keys["drifted"]]["state"] == "drifted"
    assert reports[keys["drifted"]]["unexplained_count"] == 1
    assert reports[keys["sync"]] | {"matched": False} == reports[keys["sync"]]
    update = drift(env, keys["sync"], "--fail-on", "update-available", "--format", "json")
    assert update.returncode == 0
    assert json.loads(update.stdout)["matched"] == []
    assert drift(env, keys["old"], "--fail-on", "update-available").returncode == 2


@pytest.mark.parametrize(
    "args",
    [
        ("NOPE-999",),
        (),
        ("--all", "SYNC-001"),
        ("--all", "--fail-on", "bogus"),
        ("--all", "--format", "yaml"),
        ("--all", "--no-such-option"),
    ],
    ids=["unknown-key", "nothing-named", "keys-and-all", "bad-fail-on", "bad-format", "bad-flag"],
)
def test_errors_exit_1_never_2(gate, args):
    env, _ = gate
    result = drift(env, *args)
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Error" in result.stderr
    assert result.stdout == ""


def test_an_unknown_key_among_known_ones_is_an_error_naming_it(gate):
    env, keys = gate
    result = drift(env, keys["sync"], "NOPE-999")
    assert result.returncode == 1
    assert "NOPE-999" in result.stderr and result.stdout == ""


def test_database_down_exits_1(gate):
    env, _ = gate
    down = {**env, "DATABASE_URL": "postgresql://postgres@127.0.0.1:1/combine"}
    result = drift(down, "--all")
    assert result.returncode == 1
    assert "database did not answer" in result.stderr


def test_an_expired_acceptance_fails_the_gate_and_is_named_expired(gate):
    env, keys = gate
    result = drift(env, keys["expired"], keys["accepted"])
    assert result.returncode == 2, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"FAIL {keys['expired']}  drifted (1 unexplained)")
    assert lines[1].split() == ["expired:", PROMPT_KEY]
    assert lines[2].startswith(f"ok   {keys['accepted']}") and len(lines) == 3
    document = json.loads(drift(env, keys["expired"], "--format", "json").stdout)
    [report] = document["projects"]
    assert (report["expired"], report["expiring"], report["matched"]) == ([PROMPT_KEY], [], True)


def test_expiring_within_lists_acceptances_due_for_review_without_changing_the_exit_code(gate):
    env, keys = gate
    due = (utc_today() + timedelta(days=5)).isoformat()
    within = drift(env, keys["expiring"], keys["bare"], "--expiring-within", "7")
    assert within.returncode == 0, within.stderr
    assert within.stdout.splitlines()[1].split() == [
        "expiring:",
        PROMPT_KEY,
        "(review",
        "by",
        f"{due})",
    ]
    document = json.loads(
        drift(env, keys["expiring"], "--expiring-within", "5", "--format", "json").stdout
    )
    assert document["projects"][0]["expiring"] == [{"key": PROMPT_KEY, "review_by": due}]
    later = drift(env, keys["expiring"], "--expiring-within", "4", "--format", "json")
    assert later.returncode == 0
    assert json.loads(later.stdout)["projects"][0]["expiring"] == []
    assert (
        json.loads(drift(env, keys["expiring"], "--format", "json").stdout)["projects"][0][
            "expiring"
        ]
        == []
    )
    assert drift(env, keys["expiring"], "--expiring-within", "-1").returncode == 1
