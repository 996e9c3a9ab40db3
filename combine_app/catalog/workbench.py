"""The workbench's list of orchestration workflows, built from the package loader."""

from __future__ import annotations

from typing import Any

from .loader import PackageLoader


def workbench_listing(loader: PackageLoader) -> dict[str, Any]:
    """``{"workflows": [...], "total": n}``: one row per POW, versions ascending by semver."""
    rows = [
        {
            "workflow_id": info.workflow_id,
            "name": info.name,
            "description": info.description,
            "active_version": info.active_version,
            "versions": info.versions,
            "pow_class": info.pow_class,
            "derived_from": info.derived_from,
            "source_version": info.source_version,
            "tags": info.tags,
            "step_count": info.step_count,
            "schema_version": info.schema_version,
        }
        for info in loader.list_workflows()
    ]
    return {"workflows": rows, "total": len(rows)}
