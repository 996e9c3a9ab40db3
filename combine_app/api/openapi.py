"""The OpenAPI 3.1 description of ``/api/v1``, served to signed-in callers at ``openapi.json``.

Request bodies, query arguments and the project, instance and history shapes are generated from
the marshmallow schemas the views load and dump with, so the description and the code cannot
disagree; the few shapes that no schema owns (drift, tree, workbench) are written out here.
"""

from __future__ import annotations

import functools
from http import HTTPStatus
from typing import Any

from marshmallow import RAISE, Schema, fields, missing, validate

from combine_app.api import MAX_JSON_DEPTH, api
from combine_app.api import deviations as deviation_routes
from combine_app.catalog import validation as pow_rules
from combine_app.catalog.workbench import ROW_FIELDS
from combine_app.projects.intake import IntakeRequestSchema
from combine_app.projects.schemas import (
    ProjectCreateSchema,
    ProjectListArgs,
    ProjectPatchSchema,
    ProjectSchema,
)
from combine_app.schemas import Trimmed
from combine_app.settings import MAX_BODY_BYTES
from combine_app.workflows.models import STATUSES
from combine_app.workflows.schemas import (
    CreateWorkflowInstanceSchema,
    HistoryArgs,
    HistoryEntrySchema,
    UpdateWorkflowInstanceSchema,
    WorkflowInstanceSchema,
)

JSON = "application/json"
PROBLEM_JSON = "application/problem+json"
CHANGE_TYPES = (
    "created",
    "step_added",
    "step_removed",
    "step_reordered",
    "step_modified",
    "metadata_changed",
    "status_changed",
    "deviation_accepted",
    "deviation_withdrawn",
)
PROJECT_STATUSES = ("active", "archived")
IDENTIFIER = {
    "type": "string",
    "minLength": 1,
    "maxLength": pow_rules.MAX_ID_LENGTH,
    "pattern": f"^{pow_rules.IDENTIFIER.pattern}$",
}
SEMVER = {"type": "string", "pattern": f"^{pow_rules.SEMVER.pattern}$"}
# Trimmed fields strip white space before their length is checked: a value must hold a
# non-space character to be non-empty.
NOT_BLANK = r"\S"


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: dict) -> dict:
    if "$ref" in schema:
        return {"anyOf": [schema, {"type": "null"}]}
    kind = schema.get("type")
    if kind is None:
        return {"anyOf": [schema, {"type": "null"}]}
    kinds = [kind] if isinstance(kind, str) else list(kind)
    return {**schema, "type": kinds if "null" in kinds else [*kinds, "null"]}


def field_schema(field: fields.Field) -> dict:
    """The JSON Schema of one marshmallow field, its validators included."""
    if isinstance(field, fields.UUID):
        schema: dict[str, Any] = {"type": "string", "format": "uuid"}
    elif isinstance(field, fields.DateTime):
        schema = {"type": "string", "format": "date-time"}
    elif isinstance(field, fields.String):
        schema = {"type": "string"}
    elif isinstance(field, fields.Boolean):
        schema = {"type": "boolean"}
    elif isinstance(field, fields.Integer):
        schema = {"type": "integer"}
    elif isinstance(field, fields.Dict):
        schema = {"type": "object"}
    else:
        raise TypeError(f"no JSON Schema for {type(field).__name__}; describe it by hand")
    for rule in field.validators:
        if isinstance(rule, validate.Length):
            if rule.min:
                schema["minLength"] = rule.min
            if rule.max is not None:
                schema["maxLength"] = rule.max
        elif isinstance(rule, validate.Range):
            if rule.min is not None:
                key = "minimum" if rule.min_inclusive else "exclusiveMinimum"
                schema[key] = rule.min
            if rule.max is not None:
                key = "maximum" if rule.max_inclusive else "exclusiveMaximum"
                schema[key] = rule.max
        elif isinstance(rule, validate.Regexp):
            schema["pattern"] = rule.regex.pattern
        elif isinstance(rule, validate.OneOf):
            schema["enum"] = list(rule.choices)
        else:
            raise TypeError(f"no JSON Schema for validator {rule!r}; describe it by hand")
    if isinstance(field, Trimmed) and schema.get("minLength") and "pattern" not in schema:
        schema["pattern"] = NOT_BLANK
    default = field.load_default
    if default is not missing and default is not None and not callable(default):
        schema["default"] = default
    if field.allow_none:
        schema = _nullable(schema)
    return schema


