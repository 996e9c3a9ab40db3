"""A browser-like session against a served app: cookies kept, forms posted, no JavaScript."""

from __future__ import annotations

import http.client
import re
import secrets
from email.message import Message
from html.parser import HTMLParser
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
        self,
        method: str,
        path: str,
        form: dict | None = None,
        headers: dict | None = None,
        body: bytes | None = None,
    ) -> tuple[int, Message, str]:
        """Send one request with the jar's cookies; keep the cookies it sets; no redirects.

        ``form`` goes URL-encoded; ``body`` goes as it is (its Content-Type in ``headers``).
        """
        sent = dict(headers or {})
        if self.forwarded_for:
            sent["X-Forwarded-For"] = self.forwarded_for
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
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


class FormReader(HTMLParser):
    """Collects what a browser without JavaScript would submit from one form (no button)."""

    def __init__(self, form_id: str):
        super().__init__()
        self.form_id = form_id
        self.inside = False
        self.fields: dict[str, str] = {}
        self._textarea: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = attrs.get("id") == self.form_id
        if not self.inside or "name" not in attrs and tag != "option":
            return
        if tag == "input":
            kind = attrs.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in attrs:
                return
            if kind not in ("submit", "button"):
                self.fields[attrs["name"]] = attrs.get("value", "")
        elif tag == "textarea":
            self._textarea = attrs["name"]
            self.fields[self._textarea] = ""
        elif tag == "select":
            self._select = attrs["name"]
        elif (
            tag == "option"
            and self._select
            and ("selected" in attrs or self._select not in self.fields)
        ):
            self.fields[self._select] = attrs.get("value", "")

    def handle_data(self, data):
        if self._textarea:
            self.fields[self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None
        elif tag == "form":
            self.inside = False


def form_fields(page: str, form_id: str = "workflow-editor") -> dict[str, str]:
    """The fields of a form as a browser would post them (textarea text keeps its escapes out)."""
    reader = FormReader(form_id)
    reader.feed(page)
    # A textarea's first newline is dropped by browsers; HTMLParser already unescapes entities.
    return {name: value.removeprefix("\n") for name, value in reader.fields.items()}


def multipart_body(fields: list[tuple[str, str]]) -> tuple[bytes, str]:
    """A multipart/form-data body of text fields as a browser encodes an ``enctype`` form
    (line breaks as CRLF, quotes and line breaks in names percent-encoded); returns the body
    and its Content-Type."""
    boundary = f"----CombineFormBoundary{secrets.token_hex(8)}"
    parts = []
    for name, value in fields:
        name = _crlf(name).replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
        parts.append(head.encode() + _crlf(value).encode() + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def _crlf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n")
