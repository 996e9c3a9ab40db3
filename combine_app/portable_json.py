"""What JSON Combine takes in: I-JSON (RFC 7493) text and values every reader and store keep.

One reader and one set of value rules for every door (API bodies, the editor's JSON fields,
definitions from the config folder): numbers within ±(2^53 - 1) and finite, no duplicate keys,
nesting within MAX_JSON_DEPTH, and text without NUL or unpaired surrogates (PostgreSQL stores
neither, and a surrogate alone is not Unicode text). No Flask, no database: pure functions.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from typing import Any

# Far deeper than any POW (16 levels of steps is about 35 levels of JSON), far below the depth
# at which Python's parser or encoder would run out of stack (and answer 500, or only by luck 400).
MAX_JSON_DEPTH = 100
# Integers that every client can hold exactly (RFC 7493, I-JSON): a browser editing a
# definition with a larger one would silently send back another number.
MAX_SAFE_INTEGER = 2**53 - 1
# Longer digit strings are refused before int() sees them: converting a 100,000-digit string
# costs quadratic time, and past 4,300 digits Python raises ValueError instead.
_MAX_INT_DIGITS = 20

TOO_DEEP = f"nested too deeply to read (the limit is {MAX_JSON_DEPTH} levels)"


class NotPortable(ValueError):
    """A value that not every JSON reader takes the same way, or that cannot be stored."""


class TooDeep(ValueError):
    """Text nested past MAX_JSON_DEPTH (or past the stack): the reader stops there."""


def _refuse_constant(name: str) -> float:
    raise NotPortable(f"{name} is not a JSON number.")


def _finite_float(text: str) -> float:
    value = float(text)
    problem = number_problem(value, text)
    if problem:
        raise NotPortable(problem)
    return value + 0.0  # -0.0 + 0.0 is 0.0: jsonb would store -0.0 as 0 anyway


def _safe_int(text: str) -> int:
    value = int(text) if len(text.lstrip("-")) <= _MAX_INT_DIGITS else None
    if value is None or abs(value) > MAX_SAFE_INTEGER:
        raise NotPortable(_integer_message(text))
    return value


def _unique_keys(pairs: list[tuple[str, object]]) -> dict:
    data = dict(pairs)
    if len(data) != len(pairs):
        seen: set[str] = set()
        duplicate = next(key for key, _ in pairs if key in seen or seen.add(key))
        raise NotPortable(f"The key {duplicate[:100]!r} appears twice in one object.")
    return data


def read_json(text: str, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Parse I-JSON text.

    Raises NotPortable for a value the rules refuse (NaN, Infinity, a duplicate key, a number
    beyond a double or an integer beyond 2^53 - 1 in size), TooDeep past ``max_depth`` levels,
    and json.JSONDecodeError for text that is not JSON at all. Text rules (NUL, surrogates) are
    checked separately by ``text_problems``, so that the caller can name where they are.
    """
    try:
        data = json.loads(
            text,
            parse_constant=_refuse_constant,
            parse_float=_finite_float,
            parse_int=_safe_int,
            object_pairs_hook=_unique_keys,
        )
    except RecursionError:
        raise TooDeep(TOO_DEEP) from None
    if isinstance(data, dict | list) and depth_exceeds(data, max_depth):
        raise TooDeep(TOO_DEEP)
    return data


def depth_exceeds(data: object, limit: int) -> bool:
    """Whether containers nest more than ``limit`` levels; iterative, so any depth is safe."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > limit:
            return True
        children = value.values() if isinstance(value, dict) else value
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def _integer_message(text: str) -> str:
    digits = len(text.lstrip("-"))
    shown = text if digits <= 40 else f"{text[:20]}...({digits} digits)"
    return f"The integer {shown} is beyond 2^53 - 1 in size; send it as a string."


def number_problem(value: int | float, text: str | None = None) -> str | None:
    """Why a number cannot be taken as it is, or None when every reader keeps it exactly."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        if abs(value) <= MAX_SAFE_INTEGER:
            return None
        if value.bit_length() <= 14_000:  # about 4,200 digits; str() raises past 4,300
            return _integer_message(str(value))
        return "The integer is beyond 2^53 - 1 in size (thousands of digits); send it as a string."
    if not math.isfinite(value):
        if text is None:  # NaN or an infinity that came as a value (YAML's .nan), not as text
            return f"{value} is not a JSON number."
        return f"The number {text[:40]} is too large for a double."
    shown = (text or repr(value))[:40]
    # PostgreSQL's jsonb keeps numbers as decimals: 1e22 comes back as the integer
    # 10000000000000000000000 and 1e16 as 10000000000000000 (both beyond 2^53), so such a value
    # would not survive a GET and PUT unchanged.
    if abs(value) > MAX_SAFE_INTEGER:
        return f"The number {shown} is beyond 2^53 - 1 in size; send it as a string."
    return None


