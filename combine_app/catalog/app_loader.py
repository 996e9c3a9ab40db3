"""The current app's package loader: its config folder and the one loader its requests share."""

from __future__ import annotations

from pathlib import Path

from flask import current_app

from .loader import PackageLoader

EXTENSION_KEY = "combine_loader"


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
