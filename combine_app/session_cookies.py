"""Flask's signed-cookie sessions, minus the work for requests that cannot use one.

A bearer-token call to the JSON API never reads the browser session (``authenticate`` asks
the token first and ignores any cookie), and a request without a session cookie has nothing to
unsign. Both get a fresh empty session without building the cookie serializer; should a
request fill it (a sign-in page adds its CSRF token), it is signed and sent as usual.
"""

from __future__ import annotations

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface

API_PREFIX = "/api/"


class LeanSessionInterface(SecureCookieSessionInterface):
    """Signed-cookie sessions that skip unsigning where there is nothing to read."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        """An empty session for bearer API calls and cookie-less requests; else Flask's."""
        bearer = request.path.startswith(API_PREFIX) and "Authorization" in request.headers
        if bearer or self.get_cookie_name(app) not in request.cookies:
            return self.session_class()
        return super().open_session(app, request)
