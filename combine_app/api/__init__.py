"""The JSON API blueprint under ``/api/v1``: who is asking, and how bodies are read.

Routes are declared on ``api`` with flask-smorest's decorators; see ``declare.py``.
"""

from __future__ import annotations

import json
import math
from typing import NoReturn

from flask import current_app, g, request
from flask_login import current_user

from combine_app.api.declare import ApiBlueprint
from combine_app.auth.models import hash_token
from combine_app.auth.service import user_for_token
from combine_app.errors import BadRequest, Unauthorized, UnsupportedMediaType, ValidationFailed
from combine_app.extensions import csrf

api = ApiBlueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(api)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_CHALLENGE = 'Bearer realm="combine"'
# Far deeper than any POW (16 levels of steps is about 35 levels of JSON), far below the depth
# at which Python's parser or encoder would run out of stack (and answer 500, or only by luck 400).
MAX_JSON_DEPTH = 100
# Integers that every client can hold exactly (RFC 7493, I-JSON): a browser editing a
# definition with a larger one would silently send back another number.
MAX_SAFE_INTEGER = 2**53 - 1


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
    """Answer 401 for a bearer token that names no one."""
    raise Unauthorized(
        "The API token is not valid.",
        headers={"WWW-Authenticate": _CHALLENGE + ', error="invalid_token"'},
    )


class _NotPortable(Exception):
    """A value that not every JSON reader takes the same way (RFC 7493): refused with 422."""


def _refuse_constant(name: str) -> float:
    raise _NotPortable(f"{name} is not a JSON number.")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _NotPortable(f"The number {text[:40]} is too large for a double.")
    # PostgreSQL's jsonb keeps numbers as decimals: 1e22 comes back as the integer
    # 10000000000000000000000 (which this reader then refuses) and -0.0 as 0.0, so such a
    # value would not survive a GET and PUT unchanged. Refuse the one, normalise the other.
    if abs(value) > MAX_SAFE_INTEGER:
        raise _NotPortable(
            f"The number {text[:40]} is beyond 2^53 - 1 in size; send it as a string."
        )
    return value + 0.0  # -0.0 + 0.0 is 0.0


def _safe_int(text: str) -> int:
    # Checked by length first: converting a 100,000-digit string would cost quadratic time.
    value = int(text) if len(text) <= 20 else None
    if value is None or abs(value) > MAX_SAFE_INTEGER:
        shown = text if len(text) <= 40 else f"{text[:20]}...({len(text)} digits)"
        raise _NotPortable(f"The integer {shown} is beyond 2^53 - 1 in size; send it as a string.")
    return value


def _unique_keys(pairs: list[tuple[str, object]]) -> dict:
    data = dict(pairs)
    if len(data) != len(pairs):
        seen: set[str] = set()
        duplicate = next(key for key, _ in pairs if key in seen or seen.add(key))
        raise _NotPortable(f"The key {duplicate[:100]!r} appears twice in one object.")
    return data


def _deeper_than(data: object, limit: int) -> bool:
    """Whether containers nest more than ``limit`` levels; iterative, so any depth is safe."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > limit:
            return True
        children = value.values() if isinstance(value, dict) else value
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


_TOO_DEEP = f"The body is nested too deeply to read (the limit is {MAX_JSON_DEPTH} levels)."


def json_body() -> dict:
    """The request body as a JSON object: 415 if not JSON, 400 if unreadable, 422 if no object.

    Read as I-JSON (RFC 7493). Nesting past MAX_JSON_DEPTH is 400: the reader stops there.
    NaN and Infinity (which Python's reader accepts), a duplicate key, a number beyond a double
    and an integer beyond 2^53 - 1 in size are 422, like any value the rules refuse: never "last
    one wins", never a silently rounded or unstorable value.
    """
    if not request.is_json:
        raise UnsupportedMediaType("Send the body as application/json.")
    raw = request.get_data(cache=True)
    try:
        data = json.loads(
            raw.decode("utf-8"),
            parse_constant=_refuse_constant,
            parse_float=_finite_float,
            parse_int=_safe_int,
            object_pairs_hook=_unique_keys,
        )
    except _NotPortable as error:
        raise ValidationFailed(str(error), {"": [str(error)]}) from None
    except UnicodeDecodeError as error:
        raise BadRequest(f"The body is not valid UTF-8 (byte {error.start}).") from None
    except RecursionError:
        raise BadRequest(_TOO_DEEP) from None
    except ValueError as error:
        raise BadRequest(f"The body is not valid JSON: {error}.") from None
    if isinstance(data, dict | list) and _deeper_than(data, MAX_JSON_DEPTH):
        raise BadRequest(_TOO_DEEP)
    if not isinstance(data, dict):
        raise ValidationFailed("The body must be a JSON object.", {"": ["Expected an object."]})
    errors = unstorable_text(data)
    if errors:
        raise ValidationFailed("The body holds text that cannot be stored; see errors.", errors)
    return data


_MAX_TEXT_ERRORS = 20


def unstorable_text(data: object) -> dict[str, list[str]]:
    """JSON pointers of strings (keys included) holding NUL or an unpaired surrogate.

    Both are legal JSON escapes, but PostgreSQL stores neither (and the database would answer
    500), and an unpaired surrogate is not Unicode text at all.
    """
    errors: dict[str, list[str]] = {}
    stack: list[tuple[str, object]] = [("", data)]
    while stack and len(errors) < _MAX_TEXT_ERRORS:
        pointer, value = stack.pop()
        if isinstance(value, dict):
            for name, child in value.items():
                child_pointer = f"{pointer}/{name.replace('~', '~0').replace('/', '~1')}"
                problem = _text_problem(name)
                if problem:
                    errors.setdefault(child_pointer, []).append(f"The key {problem}.")
                stack.append((child_pointer, child))
        elif isinstance(value, list):
            stack.extend((f"{pointer}/{index}", child) for index, child in enumerate(value))
        elif isinstance(value, str):
            problem = _text_problem(value)
            if problem:
                errors.setdefault(pointer, []).append(f"The text {problem}.")
    return errors


def _text_problem(text: str) -> str | None:
    if "\x00" in text:
        return "contains a NUL character (\\u0000), which cannot be stored"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "contains an unpaired surrogate (\\ud800-\\udfff), which is not Unicode text"
    return None


from combine_app.api import deviations, openapi, projects, revisions, workbench, workflow  # noqa: E402,F401  (routes register on import)
