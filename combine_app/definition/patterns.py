"""The shapes of a definition's names and versions, and its size limits: one of each.

Every door (the config loader, ``config check``, the API's schemas, intake, the editor) takes
its identifier and version rules from here, so ``01.0.0`` is refused by all of them alike.
"""

from __future__ import annotations

import re

# A step_id, workflow_id, document or entity type: lowercase snake_case.
IDENTIFIER_PATTERN = r"[a-z][a-z0-9_]*"
# MAJOR.MINOR.PATCH, each a number without a leading zero (so each version has one spelling).
SEMVER_PATTERN = r"(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})"

IDENTIFIER = re.compile(IDENTIFIER_PATTERN)
SEMVER = re.compile(SEMVER_PATTERN)

IDENTIFIER_WORDS = (
    "must start with a lowercase letter and hold only lowercase letters, digits and underscores"
)
SEMVER_WORDS = "Must be a version like 1.0.0 (MAJOR.MINOR.PATCH, no leading zeros)."

MAX_ID_LENGTH = 100
MAX_STEPS = 10_000
MAX_DEPTH = 16


def is_identifier(value: object) -> bool:
    """Whether ``value`` is a non-empty snake_case identifier within MAX_ID_LENGTH."""
    return (
        isinstance(value, str)
        and 0 < len(value) <= MAX_ID_LENGTH
        and IDENTIFIER.fullmatch(value) is not None
    )
