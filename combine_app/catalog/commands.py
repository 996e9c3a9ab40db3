"""The ``flask config check`` command and the per-app package loader."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from .loader import PackageLoader

EXTENSION_KEY = "combine_loader"

config_cli = AppGroup("config", help="Inspect the combine-config folder of governed workflows.")


def config_dir() -> Path:
    """The app's config folder: COMBINE_CONFIG_DIR, else combine-config/ at the repository root."""
    configured = current_app.config.get("COMBINE_CONFIG_DIR")
    if configured:
        return Path(configured)
    return Path(current_app.root_path).parent / "combine-config"


def get_loader() -> PackageLoader:
    """The current app's package loader, created on first use and shared by its requests."""
    loader = current_app.extensions.get(EXTENSION_KEY)
    if loader is None:
        # setdefault keeps the first loader if two threads race to create one.
        loader = current_app.extensions.setdefault(EXTENSION_KEY, PackageLoader(config_dir()))
    return loader


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