def text_problem(text: str) -> str | None:
    """Why a string cannot be stored, or None."""
    if "\x00" in text:
        return "contains a NUL character (\\u0000), which cannot be stored"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "contains an unpaired surrogate (\\ud800-\\udfff), which is not Unicode text"
    return None


_MAX_TEXT_ERRORS = 20


def pointer_token(key: str) -> str:
    """Escape a mapping key for use in a JSON pointer (RFC 6901)."""
    return key.replace("~", "~0").replace("/", "~1")


def pointer_messages(messages: dict | list, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested error messages of a body, keyed by JSON pointer into the body.

    ``{"intake_document": {"project_name": [...]}}`` becomes ``/intake_document/project_name``;
    list positions become pointer tokens; a schema's own ``_schema`` errors belong to the object
    itself (``""`` for the whole body).
    """
    flat: dict[str, list[str]] = {}
    if not isinstance(messages, dict):
        flat[prefix] = [str(message) for message in messages]
        return flat
    for name, inner in messages.items():
        pointer = prefix if name == "_schema" else f"{prefix}/{pointer_token(str(name))}"
        for key, found in pointer_messages(inner, pointer).items():
            flat.setdefault(key, []).extend(found)
    return flat


def value_problems(
    data: object, *, max_depth: int | None = None, max_values: int | None = None
) -> Iterator[tuple[str, str]]:
    """Every way ``data`` is not portable JSON data, as (JSON pointer, message): the one walk of
    JSON values. Text or keys with NUL or an unpaired surrogate, keys that are not text, numbers
    past the safe range, values that are not JSON; nesting past ``max_depth`` and more than
    ``max_values`` values when those are given (the walk stops at the latter)."""
    stack: list[tuple[str, object, int]] = [("", data, 1)]
    seen = 0
    while stack:
        pointer, value, depth = stack.pop()
        seen += 1
        if max_values is not None and seen > max_values:
            yield "", f"more than {max_values:,} values; a POW cannot be this large"
            return
        if isinstance(value, Mapping | list) and max_depth is not None and depth > max_depth:
            yield pointer, f"nested more than {max_depth} levels deep; a POW cannot be this deep"
        elif isinstance(value, Mapping):
            for key, child in value.items():
                if not isinstance(key, str):
                    yield pointer, f"keys must be strings, found {key!r:.60}"
                    continue
                child_pointer = f"{pointer}/{pointer_token(key)}"
                problem = text_problem(key)
                if problem:
                    yield child_pointer, f"The key {problem}."
                stack.append((child_pointer, child, depth + 1))
        elif isinstance(value, list):
            stack.extend(
                (f"{pointer}/{index}", child, depth + 1) for index, child in enumerate(value)
            )
        elif isinstance(value, str):
            problem = text_problem(value)
            if problem:
                yield pointer, f"The text {problem}."
        elif isinstance(value, int | float):
            problem = number_problem(value)
            if problem:
                yield pointer, problem
        elif value is not None:
            yield pointer, f"a {type(value).__name__} is not JSON data"


def text_problems(data: object) -> dict[str, list[str]]:
    """JSON pointers of strings (keys included) holding NUL or an unpaired surrogate: in data
    read by ``read_json`` (numbers and depth already held to the rules), all that can be wrong."""
    errors: dict[str, list[str]] = {}
    for pointer, message in value_problems(data):
        if len(errors) >= _MAX_TEXT_ERRORS:
            break
        errors.setdefault(pointer, []).append(message)
    return errors


def compact_size(data: object) -> int:
    """Bytes of ``data`` as compact UTF-8 JSON: what a client must send back to keep it."""
    return len(json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
