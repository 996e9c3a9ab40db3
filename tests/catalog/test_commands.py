"""``flask config check`` and the per-app loader, on a bare Flask app (no database)."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from combine_app.catalog.app_loader import get_loader
from combine_app.catalog.commands import config_cli
from combine_app.catalog.loader import PackageLoader

from .helpers import OUR_CONFIG, plant_faults


def make_app(config_dir: Path) -> Flask:
    """A minimal app with the config command registered, like the real factory does."""
    app = Flask(__name__)
    app.config["COMBINE_CONFIG_DIR"] = config_dir
    app.cli.add_command(config_cli)
    return app


def run_check(app: Flask, *extra: str):
    """Invoke ``flask config check`` through Flask's CLI runner."""
    return app.test_cli_runner().invoke(args=["config", "check", *extra])


def test_check_passes_on_our_config_folder():
    result = run_check(make_app(OUR_CONFIG))
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines() == [f"config check: 2 POWs OK in {OUR_CONFIG}"]


def test_check_fails_and_names_every_planted_fault(config_copy, make_pow):
    faults = plant_faults(config_copy, make_pow)
    result = run_check(make_app(config_copy))
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    for path, words in faults.values():
        assert any(line.startswith(f"{path}: ") and words in line for line in lines), path
    assert lines[-1] == f"config check: {len(faults)} problems in {config_copy}"
    assert len(lines) == len(faults) + 1


def test_check_accepts_another_folder(config_copy, make_pow):
    plant_faults(config_copy, make_pow)
    app = make_app(config_copy)
    assert run_check(app, "--config-dir", str(OUR_CONFIG)).exit_code == 0
    assert run_check(make_app(OUR_CONFIG), "--config-dir", str(config_copy)).exit_code == 1


def test_check_fails_on_a_missing_folder(tmp_path):
    result = run_check(make_app(tmp_path / "absent"))
    assert result.exit_code == 1
    assert f"{tmp_path / 'absent'}: the config folder does not exist" in result.output


def test_get_loader_is_one_loader_per_app(config_copy):
    first, second = make_app(OUR_CONFIG), make_app(config_copy)
    with first.app_context():
        loader = get_loader()
        assert isinstance(loader, PackageLoader)
        assert loader.config_dir == OUR_CONFIG
        assert get_loader() is loader
    with first.app_context():
        assert get_loader() is loader
    with second.app_context():
        assert get_loader() is not loader
        assert get_loader().config_dir == config_copy


@pytest.mark.parametrize("configured", [str(OUR_CONFIG), OUR_CONFIG])
def test_get_loader_accepts_a_string_or_path(configured):
    app = Flask(__name__)
    app.config["COMBINE_CONFIG_DIR"] = configured
    with app.app_context():
        assert get_loader().config_dir == OUR_CONFIG
