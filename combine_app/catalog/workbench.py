"""The workbench's list of orchestration workflows, built from the package loader."""

from __future__ import annotations

from typing import Any

from .loader import PackageLoader
from .schemas import WorkbenchListingSchema

_listing_schema = WorkbenchListingSchema()


def workbench_listing(loader: PackageLoader) -> dict[str, Any]:
    """``{"workflows": [...], "total": n}``: one row per POW, versions ascending by semver.

    The row's fields are WorkbenchRowSchema's (INTERFACE.md's list), dumped from WorkflowInfo.
    """
    workflows = loader.list_workflows()
    return _listing_schema.dump({"workflows": workflows, "total": len(workflows)})
