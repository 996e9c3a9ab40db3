"""The JSON API blueprint under ``/api/v1``: who is asking, and how bodies are read.

Routes are declared on ``api`` with flask-smorest's decorators; see ``declare.py``.
"""

from __future__ import annotations

from typing import NoReturn

from flask import current_app, g, request
from flask_login import current_user

from combine_app.api.declare import ApiBlueprint
from combine_app.auth import throttle
from combine_app.auth.models import hash_token
from combine_app.auth.service import user_for_token
from combine_app.database import transaction
from combine_app.errors import BadRequest, Unauthorized, UnsupportedMediaType, ValidationFailed
from combine_app.extensions import csrf
from combine_app.portable_json import (
    MAX_JSON_DEPTH,
    NotPortable,
    TooDeep,
    read_json,
    text_problems,
)

api = ApiBlueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(api)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_CHALLENGE = 'Bearer realm="combine"'


@api.before_request
def authenticate() -> None:
    """Accept a bearer token, or a signed-in browser session (with CSRF on unsafe methods)."""
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, value = header.partition(" ")
        value = value.strip()
        if scheme.lower() != "bearer" or not value:
            raise Unauthorized(
                "Send 'Authorization: Bearer <token>'.", headers={"WWW-Authenticate": _CHALLENGE}
            )
        view = current_app.view_functions.get(request.endpoint)
        if getattr(view, "reads_caller", False):  # its one statement reads the token too
            g.token_hash = hash_token(value)
            return
        user = user_for_token(value)
        if user is None:
            refuse_token()
        g.user = user
        return
    if current_user.is_authenticated:
        if request.method not in SAFE_METHODS:
            csrf.protect()
        g.user = current_user._get_current_object()
        return
    raise Unauthorized(
        "Authentication required: send a bearer token or sign in.",
        headers={"WWW-Authenticate": _CHALLENGE},
    )


def refuse_token() -> NoReturn:
    """Answer 401 for a bearer token that names no one (429 once its address failed often).

    Only here, after a token matched nothing, is the failed-sign-in table read and written:
    a valid bearer call never pays for the throttle.
    """
    with transaction():  # the failure is kept although the request is refused
        throttle.count_bad_token(request.remote_addr)
    raise Unauthorized(
        "The API token is not valid.",
        headers={"WWW-Authenticate": _CHALLENGE + ', error="invalid_token"'},
    )


def json_body() -> dict:
    """The request body as a JSON object: 415 if not JSON, 400 if unreadable, 422 if no object.

    Read as I-JSON by ``combine_app.portable_json``, the reader every door shares. Nesting past
    MAX_JSON_DEPTH is 400: the reader stops there. NaN and Infinity (which Python's reader
    accepts), a duplicate key, a number beyond a double and an integer beyond 2^53 - 1 in size
    are 422, like any value the rules refuse: never "last one wins", never a silently rounded or
    unstorable value.
    """
    if not request.is_json:
        raise UnsupportedMediaType("Send the body as application/json.")
    raw = request.get_data(cache=True)
    try:
        data = read_json(raw.decode("utf-8"))
    except NotPortable as error:
        raise ValidationFailed(str(error), {"": [str(error)]}) from None
    except UnicodeDecodeError as error:
        raise BadRequest(f"The body is not valid UTF-8 (byte {error.start}).") from None
    except TooDeep:
        raise BadRequest(_TOO_DEEP) from None
    except ValueError as error:
        raise BadRequest(f"The body is not valid JSON: {error}.") from None
    if not isinstance(data, dict):
        raise ValidationFailed("The body must be a JSON object.", {"": ["Expected an object."]})
    errors = text_problems(data)
    if errors:
        raise ValidationFailed("The body holds text that cannot be stored; see errors.", errors)
    return data


_TOO_DEEP = f"The body is nested too deeply to read (the limit is {MAX_JSON_DEPTH} levels)."


from combine_app.api import deviations, members, openapi, projects, revisions, workbench, workflow  # noqa: E402,F401  (routes register on import)