def request_schema(schema: Schema, **overrides: dict) -> dict:
    """A request body as a marshmallow schema loads it: required fields, unknown keys refused."""
    properties = {
        field.data_key or name: overrides.get(name) or field_schema(field)
        for name, field in schema.fields.items()
        if not field.dump_only
    }
    required = [
        field.data_key or name
        for name, field in schema.fields.items()
        if field.required and not field.dump_only
    ]
    body: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        body["required"] = required
    if schema.unknown == RAISE:
        body["additionalProperties"] = False
    return body


def response_schema(schema: Schema, **overrides: dict) -> dict:
    """A response as a marshmallow schema dumps it: every field present, nothing else."""
    properties = {
        field.data_key or name: overrides.get(name) or field_schema(field)
        for name, field in schema.fields.items()
        if not field.load_only
    }
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


def extended(base: dict, **properties: dict) -> dict:
    """``base`` (a closed object schema) with more required properties."""
    return {
        **base,
        "properties": {**base["properties"], **properties},
        "required": [*base["required"], *properties],
    }


def query_parameters(schema: Schema) -> list[dict]:
    """The query arguments a marshmallow schema loads, one parameter each."""
    return [
        {
            "name": field.data_key or name,
            "in": "query",
            "required": bool(field.required),
            "schema": field_schema(field),
        }
        for name, field in schema.fields.items()
    ]


