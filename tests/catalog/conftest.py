"""Fixtures for the catalog tests: our config folder, the real one, and writable copies."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from .helpers import OUR_CONFIG, REAL_CONFIG, copy_tree


@pytest.fixture
def make_pow() -> Callable[..., dict[str, Any]]:
    """Factory for a small valid POW definition; keyword arguments replace top-level keys."""

    def factory(workflow_id: str = "sample_flow", **overrides: Any) -> dict[str, Any]:
        definition = {
            "schema_version": "workflow.v2",
            "workflow_id": workflow_id,
            "name": "Sample Flow",
            "description": "A small POW for tests.",
            "pow_class": "reference",
            "derived_from": None,
            "source_version": None,
            "tags": ["test"],
            "steps": [
                {"step_id": "draft", "role": "Writer", "produces": "draft_doc", "inputs": []},
                {
                    "step_id": "per_item",
                    "iterate_over": {"doc_type": "draft_doc", "collection_field": "items"},
                    "steps": [{"step_id": "review_item", "role": "Reviewer"}],
                },
            ],
        }
        definition.update(overrides)
        return definition

    return factory


@pytest.fixture
def config_copy(tmp_path: Path) -> Path:
    """A writable copy of the repository's combine-config folder."""
    return copy_tree(OUR_CONFIG, tmp_path / "combine-config")


@pytest.fixture
def real_config() -> Path:
    """The real config folder of the system the spec comes from, read-only."""
    if not REAL_CONFIG.is_dir():
        pytest.skip(
            "../shared/fixtures not found: tests on the real config folder are skipped "
            "in a clone without ../shared"
        )
    return REAL_CONFIG.resolve()
