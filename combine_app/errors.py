"""Domain exceptions and the one place that turns any failure into a response.

Under ``/api/v1`` every error is RFC 9457 problem details (``application/problem+json``);
elsewhere the client gets an HTML page unless it asked for JSON.
"""

from __future__ import annotations

import logging
from http import HTTPStatus

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from marshmallow import ValidationError
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError
from werkzeug.exceptions import HTTPException

from combine_app.portable_json import pointer_messages
from combine_app.schemas import PROBLEM_JSON, problem_body

log = logging.getLogger(__name__)

# Served when the error page itself cannot be rendered: base.html shows the signed-in user, so
# with the database down the normal page would fail in turn and become a bare 500.
PLAIN_ERROR_PAGE = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
    "</head><body><h1>{status} · {title}</h1><p>{detail}</p></body></html>"
)


class AppError(Exception):
    """An error the client can act on; carries its HTTP status and optional field errors."""

    status = 400

    def __init__(self, detail: str, errors: dict | None = None, headers: dict | None = None):
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}


class BadRequest(AppError):
    """The request could not be read (malformed JSON, non-UTF-8 bytes)."""

    status = 400


class Unauthorized(AppError):
    """No valid credentials came with the request."""

    status = 401


class Forbidden(AppError):
    """The caller is known but may not do this."""

    status = 403


class NotFound(AppError):
    """The thing does not exist, or belongs to someone else."""

    status = 404


class Conflict(AppError):
    """The request contradicts the current state."""

    status = 409


class ConcurrentChange(Conflict):
    """Another transaction changed the same row between our read and our write."""


class PreconditionFailed(AppError):
    """``If-Match`` named a revision that is no longer current."""

    status = 412


class TooManyRequests(AppError):
    """Too many failed sign-ins; ``Retry-After`` says when to try again."""

    status = 429


class UnsupportedMediaType(AppError):
    """The body is not JSON."""

    status = 415


class ValidationFailed(AppError):
    """Well-formed input that breaks the rules; ``errors`` names the fields."""

    status = 422


class ServiceUnavailable(AppError):
    """A dependency (the database) is not answering."""

    status = 503


def wants_json() -> bool:
    """Whether the current request should be answered with JSON rather than HTML."""
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return (
        best == "application/json"
        and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


def problem(status: int, detail: str, errors: dict | None = None, headers: dict | None = None):
    """Build an ``application/problem+json`` response."""
    response = jsonify(problem_body(status, detail, errors))
    response.status_code = status
    response.mimetype = PROBLEM_JSON
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def error_response(status: int, detail: str, errors: dict | None = None, headers=None):
    """Answer in the shape the client expects: problem+json or an HTML page."""
    if wants_json():
        return problem(status, detail, errors, headers)
    title = HTTPStatus(status).phrase
    try:
        html = render_template("errors/error.html", status=status, title=title, detail=detail)
    except Exception as error:
        if isinstance(error, SQLAlchemyError):  # expected while the database is down
            log.warning("error page needs the database (%s); plain page sent", type(error).__name__)
        else:
            log.exception("the error page could not be rendered; plain page sent")
        html = PLAIN_ERROR_PAGE.format(status=status, title=escape(title), detail=escape(detail))
    return html, status, headers or {}


def register_errorhandlers(app: Flask) -> None:
    """Map every exception to one response shape; nothing internal leaks to the client."""

    @app.errorhandler(AppError)
    def handle_app_error(error: AppError):
        return error_response(error.status, error.detail, error.errors, error.headers)

    @app.errorhandler(ValidationError)
    def handle_validation_error(error: ValidationError):
        messages = pointer_messages(error.messages)
        return error_response(422, "The request breaks the rules; see errors.", messages)

    @app.errorhandler(CSRFError)
    def handle_csrf_error(error: CSRFError):
        return error_response(403, f"The form or request was refused: {error.description}")

    @app.errorhandler(OperationalError)
    def handle_database_down(error: OperationalError):
        log.warning("database unavailable: %s", error.orig)
        return error_response(
            503, "The database is not answering; try again shortly.", headers={"Retry-After": "5"}
        )

    @app.errorhandler(DBAPIError)
    def handle_database_error(error: DBAPIError):
        if error.connection_invalidated:
            return handle_database_down(error)
        log.exception("database error")
        return error_response(500, "An unexpected error occurred.")

    @app.errorhandler(HTTPException)
    def handle_http_exception(error: HTTPException):
        status = error.code or 500
        detail = {
            400: "The request could not be read.",
            404: "Nothing lives at this address.",
            405: f"{request.method} is not allowed here.",
            413: f"The body is larger than the limit of {app.config.get('MAX_CONTENT_LENGTH')} "
            "bytes.",
        }.get(status, error.description or HTTPStatus(status).phrase)
        headers = {}
        if status == 405 and error.valid_methods:
            headers["Allow"] = ", ".join(error.valid_methods)
        return error_response(status, detail, headers=headers)

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception):
        log.exception("unhandled error")
        return error_response(500, "An unexpected error occurred.")