def _components() -> dict:
    project = response_schema(
        ProjectSchema(),
        owner={"type": "string", "description": "The owner's username."},
        status={"type": "string", "enum": list(PROJECT_STATUSES)},
    )
    instance = response_schema(
        WorkflowInstanceSchema(),
        project_key={"type": "string", "description": "The project's human key, e.g. SPD-001."},
        base_workflow_ref=_ref("BaseWorkflowRef"),
        effective_workflow=_ref("PowDefinition"),
        status={"type": "string", "enum": list(STATUSES)},
        revision={"type": "integer", "minimum": 1},
    )
    step_list = {"type": "array", "items": {"type": "string"}}
    return {
        "securitySchemes": {
            "bearerAuth": {
                "type": "http",
                "scheme": "bearer",
                "description": "An API token from `flask --app wsgi tokens create USERNAME`.",
            },
            "sessionCookie": {
                "type": "apiKey",
                "in": "cookie",
                "name": "session",
                "description": "The signed-in browser session; unsafe methods then need the "
                "X-CSRFToken header.",
            },
        },
        "headers": {
            "ETag": {
                "description": "Names the instance and its revision; send it back in If-Match.",
                "required": True,
                "schema": {"type": "string", "pattern": r'^"[0-9a-f-]{36}:\d+"$'},
            },
            "WWW-Authenticate": {
                "description": "The bearer challenge.",
                "required": True,
                "schema": {"type": "string", "pattern": "^Bearer "},
            },
            "Retry-After": {
                "description": "Seconds to wait before retrying.",
                "required": True,
                "schema": {"type": "string", "pattern": r"^\d+$"},
            },
        },
        "schemas": {
            "Problem": {
                "type": "object",
                "description": "RFC 9457 problem details.",
                "required": ["type", "title", "status", "detail"],
                "properties": {
                    "type": {"type": "string"},
                    "title": {"type": "string", "minLength": 1},
                    "status": {"type": "integer", "minimum": 400, "maximum": 599},
                    "detail": {"type": "string", "minLength": 1},
                    "errors": {
                        "type": "object",
                        "description": "Messages by field name or JSON pointer.",
                        "additionalProperties": {"type": "array", "items": {"type": "string"}},
                    },
                },
                "additionalProperties": False,
            },
            "Project": project,
            "ProjectListItem": extended(
                project,
                has_workflow={"type": "boolean"},
                workflow_status=_nullable({"type": "string", "enum": list(STATUSES)}),
            ),
            "ProjectList": {
                "type": "object",
                "required": ["projects", "total", "offset", "limit"],
                "properties": {
                    "projects": {"type": "array", "items": _ref("ProjectListItem")},
                    "total": {"type": "integer", "minimum": 0},
                    "offset": {"type": "integer", "minimum": 0},
                    "limit": {"type": "integer", "minimum": 1},
                },
                "additionalProperties": False,
            },
            "ProjectFromIntake": extended(project, workflow=_nullable(_ref("WorkflowInstance"))),
            "ProjectTree": {
                "type": "object",
                "required": ["project", "has_workflow", "workflow_status", "workflow"],
                "properties": {
                    "project": _ref("Project"),
                    "has_workflow": {"type": "boolean"},
                    "workflow_status": _nullable({"type": "string", "enum": list(STATUSES)}),
                    "workflow": _nullable(
                        {
                            "type": "object",
                            "required": [
                                "workflow_id",
                                "version",
                                "pow_class",
                                "status",
                                "revision",
                            ],
                            "properties": {
                                "workflow_id": {"type": "string"},
                                "version": {"type": "string"},
                                "pow_class": {"type": ["string", "null"]},
                                "status": {"type": "string", "enum": list(STATUSES)},
                                "revision": {"type": "integer", "minimum": 1},
                            },
                            "additionalProperties": False,
                        }
                    ),
                },
                "additionalProperties": False,
            },
            "BaseWorkflowRef": {
                "type": "object",
                "required": ["workflow_id", "version", "pow_class", "content_hash"],
                "properties": {
                    "workflow_id": IDENTIFIER,
                    "version": SEMVER,
                    "pow_class": {"type": "string", "enum": list(pow_rules.CONFIG_POW_CLASSES)},
                    "content_hash": {"type": "string", "pattern": "^sha256:[0-9a-f]{64}$"},
                },
                "additionalProperties": False,
            },
            "PowDefinition": {
                "type": "object",
                "description": "A POW definition. Unknown keys are kept. step_ids are unique "
                f"across the whole tree; at most {pow_rules.MAX_STEPS:,} steps, nested at most "
                f"{pow_rules.MAX_DEPTH} levels deep.",
                "required": ["workflow_id", "name", "pow_class", "steps"],
                "properties": {
                    "workflow_id": IDENTIFIER,
                    "name": {"type": "string", "minLength": 1, "pattern": NOT_BLANK},
                    "pow_class": {"type": "string", "enum": list(pow_rules.CONFIG_POW_CLASSES)},
                    "description": {"type": "string"},
                    "schema_version": {"type": "string"},
                    "source_version": _nullable(SEMVER),
                    "tags": {"type": "array", "items": {"type": "string"}},
                    "derived_from": _nullable(
                        {
                            "type": "object",
                            "required": ["workflow_id", "version"],
                            "properties": {"workflow_id": IDENTIFIER, "version": SEMVER},
                        }
                    ),
                    "steps": {"type": "array", "items": _ref("Step")},
                },
                "not": {"anyOf": [{"required": ["nodes"]}, {"required": ["edges"]}]},
            },
            "Step": {
                "type": "object",
                "description": "A step; a step with iterate_over may hold nested steps.",
                "required": ["step_id"],
                "properties": {
                    "step_id": IDENTIFIER,
                    "steps": {"type": "array", "items": _ref("Step")},
                },
            },
            "WorkflowInstance": instance,
            "HistoryEntry": response_schema(
                HistoryEntrySchema(),
                change_type={"type": "string", "enum": list(CHANGE_TYPES)},
                revision={"type": "integer", "minimum": 1},
            ),
            "HistoryPage": {
                "type": "object",
                "description": "Entries newest first.",
                "required": ["entries", "total", "offset", "limit"],
                "properties": {
                    "entries": {"type": "array", "items": _ref("HistoryEntry")},
                    "total": {"type": "integer", "minimum": 0},
                    "offset": {"type": "integer", "minimum": 0},
                    "limit": {"type": "integer", "minimum": 1},
                },
                "additionalProperties": False,
            },
            "FieldChange": {
                "type": "object",
                "required": ["field", "old", "new"],
                "properties": {
                    "field": {"type": "string"},
                    "old": {},
                    "new": {},
                    "change": {"type": "string", "enum": ["added", "removed", "changed"]},
                },
                "additionalProperties": False,
            },
            "DriftResponse": {
                "type": "object",
                "required": [
                    "base_workflow_id",
                    "base_version",
                    "steps_added",
                    "steps_removed",
                    "steps_reordered",
                    "steps_moved",
                    "steps_modified",
                    "step_moves",
                    "step_changes",
                    "metadata_changed",
                    "metadata_changes",
                    "is_drifted",
                    "source_available",
                    "source_changed",
                    "latest_version",
                    *deviation_routes.drift_properties(_ref),
                ],
                "properties": {
                    "base_workflow_id": {"type": "string"},
                    "base_version": {"type": "string"},
                    "steps_added": step_list,
                    "steps_removed": step_list,
                    "steps_reordered": {"type": "boolean"},
                    "steps_moved": step_list,
                    "steps_modified": step_list,
                    "step_moves": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": [
                                "step_id",
                                "from_parent",
                                "to_parent",
                                "from_position",
                                "to_position",
                            ],
                            "properties": {
                                "step_id": {"type": "string"},
                                "from_parent": {"type": ["string", "null"]},
                                "to_parent": {"type": ["string", "null"]},
                                "from_position": {"type": "integer", "minimum": 0},
                                "to_position": {"type": "integer", "minimum": 0},
                            },
                            "additionalProperties": False,
                        },
                    },
                    "step_changes": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["step_id", "changes"],
                            "properties": {
                                "step_id": {"type": "string"},
                                "changes": {"type": "array", "items": _ref("FieldChange")},
                            },
                            "additionalProperties": False,
                        },
                    },
                    "metadata_changed": {"type": "boolean"},
                    "metadata_changes": {"type": "array", "items": _ref("FieldChange")},
                    "is_drifted": {"type": "boolean"},
                    "source_available": {"type": "boolean"},
                    "source_changed": {"type": "boolean"},
                    "latest_version": {"type": ["string", "null"]},
                    **deviation_routes.drift_properties(_ref),
                },
                "additionalProperties": False,
            },
            **deviation_routes.components(_ref, response_schema),
            "WorkbenchListing": {
                "type": "object",
                "required": ["workflows", "total"],
                "properties": {
                    "workflows": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": list(ROW_FIELDS),
                            "properties": {
                                "workflow_id": {"type": "string"},
                                "name": {"type": "string"},
                                "description": {"type": "string"},
                                "active_version": {"type": "string"},
                                "versions": {"type": "array", "items": {"type": "string"}},
                                "pow_class": {
                                    "type": "string",
                                    "enum": list(pow_rules.CONFIG_POW_CLASSES),
                                },
                                "derived_from": {"type": ["object", "null"]},
                                "source_version": {"type": ["string", "null"]},
                                "tags": {"type": "array", "items": {"type": "string"}},
                                "step_count": {"type": "integer", "minimum": 0},
                                "schema_version": {"type": ["string", "null"]},
                            },
                            "additionalProperties": False,
                        },
                    },
                    "total": {"type": "integer", "minimum": 0},
                },
                "additionalProperties": False,
            },
        },
    }


