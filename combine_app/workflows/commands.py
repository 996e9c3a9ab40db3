"""``flask workflow drift``: the drift gate for CI, one line (or one JSON document) per project.

Exit codes follow ``terraform plan -detailed-exitcode``: 0 when no project matched
``--fail-on``, 2 when one did, 1 on an error (an unknown project key, the database down, a bad
option). Click's own usage errors would exit 2 as well, which a gate would read as "drift": they
are turned into exit 1 here.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import click
from flask.cli import AppGroup
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from combine_app import clock
from combine_app.catalog.app_loader import get_loader
from combine_app.extensions import db
from combine_app.projects.models import Project
from combine_app.workflows import history_export
from combine_app.workflows.drift_items import ACCEPTED, EXPIRED, drift_state
from combine_app.workflows.models import WorkflowInstance
from combine_app.workflows.service import WorkflowInstanceService

NOTHING_MATCHED, ERROR, MATCHED = 0, 1, 2
# --fail-on: which projects make the gate fail.
FAIL_ON = {
    "unexplained": lambda drift: drift["is_drifted_unexplained"],
    "any": lambda drift: drift["is_drifted"],
    "source-changed": lambda drift: drift["source_changed"],
    "update-available": lambda drift: _update_available(drift),
    # The workflow could not run as it is: an error of the definition rules (issue 17).
    "problems": lambda drift: drift["error_count"] > 0,
}
# Instances read per query with --all, so memory stays bounded however many there are.
BATCH = 100


class GateUsageError(click.UsageError):
    """A usage error of the gate: exit 1, since 2 means "something matched"."""

    exit_code = ERROR


class GateCommand(click.Command):
    """A command whose usage errors exit 1 instead of click's 2."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Parse as click does; re-raise usage errors with the gate's exit code."""
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as error:
            raise GateUsageError(error.message, error.ctx) from error


workflow_cli = AppGroup("workflow", help="Workflow instances: the drift gate, the history export.")


@workflow_cli.command("history")
@click.argument("project_key")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(history_export.FORMATS),
    default="csv",
    show_default=True,
    help="CSV (the columns of INTERFACE.md) or JSON Lines (one entry per line).",
)
@click.option(
    "--output",
    type=click.File("w", encoding="utf-8", lazy=True),
    default="-",
    help="Write to this file instead of standard output.",
)
def history_command(project_key: str, fmt: str, output) -> None:
    """Print every history entry of PROJECT_KEY's workflow, oldest first (streamed)."""
    instance_id = db.session.scalar(
        select(WorkflowInstance.id)
        .join(Project, Project.id == WorkflowInstance.project_id)
        .where(Project.project_id == project_key)
    )
    if instance_id is None:
        known = db.session.scalar(select(Project.id).where(Project.project_id == project_key))
        what = "has no workflow" if known else "is not a project"
        raise click.ClickException(f"{project_key!r} {what}.")
    for chunk in history_export.export(db.session, instance_id, fmt):
        output.write(chunk)


