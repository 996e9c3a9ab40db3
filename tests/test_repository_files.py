"""What the repository holds: no virtualenv, no symlink, nothing the machine it was made on
put there (a tracked .venv symlink once replaced the virtualenv of every checkout it reached)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def tracked() -> list[tuple[str, str]]:
    """(mode, path) of every tracked file; skip outside a git checkout."""
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout: the tracked files cannot be listed")
    listing = subprocess.run(
        ["git", "ls-files", "-s"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout
    return [(line.split()[0], line.split("\t", 1)[1]) for line in listing.splitlines()]


def test_no_virtualenv_build_output_or_symlink_is_tracked():
    files = tracked()
    assert files, "git listed no file"
    symlinks = [path for mode, path in files if mode == "120000"]
    assert symlinks == []
    machine_made = [
        path
        for _, path in files
        if path.split("/")[0] in {".venv", "instance", "test-artifacts", "node_modules"}
        or "__pycache__" in path.split("/")
    ]
    assert machine_made == []