def _problem(status: int) -> dict:
    response: dict[str, Any] = {
        "description": HTTPStatus(status).phrase,
        "content": {PROBLEM_JSON: {"schema": _ref("Problem")}},
    }
    header = {401: "WWW-Authenticate", 503: "Retry-After"}.get(status)
    if header:
        response["headers"] = {header: {"$ref": f"#/components/headers/{header}"}}
    return response


def _ok(schema_name: str, description: str, *, etag: bool = False) -> dict:
    response: dict[str, Any] = {
        "description": description,
        "content": {JSON: {"schema": _ref(schema_name)}},
    }
    if etag:
        response["headers"] = {"ETag": {"$ref": "#/components/headers/ETag"}}
    return response


# Every route authenticates and reads the database; routes by kind of request add the rest.
_ALWAYS = (401, 503)
_PROJECT = (404,)
# An unsafe request made with a browser session and no CSRF token is refused with 403.
_UNSAFE = (403, 409)
_BODY = (400, 413, 415, 422)


def _operation(
    operation_id: str,
    summary: str,
    ok: dict[str, dict],
    errors: tuple[int, ...],
    *,
    tag: str,
    body: dict | None = None,
    parameters: list[dict] | None = None,
) -> dict:
    responses = dict(ok)
    for status in sorted(set(errors) | set(_ALWAYS)):
        responses[str(status)] = _problem(status)
    operation: dict[str, Any] = {
        "operationId": operation_id,
        "summary": summary,
        "tags": [tag],
        "responses": responses,
    }
    if parameters:
        operation["parameters"] = parameters
    if body is not None:
        operation["requestBody"] = {"required": True, "content": {JSON: {"schema": body}}}
    return operation


