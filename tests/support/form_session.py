"""A browser-like session against a served app: cookies kept, forms posted, no JavaScript."""

from __future__ import annotations

import http.client
import re
from email.message import Message
from http.cookies import SimpleCookie
from urllib.parse import urlencode


class FormSession:
    """One browser: its own cookie jar, signing in and posting forms through the real pages."""

    def __init__(self, port: int, *, forwarded_for: str | None = None, timeout: float = 60):
        self.port = port
        self.timeout = timeout
        self.cookies: dict[str, str] = {}
        # The client address a trusted proxy reports (the app must run with COMBINE_PROXY_HOPS).
        self.forwarded_for = forwarded_for

    def request(
        self, method: str, path: str, form: dict | None = None, headers: dict | None = None
    ) -> tuple[int, Message, str]:
        """Send one request with the jar's cookies; keep the cookies it sets; no redirects."""
        sent = dict(headers or {})
        if self.forwarded_for:
            sent["X-Forwarded-For"] = self.forwarded_for
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form).encode()
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        try:
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            text = response.read().decode(errors="replace")
        finally:
            connection.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                if morsel.value and morsel["max-age"] != "0" and "1970" not in morsel["expires"]:
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)
        return response.status, response.headers, text

    def csrf_token(self, path: str = "/login") -> str:
        """The CSRF token the page at ``path`` carries for this session."""
        _, _, page = self.request("GET", path)
        match = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def sign_in(self, username: str, password: str) -> int:
        """Post the sign-in form; the status (302 when signed in)."""
        token = self.csrf_token("/login")
        status, _, _ = self.request(
            "POST", "/login", {"username": username, "password": password, "csrf_token": token}
        )
        return status

    def post_form(self, path: str, fields: dict, *, page: str = "/projects"):
        """Post a form as the page at ``page`` would, with its CSRF token."""
        token = self.csrf_token(page)
        return self.request("POST", path, {**fields, "csrf_token": token})
