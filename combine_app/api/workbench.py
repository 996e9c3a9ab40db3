"""The admin workbench listing of reference and template POWs."""

from __future__ import annotations

from combine_app.api import api
from combine_app.catalog.app_loader import get_loader
from combine_app.catalog.schemas import WorkbenchListingSchema
from combine_app.catalog.workbench import workbench_listing


@api.get("/admin/workbench/orchestration-workflows", tags=["workbench"])
@api.response(200, WorkbenchListingSchema, description="The POWs.")
def orchestration_workflows():
    """Every reference and template POW in the config folder, with its versions."""
    return workbench_listing(get_loader())
