"""ResponseSchema's planned dump answers exactly what marshmallow's own dump does.

Every response schema is dumped both ways from the objects the routes really dump (ORM
objects, Core rows, the drift and history dicts) and the results must be equal.
"""

from __future__ import annotations

import pytest

from combine_app.api.reads import project_instance
from combine_app.catalog.app_loader import get_loader
from combine_app.catalog.schemas import WorkbenchListingSchema
from combine_app.catalog.workbench import workbench_listing
from combine_app.extensions import db
from combine_app.projects import overview
from combine_app.projects import service as project_service
from combine_app.projects.schemas import ProjectListSchema, ProjectSchema, ProjectTreeSchema
from combine_app.schemas import ResponseSchema, _dump_plan
from combine_app.workflows.schemas import (
    DriftResponseSchema,
    HistoryPageSchema,
    WorkflowInstanceSchema,
)
from combine_app.workflows.service import WorkflowInstanceService
from tests.workflows.instance_support import SPD, edited, source


@pytest.fixture
def scene(app, db_session, alice, make_project):
    """Alice's projects, one with a workflow that has drifted and has history."""
    service = WorkflowInstanceService(db_session, get_loader())
    project = make_project(alice)
    make_project(alice)
    instance = service.create_instance(project, SPD, "1.0.0", "alice")
    service.update_instance(project, edited(source(SPD, "1.0.0"), description="Changed"), "alice")
    db_session.commit()
    return project, instance


def both_ways(schema: ResponseSchema, obj, monkeypatch, many: bool = False):
    """The planned dump and marshmallow's own (plans off at every level)."""
    assert _dump_plan(schema) is not None, type(schema).__name__  # the plan is really used
    planned = schema.dump(obj, many=many)
    with monkeypatch.context() as patch:
        patch.setattr(ResponseSchema, "use_plan", False)
        reference = schema.dump(obj, many=many)
    return planned, reference


def test_every_response_shape_dumps_the_same_both_ways(app, scene, alice, monkeypatch):
    project, instance = scene
    service = WorkflowInstanceService(db.session, get_loader())
    with app.test_request_context():
        from flask import g

        g.user = alice
        row = project_instance(project.project_id).row
        page = service.history_of(instance, 20, 0)
        rows, total = overview.list_rows(alice, "", False, 0, 100)
        tree_row = overview.one(project_service.project_query(alice, project.project_id))
        cases = [
            (ProjectSchema(), project),
            (WorkflowInstanceSchema(), instance),
            (WorkflowInstanceSchema(), row),
            (DriftResponseSchema(), service.drift_of(instance)),
            (
                HistoryPageSchema(),
                {"entries": page.entries, "total": page.total, "offset": 0, "limit": 20},
            ),
            (ProjectListSchema(), {"projects": rows, "total": total, "offset": 0, "limit": 100}),
            (WorkbenchListingSchema(), workbench_listing(get_loader())),
            (
                ProjectTreeSchema(),
                {
                    "project": tree_row.project,
                    "has_workflow": True,
                    "workflow_status": "active",
                    "workflow": None,
                },
            ),
        ]
        for schema, obj in cases:
            planned, reference = both_ways(schema, obj, monkeypatch)
            assert planned == reference, type(schema).__name__
        assert len(rows) == 2 and total == 2
        drift = cases[3][1]
        assert drift["items"], "the drift has items, so their schema is exercised"


def test_a_missing_attribute_falls_back_to_marshmallow(monkeypatch):
    schema = ProjectSchema()
    assert schema.dump({"id": None, "name": "only some"}) == {"id": None, "name": "only some"}
