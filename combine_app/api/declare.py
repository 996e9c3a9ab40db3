"""How a route of ``/api/v1`` is declared: the blueprint and the request reader.

A route states its request schemas with ``@api.arguments`` (``location="json"`` for a body,
``"query"`` for query arguments) and its success answer with ``@api.response(status, Schema)``;
flask-smorest loads and dumps with them and the OpenAPI document is generated from the same
schemas. The error answers need no declaration: :class:`ApiBlueprint` documents the problem+json
statuses every route of its kind can answer (401 and 503 always; 404 under ``{project_id}``;
403 and 409 for unsafe methods; 400, 413, 415 and 422 with a body; 422 with query arguments).
A route adds the statuses only it answers with ``@api.problems(412)``.
"""

from __future__ import annotations

from copy import deepcopy
from http import HTTPStatus

from flask_smorest import Blueprint
from webargs.flaskparser import FlaskParser
from werkzeug.routing import BaseConverter

from combine_app.errors import ValidationFailed
from combine_app.portable_json import pointer_messages
from combine_app.schemas import PROBLEM_JSON, ProblemSchema

SAFE_METHODS = frozenset({"get", "head", "options"})
# 429: a caller whose address sent bad tokens too often is told when to retry (the throttle).
_ALWAYS = (401, 429, 503)
_UNDER_PROJECT = (404,)
# An unsafe request made with a browser session and no CSRF token is refused with 403.
_UNSAFE = (403, 409)
_BODY = (400, 413, 415, 422)
_QUERY = (422,)
_HEADERS = {
    401: {
        "WWW-Authenticate": {
            "description": "The bearer challenge.",
            "required": True,
            "schema": {"type": "string", "pattern": "^Bearer "},
        }
    },
    503: {
        "Retry-After": {
            "description": "Seconds to wait before retrying.",
            "required": True,
            "schema": {"type": "string", "pattern": r"^\d+$"},
        }
    },
}
ETAG_HEADER = {
    "ETag": {
        "description": "Names the instance and its revision; send it back in If-Match.",
        "required": True,
        "schema": {"type": "string", "pattern": r'^"[0-9a-f-]{36}:\d+"$'},
    }
}
_HEADERS[412] = ETAG_HEADER  # a stale If-Match is told the current ETag
_HEADERS[429] = _HEADERS[503]  # both say when to come back: Retry-After, in seconds
IF_MATCH_PARAMETER = {
    "name": "If-Match",
    "in": "header",
    "required": False,
    "description": "The ETag last read; 412 when the instance has changed since. `*` only "
    "asks that the instance exist.",
    "schema": {"type": "string"},
}
# Set on a route's doc info by ``preconditions.changes_instance``: If-Match, 412 and the ETag.
CHANGES_INSTANCE = "changes_instance"
PROJECT_ID_PARAMETER = {
    "in": "path",
    "name": "project_id",
    "description": "The project's UUID or its human key (e.g. SPD-001).",
}


class ProjectRefConverter(BaseConverter):
    """A project's UUID or key in a path: any segment but the literal ``from-intake``, so
    ``/projects/from-intake`` is only ever the intake route (OPTIONS and 405 tell the truth)."""

    regex = r"(?!from-intake$)[^/]+"


class RequestParser(FlaskParser):
    """webargs' Flask parser with Combine's rules for reading requests.

    Bodies go through ``json_body`` (I-JSON: 415, 400, 413 and 422 as README says), each
    schema's own ``unknown`` applies in every location (query arguments it does not know are
    422, as body keys are), and a failed load is the problem+json 422 with ``errors`` keyed by
    field, as a marshmallow error anywhere else is.
    """

    DEFAULT_UNKNOWN_BY_LOCATION: dict = {}

    def load_json(self, req, schema):
        """The body, read as I-JSON by the one reader the API has.

        A schema with ``BODY_OPTIONAL`` (``{reason?}`` of complete and archive) reads no body
        at all as ``{}``; any body it is sent is read as every other body is.
        """
        from combine_app.api import json_body  # the package imports this module first

        if getattr(schema, "BODY_OPTIONAL", False) and not req.get_data(cache=True):
            return {}
        return json_body()

    def handle_error(self, error, req, schema, *, error_status_code, error_headers):
        """Raise the 422 problem naming each place (one location per ``arguments``).

        A body's places are JSON pointers into it (``/intake_document/project_name``, ``""``
        for the whole body); query arguments are named as they are sent (``limit``, ``from``).
        """
        ((location, messages),) = error.messages.items()
        if location == "json":
            errors = pointer_messages(messages)
        elif isinstance(messages, dict):
            errors = {("" if key == "_schema" else key): found for key, found in messages.items()}
        else:
            errors = {"": messages}
        raise ValidationFailed("The request breaks the rules; see errors.", errors)


