"""The workbench listing: exactly the INTERFACE.md row shape, versions by semver."""

from __future__ import annotations

import json

from combine_app.catalog.loader import PackageLoader
from combine_app.catalog.workbench import workbench_listing

from .helpers import OUR_CONFIG, write_release

ROW_KEYS = {
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
}


def test_listing_has_exactly_the_interface_shape():
    listing = workbench_listing(PackageLoader(OUR_CONFIG))
    assert set(listing) == {"workflows", "total"}
    assert listing["total"] == len(listing["workflows"]) == 2
    for row in listing["workflows"]:
        assert set(row) == ROW_KEYS
    json.dumps(listing)  # plain JSON data, ready for jsonify


def test_listing_rows_carry_the_active_release():
    rows = {
        row["workflow_id"]: row for row in workbench_listing(PackageLoader(OUR_CONFIG))["workflows"]
    }
    assert rows["software_product_development"] == {
        "workflow_id": "software_product_development",
        "name": "Software Product Development",
        "description": rows["software_product_development"]["description"],
        "active_version": "1.1.0",
        "versions": ["1.0.0", "1.1.0"],
        "pow_class": "reference",
        "derived_from": None,
        "source_version": None,
        "tags": ["software_delivery", "reference"],
        "step_count": 9,
        "schema_version": "workflow.v2",
    }
    assert "peer review" in rows["software_product_development"]["description"]


def test_listing_sorts_versions_by_semver(config_copy, make_pow):
    for version in ("1.10.0", "1.9.0", "1.2.0"):
        write_release(
            config_copy,
            "lean_product_development",
            version,
            make_pow("lean_product_development", pow_class="template"),
        )
    rows = workbench_listing(PackageLoader(config_copy))["workflows"]
    lean = next(row for row in rows if row["workflow_id"] == "lean_product_development")
    assert lean["versions"] == ["1.0.0", "1.2.0", "1.9.0", "1.10.0"]
    assert lean["active_version"] == "1.0.0"
