"""GET /api/v1/admin/workbench/orchestration-workflows over our folder and the real one."""

from __future__ import annotations

import pytest
from sqlalchemy import delete

from combine_app.auth.models import User
from tests.conftest import SHARED_DIR, make_app

WORKBENCH = "/admin/workbench/orchestration-workflows"
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


def test_lists_our_reference_and_template_pows_but_not_the_graph_workflow(api):
    body = api.get(WORKBENCH).get_json()
    rows = {row["workflow_id"]: row for row in body["workflows"]}
    assert body["total"] == len(rows) == 2
    assert set(rows) == {"software_product_development", "lean_product_development"}
    assert all(set(row) == ROW_KEYS for row in rows.values())
    spd = rows["software_product_development"]
    assert (spd["pow_class"], spd["versions"], spd["active_version"]) == (
        "reference",
        ["1.0.0", "1.1.0"],
        "1.1.0",
    )
    lean = rows["lean_product_development"]
    assert lean["pow_class"] == "template"
    assert lean["derived_from"] == {
        "workflow_id": "software_product_development",
        "version": "1.0.0",
    }


def test_workbench_needs_authentication(client):
    response = client.get("/api/v1" + WORKBENCH)
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"


def test_pointed_at_the_real_config_folder_it_lists_exactly_its_step_based_pows(database_url):
    folder = SHARED_DIR / "fixtures" / "thecombine-config"
    if not folder.is_dir():
        pytest.skip(
            "../shared/fixtures not found: tests on the real config folder are skipped "
            "in a clone without ../shared"
        )
    app = make_app(database_url, COMBINE_CONFIG_DIR=folder)
    with app.app_context():
        from combine_app.auth import service
        from combine_app.extensions import db

        user = service.find_user("workbench_reader") or service.create_user(
            "workbench_reader", "correct horse battery"
        )
        token = service.create_token(user, "test")
        db.session.commit()
        user_id = user.id
    try:
        body = (
            app.test_client()
            .get("/api/v1" + WORKBENCH, headers={"Authorization": f"Bearer {token}"})
            .get_json()
        )
    finally:
        # The session's database is shared by the tests that follow: leave no user behind
        # (its tokens go with it: ON DELETE CASCADE).
        with app.app_context():
            db.session.execute(delete(User).where(User.id == user_id))
            db.session.commit()
    rows = {row["workflow_id"]: row for row in body["workflows"]}
    assert set(rows) == {"software_product_development", "intake_and_route"}
    assert rows["software_product_development"]["step_count"] == 6
    assert rows["intake_and_route"]["active_version"] == "1.0.0"
    assert body["total"] == 2