@workflow_cli.command("drift", cls=GateCommand)
@click.argument("project_keys", nargs=-1, metavar="[PROJECT_KEY]...")
@click.option("--all", "all_projects", is_flag=True, help="Every project that has a workflow.")
@click.option(
    "--fail-on",
    type=click.Choice(list(FAIL_ON)),
    default="unexplained",
    show_default=True,
    help="What makes the gate fail (exit 2).",
)
@click.option(
    "--format", "output", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option(
    "--expiring-within",
    "expiring_within",
    type=click.IntRange(min=0, max=36_500),
    default=None,
    metavar="DAYS",
    help="Also list acceptances whose review-by date falls within DAYS (exit code unchanged).",
)
def drift_command(
    project_keys: tuple[str, ...],
    all_projects: bool,
    fail_on: str,
    output: str,
    expiring_within: int | None,
):
    """Report the drift of each project; exit 0 if none matched --fail-on, 2 if any did.

    Expired acceptances are named (their items count as unexplained again); with
    ``--expiring-within DAYS`` the acceptances due for review within DAYS are listed too.
    """
    if bool(project_keys) == all_projects:
        raise GateUsageError("Name one or more PROJECT_KEYs, or pass --all (not both).")
    horizon = (
        clock.today() + timedelta(days=expiring_within) if expiring_within is not None else None
    )
    try:
        reports = list(_reports(project_keys, all_projects, fail_on, horizon))
    except LookupError as error:
        click.echo(f"Error: {error.args[0]}", err=True)
        sys.exit(ERROR)
    except SQLAlchemyError as error:
        reason = str(error.orig if getattr(error, "orig", None) else error).strip()
        click.echo(f"Error: the database did not answer: {reason.splitlines()[0]}", err=True)
        sys.exit(ERROR)
    matched = [report["project_id"] for report in reports if report["matched"]]
    if output == "json":
        document = {"fail_on": fail_on, "matched": matched, "projects": reports}
        click.echo(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        for report in reports:
            click.echo(_line(report))
            for key in report.get("expired", ()):
                click.echo(f"     expired: {key}")
            for entry in report.get("expiring", ()):
                click.echo(f"     expiring: {entry['key']} (review by {entry['review_by']})")
        click.echo(
            f"{len(matched)} of {len(reports)} project(s) matched --fail-on {fail_on}.", err=True
        )
    sys.exit(MATCHED if matched else NOTHING_MATCHED)


def _reports(
    keys: tuple[str, ...], all_projects: bool, fail_on: str, horizon: date | None
) -> Iterator[dict]:
    """One report per project, in the order named (or by key with --all)."""
    service = WorkflowInstanceService(db.session, get_loader())
    for projects in _project_batches(keys, all_projects):
        instances = {
            instance.project_id: instance
            for instance in db.session.scalars(
                select(WorkflowInstance).where(
                    WorkflowInstance.project_id.in_([project.id for project in projects])
                )
            )
        }
        drifts = service.drifts_of(list(instances.values()))
        for instance in instances.values():
            drifts[instance.id]["error_count"] = service.problems_of(instance)["error_count"]
        for project in projects:
            instance = instances.get(project.id)
            drift = drifts[instance.id] if instance is not None else None
            yield _report(project, drift, fail_on, horizon)
        db.session.expunge_all()  # what the batch read is reported: keep memory bounded


def _project_batches(keys: tuple[str, ...], all_projects: bool) -> Iterator[list[Project]]:
    if not all_projects:
        wanted = list(dict.fromkeys(keys))
        found = {
            project.project_id: project
            for project in db.session.scalars(select(Project).where(Project.project_id.in_(wanted)))
        }
        missing = [key for key in wanted if key not in found]
        if missing:
            raise LookupError(f"no project with the key {', '.join(missing)}.")
        yield [found[key] for key in wanted]
        return
    query = (
        select(Project)
        .join(WorkflowInstance, WorkflowInstance.project_id == Project.id)
        .order_by(Project.project_id)
        .limit(BATCH)
    )
    last = None
    while True:
        batch = list(
            db.session.scalars(query if last is None else query.where(Project.project_id > last))
        )
        if not batch:
            return
        last = batch[-1].project_id
        yield batch


def _report(
    project: Project, drift: dict | None, fail_on: str, horizon: date | None
) -> dict[str, Any]:
    if drift is None:
        return {
            "project_id": project.project_id,
            "name": project.name,
            "state": "no_workflow",
            "expired": [],
            "expiring": [],
            "matched": False,
        }
    return {
        "project_id": project.project_id,
        "name": project.name,
        "workflow_id": drift["base_workflow_id"],
        "version": drift["base_version"],
        "state": drift_state(drift),
        "is_drifted": drift["is_drifted"],
        "is_drifted_unexplained": drift["is_drifted_unexplained"],
        "unexplained_count": drift["unexplained_count"],
        "accepted_count": sum(1 for item in drift["items"] if item["explained"]),
        "source_available": drift["source_available"],
        "source_changed": drift["source_changed"],
        "latest_version": drift["latest_version"],
        "update_available": _update_available(drift),
        "error_count": drift["error_count"],
        "expired": [item["key"] for item in drift["items"] if _acceptance_status(item) == EXPIRED],
        "expiring": _expiring(drift, horizon),
        "matched": bool(FAIL_ON[fail_on](drift)),
    }


def _acceptance_status(item: dict) -> str | None:
    return item["acceptance"]["status"] if item["acceptance"] is not None else None


def _expiring(drift: dict, horizon: date | None) -> list[dict[str, str]]:
    """The acceptances that explain an item now and are due for review by ``horizon``."""
    if horizon is None:
        return []
    return [
        {"key": item["key"], "review_by": item["acceptance"]["review_by"]}
        for item in drift["items"]
        if _acceptance_status(item) == ACCEPTED
        and item["acceptance"]["review_by"] is not None
        and item["acceptance"]["review_by"] <= horizon.isoformat()
    ]


def _update_available(drift: dict) -> bool:
    return drift["latest_version"] is not None and drift["latest_version"] != drift["base_version"]


def _line(report: dict[str, Any]) -> str:
    """``KEY  state  workflow version  notes``, with ``FAIL`` first when it matched."""
    mark = "FAIL" if report["matched"] else "ok  "
    if report["state"] == "no_workflow":
        return f"{mark} {report['project_id']}  no workflow"
    state = {
        "in_sync": "in sync",
        "deviations_accepted": f"deviations accepted ({report['accepted_count']})",
        "drifted": f"drifted ({report['unexplained_count']} unexplained)",
    }[report["state"]]
    if report["state"] == "drifted" and not report["source_available"]:
        state = "drifted (source unavailable)"
    notes = []
    if report["source_changed"]:
        notes.append("source changed")
    if report["update_available"]:
        notes.append(f"update available: {report['latest_version']}")
    if report["error_count"]:
        notes.append(f"{report['error_count']} errors: cannot run")
    tail = "".join(f"  [{note}]" for note in notes)
    return (
        f"{mark} {report['project_id']}  {state}  {report['workflow_id']} {report['version']}{tail}"
    )
