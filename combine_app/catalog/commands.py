"""The ``flask config check`` command."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from combine_app.definition import rules

from .app_loader import config_dir
from .loader import PackageLoader

config_cli = AppGroup("config", help="Inspect the combine-config folder of governed workflows.")


@config_cli.command("check")
@click.option(
    "--config-dir",
    "config_dir_option",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Check this folder instead of the app's COMBINE_CONFIG_DIR.",
)
@click.option("--strict", is_flag=True, help="Fail on warnings too, not only on errors.")
def check_command(config_dir_option: Path | None, strict: bool) -> None:
    """Validate every POW in the config folder: one line per problem (file, pointer, rule).

    Exits 1 when a file is broken or a workflow has an error (a rule it must keep to run);
    warnings are printed and, with --strict, fail too.
    """
    folder = config_dir_option or config_dir()
    loader = PackageLoader(folder)
    broken = loader.problems()
    for problem in broken:
        click.echo(f"{problem.path}: {problem.message}")
    errors = warnings = 0
    for path, definition in loader.pow_releases():
        for problem in rules.problems(definition):
            click.echo(
                f"{path}: {problem.severity} at {problem.pointer or '/'} "
                f"[{problem.code}] {problem.message}"
            )
            if problem.severity == rules.ERROR:
                errors += 1
            else:
                warnings += 1
    failed = len(broken) + errors + (warnings if strict else 0)
    if failed:
        if errors or warnings:
            click.echo(f"rules: {errors} errors, {warnings} warnings")
        noun = "problem" if failed == 1 else "problems"
        click.echo(f"config check: {failed} {noun} in {folder}")
        raise SystemExit(1)
    if warnings:
        click.echo(f"config check: {warnings} warnings (not failing without --strict)")
    count = len(loader.list_workflows())
    noun = "POW" if count == 1 else "POWs"
    click.echo(f"config check: {count} {noun} OK in {folder}")
