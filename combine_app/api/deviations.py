"""Accepted deviations of a project's workflow, and their part of the OpenAPI description.

``POST …/workflow/deviations {key, reason}`` accepts one current drift item, ``GET`` lists the
acceptances, ``DELETE …/workflow/deviations/{key}`` withdraws one. Written in the blueprint's
plain style, with the description beside the routes, until the API moves to flask-smorest.
"""

from __future__ import annotations

from typing import Any

from flask import g

from combine_app.api import api, json_body
from combine_app.catalog.commands import get_loader
from combine_app.database import unit_of_work
from combine_app.extensions import db
from combine_app.projects import service as projects
from combine_app.workflows import drift_items
from combine_app.workflows.deviation_service import DeviationService
from combine_app.workflows.models import MAX_DEVIATION_KEY_LENGTH
from combine_app.workflows.schemas import AcceptDeviationSchema, AcceptedDeviationSchema

deviation_schema = AcceptedDeviationSchema()


def _service() -> DeviationService:
    return DeviationService(db.session, get_loader())


@api.post("/projects/<project_id>/workflow/deviations")
@unit_of_work
def accept_deviation(project_id: str):
    """Accept one current drift item, with the reason it is intended."""
    data = AcceptDeviationSchema().load(json_body())
    project = projects.get_project(g.user, project_id)
    accepted = _service().accept(project, data["key"], data["reason"], g.user.username)
    return deviation_schema.dump(accepted), 201


@api.get("/projects/<project_id>/workflow/deviations")
def list_deviations(project_id: str):
    """Every accepted deviation of the project's workflow, oldest first."""
    accepted = _service().list(projects.get_project(g.user, project_id))
    return {"deviations": deviation_schema.dump(accepted, many=True), "total": len(accepted)}


# A key may hold '/' (a field name can): the converter takes the rest of the path.
@api.delete("/projects/<project_id>/workflow/deviations/<path:key>")
@unit_of_work
def withdraw_deviation(project_id: str, key: str):
    """Withdraw one acceptance: the item is unexplained again."""
    _service().withdraw(projects.get_project(g.user, project_id), key, g.user.username)
    return "", 204


# --- the OpenAPI description ---------------------------------------------------------------------

ACCEPTANCE_STATUSES = [
    drift_items.ACCEPTED,
    drift_items.CHANGED_SINCE,
    drift_items.NOT_A_DIFFERENCE,
]


def components(ref, response_schema) -> dict[str, dict]:
    """The schemas this module adds: DriftItem, AcceptedDeviation and their list."""
    deviation = response_schema(
        AcceptedDeviationSchema(),
        kind={"type": "string", "enum": list(drift_items.KINDS)},
        accepted_at={"type": "string", "format": "date-time"},
        status={"type": "string", "enum": ACCEPTANCE_STATUSES},
        revision={"type": "integer", "minimum": 1},
    )
    return {
        "DriftItem": {
            "type": "object",
            "description": "One difference between the source and the instance. `source` and "
            "`instance` hold each side's value (field kinds; `change` tells a missing field "
            "from null) or place (step kinds; null on the side where the step is not).",
            "required": [
                "key",
                "kind",
                "step_id",
                "field",
                "change",
                "source",
                "instance",
                "origin",
                "fingerprint",
                "explained",
                "acceptance",
            ],
            "properties": {
                "key": {"type": "string", "minLength": 1},
                "kind": {"type": "string", "enum": list(drift_items.KINDS)},
                "step_id": {"type": ["string", "null"]},
                "field": {"type": ["string", "null"]},
                "change": {
                    "type": ["string", "null"],
                    "enum": ["added", "removed", "changed", None],
                },
                "source": {},
                "instance": {},
                "origin": {"type": "string", "enum": list(drift_items.ORIGINS)},
                "fingerprint": {"type": "string", "pattern": "^sha256:[0-9a-f]{64}$"},
                "explained": {"type": "boolean"},
                "acceptance": {"anyOf": [ref("AcceptedDeviation"), {"type": "null"}]},
            },
            "additionalProperties": False,
        },
        "AcceptedDeviation": deviation,
        "AcceptedDeviationList": {
            "type": "object",
            "required": ["deviations", "total"],
            "properties": {
                "deviations": {"type": "array", "items": ref("AcceptedDeviation")},
                "total": {"type": "integer", "minimum": 0},
            },
            "additionalProperties": False,
        },
    }


def drift_properties(ref) -> dict[str, dict]:
    """What the drift response adds to the spec's fields."""
    return {
        "items": {"type": "array", "items": ref("DriftItem")},
        "unexplained_count": {"type": "integer", "minimum": 0},
        "is_drifted_unexplained": {"type": "boolean"},
    }


def paths(operation, ok, request_schema, project_param, write, body_errors) -> dict[str, Any]:
    """The three deviation operations, in the house's description style."""
    key_param = {
        "name": "key",
        "in": "path",
        "required": True,
        "description": "A drift item's key, e.g. step_modified:design:task_prompt.",
        "schema": {"type": "string", "minLength": 1, "maxLength": MAX_DEVIATION_KEY_LENGTH},
    }
    return {
        "/projects/{project_id}/workflow/deviations": {
            "parameters": [project_param],
            "get": operation(
                "listDeviations",
                "The accepted deviations, each with its status against the drift now.",
                {"200": ok("AcceptedDeviationList", "The acceptances, oldest first.")},
                (404,),
                tag="workflow",
            ),
            "post": operation(
                "acceptDeviation",
                "Accept one current drift item with a reason; 422 naming key when it is not a "
                "current difference; 409 unless the project and instance may be changed.",
                {"201": ok("AcceptedDeviation", "The acceptance.")},
                (*write, *body_errors),
                tag="workflow",
                body=request_schema(AcceptDeviationSchema()),
            ),
        },
        "/projects/{project_id}/workflow/deviations/{key}": {
            "parameters": [project_param, key_param],
            "delete": operation(
                "withdrawDeviation",
                "Withdraw an acceptance; 404 when the key has none.",
                {"204": {"description": "Withdrawn."}},
                write,
                tag="workflow",
            ),
        },
    }