def _paths() -> dict:
    project_param = {
        "name": "project_id",
        "in": "path",
        "required": True,
        "description": "The project's UUID or its human key (e.g. SPD-001).",
        "schema": {"type": "string", "minLength": 1},
    }
    if_match = {
        "name": "If-Match",
        "in": "header",
        "required": False,
        "description": "The ETag last read; 412 when the instance has changed since.",
        "schema": {"type": "string"},
    }
    instance = _ok("WorkflowInstance", "The workflow instance.", etag=True)
    project = _ok("Project", "The project.")
    write = (*_PROJECT, *_UNSAFE)
    return {
        "/openapi.json": {
            "get": _operation(
                "openapi",
                "This description; like every endpoint, it needs credentials.",
                {
                    "200": {
                        "description": "The OpenAPI 3.1 document.",
                        "content": {JSON: {"schema": {"type": "object"}}},
                    }
                },
                (),
                tag="meta",
            )
        },
        "/projects": {
            "get": _operation(
                "listProjects",
                "Projects the caller may see, newest first, with their workflow status.",
                {"200": _ok("ProjectList", "One page of projects.")},
                (422,),
                tag="projects",
                parameters=query_parameters(ProjectListArgs()),
            ),
            "post": _operation(
                "createProject",
                "Create a project owned by the caller.",
                {"201": _ok("Project", "The new project.")},
                (*_UNSAFE, *_BODY),
                tag="projects",
                body=request_schema(ProjectCreateSchema()),
            ),
        },
        "/projects/from-intake": {
            "post": _operation(
                "createProjectFromIntake",
                "Create a project (and its workflow when one is named) from an intake document; "
                "a repeated execution_id answers 200 with the project it made.",
                {
                    "201": _ok("ProjectFromIntake", "The new project with its workflow."),
                    "200": _ok("ProjectFromIntake", "The project this execution_id made."),
                },
                (*_UNSAFE, *_BODY),
                tag="projects",
                body=request_schema(
                    IntakeRequestSchema(),
                    intake_document={
                        "type": "object",
                        "description": "Kept as sent. The project is named by project_name, "
                        "else by the first line of summary.description.",
                        "properties": {"project_name": {"type": "string"}},
                    },
                ),
            ),
        },
        "/projects/{project_id}": {
            "parameters": [project_param],
            "get": _operation(
                "getProject", "One project.", {"200": project}, _PROJECT, tag="projects"
            ),
            "patch": _operation(
                "patchProject",
                "Rename or re-describe a project.",
                {"200": project},
                (*write, *_BODY),
                tag="projects",
                body={**request_schema(ProjectPatchSchema()), "minProperties": 1},
            ),
            "delete": _operation(
                "deleteProject",
                "Delete a project with its workflow instance and history.",
                {"204": {"description": "Deleted."}},
                write,
                tag="projects",
            ),
        },
        "/projects/{project_id}/archive": {
            "parameters": [project_param],
            "post": _operation(
                "archiveProject",
                "Archive a project; 409 if it already is.",
                {"200": project},
                write,
                tag="projects",
            ),
        },
        "/projects/{project_id}/unarchive": {
            "parameters": [project_param],
            "post": _operation(
                "unarchiveProject",
                "Unarchive a project; 409 if it is not archived.",
                {"200": project},
                write,
                tag="projects",
            ),
        },
        "/projects/{project_id}/tree": {
            "parameters": [project_param],
            "get": _operation(
                "projectTree",
                "A project with its workflow state.",
                {"200": _ok("ProjectTree", "The project and its workflow state.")},
                _PROJECT,
                tag="projects",
            ),
        },
        "/projects/{project_id}/workflow": {
            "parameters": [project_param],
            "post": _operation(
                "createWorkflow",
                "Give the project its workflow instance, snapshotted from a reference or "
                "template POW; 409 if it has one, 422 naming the field for an unknown workflow "
                "or version.",
                {"201": instance},
                (*write, *_BODY),
                tag="workflow",
                body=request_schema(CreateWorkflowInstanceSchema()),
            ),
            "get": _operation(
                "getWorkflow",
                "The project's workflow instance; 404 if it has none.",
                {"200": instance},
                _PROJECT,
                tag="workflow",
            ),
            "put": _operation(
                "putWorkflow",
                "Replace the effective workflow. If-Match is honoured when sent (412 when "
                "stale); 409 unless the instance is active; an identical body changes nothing.",
                {"200": instance},
                (*write, 412, *_BODY),
                tag="workflow",
                parameters=[if_match],
                body=request_schema(
                    UpdateWorkflowInstanceSchema(), effective_workflow=_ref("PowDefinition")
                ),
            ),
        },
        "/projects/{project_id}/workflow/drift": {
            "parameters": [project_param],
            "get": _operation(
                "getDrift",
                "How the instance has drifted from its source definition.",
                {"200": _ok("DriftResponse", "The drift, computed now.")},
                _PROJECT,
                tag="workflow",
            ),
        },
        "/projects/{project_id}/workflow/history": {
            "parameters": [project_param],
            "get": _operation(
                "getHistory",
                "The instance's history, newest first.",
                {"200": _ok("HistoryPage", "One page of history entries.")},
                (*_PROJECT, 422),
                tag="workflow",
                parameters=query_parameters(HistoryArgs()),
            ),
        },
        "/projects/{project_id}/workflow/complete": {
            "parameters": [project_param],
            "post": _operation(
                "completeWorkflow",
                "Mark the active instance completed; 409 otherwise.",
                {"200": instance},
                write,
                tag="workflow",
            ),
        },
        "/projects/{project_id}/workflow/archive": {
            "parameters": [project_param],
            "post": _operation(
                "archiveWorkflow",
                "Archive the instance; 409 if it already is.",
                {"200": instance},
                write,
                tag="workflow",
            ),
        },
        **deviation_routes.paths(_operation, _ok, request_schema, project_param, write, _BODY),
        "/admin/workbench/orchestration-workflows": {
            "get": _operation(
                "orchestrationWorkflows",
                "Every reference and template POW in the config folder, with its versions.",
                {"200": _ok("WorkbenchListing", "The POWs.")},
                (),
                tag="workbench",
            ),
        },
    }


@functools.cache
def openapi_document() -> dict:
    """The whole OpenAPI 3.1 document as a plain dict (built once)."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Combine API",
            "version": "1",
            "description": (
                "Project-scoped, editable instances of governed workflow definitions.\n\n"
                "Errors are RFC 9457 problem details (application/problem+json). Bodies are "
                f"UTF-8 JSON objects of at most {MAX_BODY_BYTES:,} bytes by default (413 "
                "beyond). Malformed JSON is 400, and so is nesting deeper than "
                f"{MAX_JSON_DEPTH} levels. Valid JSON that breaks the rules is 422: that "
                "includes the NaN and Infinity literals, an object with a duplicate key, a "
                "number beyond 2^53 - 1 in size (send such values as strings), and text holding "
                "NUL (\\u0000) or an unpaired surrogate."
            ),
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearerAuth": []}, {"sessionCookie": []}],
        "tags": [
            {"name": "projects"},
            {"name": "workflow", "description": "A project's workflow instance."},
            {"name": "workbench"},
            {"name": "meta"},
        ],
        "paths": _paths(),
        "components": _components(),
    }


@api.get("/openapi.json")
def openapi():
    """The OpenAPI description of this API; public, like any published contract."""
    return openapi_document()
