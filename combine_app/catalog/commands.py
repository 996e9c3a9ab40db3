"""The ``flask config check`` command and the per-app package loader."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from combine_app.definition import rules

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
