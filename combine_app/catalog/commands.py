"""The ``flask config check`` command."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

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
def check_command(config_dir_option: Path | None) -> None:
    """Validate every POW in the config folder; print one line per problem, exit 1 if any."""
    folder = config_dir_option or config_dir()
    loader = PackageLoader(folder)
    problems = loader.problems()
    for problem in problems:
        click.echo(f"{problem.path}: {problem.message}")
    if problems:
        noun = "problem" if len(problems) == 1 else "problems"
        click.echo(f"config check: {len(problems)} {noun} in {folder}")
        raise SystemExit(1)
    count = len(loader.list_workflows())
    noun = "POW" if count == 1 else "POWs"
    click.echo(f"config check: {count} {noun} OK in {folder}")
