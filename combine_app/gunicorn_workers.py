"""gunicorn workers whose own refusals are problem+json, like every other error Combine sends.

gunicorn answers a request it cannot parse (a request line or headers over its limits, a
malformed line) before the app sees it, with a ``text/html`` page. These workers answer the
same statuses as RFC 9457 problem details instead; any other error is gunicorn's as before.
``gunicorn.conf.py`` picks the sync or the threaded one from the ``threads`` setting.
"""

from __future__ import annotations

import json
from http import HTTPStatus

from gunicorn import util
from gunicorn.http import errors
from gunicorn.workers.gthread import ThreadWorker
from gunicorn.workers.sync import SyncWorker

# gunicorn's refusals of a request it could not read, with the status each answers.
REFUSALS: dict[type[Exception], HTTPStatus] = {
    errors.LimitRequestLine: HTTPStatus.REQUEST_URI_TOO_LONG,
    errors.LimitRequestHeaders: HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE,
    errors.InvalidRequestLine: HTTPStatus.BAD_REQUEST,
    errors.InvalidRequestMethod: HTTPStatus.BAD_REQUEST,
    errors.InvalidHTTPVersion: HTTPStatus.BAD_REQUEST,
    errors.InvalidHeader: HTTPStatus.BAD_REQUEST,
    errors.InvalidHeaderName: HTTPStatus.BAD_REQUEST,
}


def refusal(exc: Exception, limit_request_line: int) -> bytes | None:
    """The whole HTTP response refusing ``exc``, or None when it is not one of REFUSALS."""
    status = next((s for kind, s in REFUSALS.items() if isinstance(exc, kind)), None)
    if status is None:
        return None
    if status is HTTPStatus.REQUEST_URI_TOO_LONG:
        detail = f"The request line is longer than {limit_request_line:,} bytes."
    elif status is HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE:
        detail = "The request's headers are too many or too large."
    else:
        detail = "The request could not be read as HTTP/1.1."
    body = json.dumps(
        {"type": "about:blank", "title": status.phrase, "status": int(status), "detail": detail}
    ).encode()
    head = (
        f"HTTP/1.1 {int(status)} {status.phrase}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/problem+json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("latin-1") + body


class ProblemRefusals:
    """Mixin for a gunicorn worker: REFUSALS answered as problem+json, then logged."""

    def handle_error(self, req, client, addr, exc):
        response = refusal(exc, self.cfg.limit_request_line)
        if response is None:
            super().handle_error(req, client, addr, exc)
            return
        self.log.warning("Invalid request from ip=%s: %s", (addr or ("",))[0], exc)
        try:
            util.write_nonblock(client, response)
        except OSError:
            self.log.debug("Failed to send the refusal.")


class ProblemSyncWorker(ProblemRefusals, SyncWorker):
    """gunicorn's sync worker (one request at a time) with problem+json refusals."""


class ProblemThreadWorker(ProblemRefusals, ThreadWorker):
    """gunicorn's threaded worker with problem+json refusals."""
