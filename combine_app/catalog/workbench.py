"""The workbench's list of orchestration workflows, built from the package loader."""

from __future__ import annotations

from typing import Any

from .loader import PackageLoader

# The columns of a workbench row, as INTERFACE.md lists them; each is a WorkflowInfo attribute.
ROW_FIELDS = (
    "workflow_id",
    "name",
    "description",
    "active_version",
    "versions",
    "pow_class",
    "derived_from",
    "source_version",
    "tags",
    "step_count",
    "schema_version",
)


def workbench_listing(loader: PackageLoader) -> dict[str, Any]:
    """``{"workflows": [...], "total": n}``: one row per POW, versions ascending by semver."""
    rows = [
        {field: getattr(info, field) for field in ROW_FIELDS} for info in loader.list_workflows()
    ]
    return {"workflows": rows, "total": len(rows)}
