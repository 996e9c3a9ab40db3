"""Security headers on every response: CSP, frame protection, no sniffing, referrer, caching.

A few lines of ``after_request`` rather than Flask-Talisman: Combine needs a fixed policy and
no per-view switches, and the one conditional header (HSTS) depends on a setting. A response
that already carries a Content-Security-Policy keeps its own (a page that needs another one
says so itself).
"""

from __future__ import annotations

from flask import Flask, Response, current_app, request, session

# No inline script anywhere (the pages load workflow.js from static), no inline style, no
# plugins, no framing, forms post only here.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)


def register_security_headers(app: Flask) -> None:
    """Add ``set_security_headers`` to every response the app sends, errors included."""
    app.after_request(set_security_headers)


def _private(path: str) -> bool:
    """Responses that may carry someone's data: the whole API and every signed-in page."""
    if path.startswith("/api/"):
        return True
    return not path.startswith("/static/") and "_user_id" in session


def set_security_headers(response: Response) -> Response:
    """Set the headers; see the module docstring."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers["X-Frame-Options"] = "DENY"
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "same-origin"
    if _private(request.path):
        headers["Cache-Control"] = "no-store"
    max_age = current_app.config.get("HSTS_SECONDS") or 0
    if max_age and request.is_secure:
        headers["Strict-Transport-Security"] = f"max-age={max_age}; includeSubDomains"
    return response