# Each operation's operationId: short, stable, unique, a verb a person would say. Generated
# clients name their functions after these, so an entry never changes once released; a new
# route needs its entry here (the document refuses to build without one).
OPERATION_IDS = {
    "list_projects": "listProjects",
    "create_project": "createProject",
    "create_project_from_intake": "createProjectFromIntake",
    "get_project": "getProject",
    "patch_project": "updateProject",
    "delete_project": "deleteProject",
    "archive_project": "archiveProject",
    "unarchive_project": "unarchiveProject",
    "project_tree": "getProjectTree",
    "list_members": "listMembers",
    "put_member": "setMember",
    "delete_member": "removeMember",
    "create_workflow": "assignWorkflow",
    "get_workflow": "getWorkflow",
    "put_workflow": "updateWorkflow",
    "get_drift": "getDrift",
    "get_problems": "getProblems",
    "get_history": "getHistory",
    "export_history": "exportHistory",
    "complete_workflow": "completeWorkflow",
    "archive_workflow": "archiveWorkflow",
    "get_revision": "getRevision",
    "compare_workflow": "compareRevisions",
    "restore_workflow": "restoreRevision",
    "list_deviations": "listDeviations",
    "request_deviation": "acceptDeviation",
    "approve_deviation": "approveDeviation",
    "reject_deviation": "rejectDeviation",
    "withdraw_deviation": "withdrawDeviation",
    "orchestration_workflows": "listOrchestrationWorkflows",
    "openapi": "getOpenApiDocument",
}


def operation_id(view_name: str) -> str:
    """The operationId of the view function named ``view_name``."""
    try:
        return OPERATION_IDS[view_name]
    except KeyError:
        raise LookupError(
            f"API view {view_name!r} has no operationId: add it to OPERATION_IDS "
            "(combine_app/api/declare.py)."
        ) from None


def problem_response(status: int) -> dict:
    """The OpenAPI response of a problem+json answer with ``status``."""
    response = {
        "description": HTTPStatus(status).phrase,
        "content": {PROBLEM_JSON: {"schema": ProblemSchema}},
    }
    if status in _HEADERS:
        response["headers"] = deepcopy(_HEADERS[status])
    return response


class ApiBlueprint(Blueprint):
    """A flask-smorest blueprint that documents the problem answers of each route."""

    ARGUMENTS_PARSER = RequestParser()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._prepare_doc_cbks.append(self._prepare_problems_doc)

    def add_url_rule(self, rule, endpoint=None, view_func=None, **options):
        """Register the route, remembering its rule for the problem statuses it implies."""
        parameters = list(options.get("parameters") or ())
        if "<project_id>" in rule and not any(p.get("name") == "project_id" for p in parameters):
            options["parameters"] = [dict(PROJECT_ID_PARAMETER), *parameters]
        routed = rule.replace("<project_id>", "<project_ref:project_id>")
        super().add_url_rule(routed, endpoint, view_func, **options)
        endpoint = self._endpoints[-1]
        for method, doc in self._docs[endpoint].items():
            if method != "parameters":
                doc["rule"] = rule
                doc["operationId"] = operation_id(view_func.__name__)

    @staticmethod
    def problems(*statuses: int):
        """Declare problem statuses a route answers beyond those of its kind (e.g. 412)."""

        def decorator(func):
            func._apidoc = deepcopy(getattr(func, "_apidoc", {}))
            func._apidoc.setdefault("problems", []).extend(statuses)
            return func

        return decorator

    @staticmethod
    def _prepare_problems_doc(doc, doc_info, *, method, **kwargs):
        doc["operationId"] = doc_info["operationId"]
        statuses = set(_ALWAYS) | set(doc_info.get("problems", ()))
        if "<project_id>" in doc_info.get("rule", ""):
            statuses.update(_UNDER_PROJECT)
        if method not in SAFE_METHODS:
            statuses.update(_UNSAFE)
        if "requestBody" in doc:
            statuses.update(_BODY)
        if any(parameter.get("in") == "query" for parameter in doc.get("parameters", ())):
            statuses.update(_QUERY)
        responses = doc.setdefault("responses", {})
        if doc_info.get(CHANGES_INSTANCE):
            doc.setdefault("parameters", []).append(deepcopy(IF_MATCH_PARAMETER))
            for status, response in responses.items():
                if int(status) < 300:
                    response.setdefault("headers", {}).update(deepcopy(ETAG_HEADER))
        for status in sorted(statuses):
            responses.pop(status, None)  # smorest's own 422 entry has another error shape
            responses[str(status)] = problem_response(status)
        return doc
