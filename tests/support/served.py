"""Serving the app for real: ``flask --app wsgi`` commands, gunicorn on loopback, HTTP calls."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from email.message import Message
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
# gunicorn.conf.py's graceful_timeout is 20 s: a TERMed arbiter should be gone well before this.
STOP_SECONDS = 25


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def flask_command(
    env: Mapping[str, str], *args: str, stdin: str | None = None, timeout: float = 120
) -> subprocess.CompletedProcess:
    """Run ``flask --app wsgi ARGS`` as the operator would; return the finished process."""
    return subprocess.run(
        [str(BIN / "flask"), "--app", "wsgi", *args],
        cwd=REPO_ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def run_flask(
    env: Mapping[str, str], *args: str, stdin: str | None = None, timeout: float = 120
) -> str:
    """Run ``flask --app wsgi ARGS``; return its stdout, or raise when it fails."""
    result = flask_command(env, *args, stdin=stdin, timeout=timeout)
    if result.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def call(
    port: int,
    method: str,
    path: str,
    *,
    token: str | None = None,
    body: Any = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 30,
) -> tuple[int, Message, Any]:
    """Send one request on a fresh loopback connection; return (status, headers, parsed body)."""
    # http.client, not urllib: no redirects followed, no proxy settings, no raise on 4xx/5xx.
    # A bytes body goes as is, anything else as JSON; a JSON answer is parsed, others are text.
    request_headers = dict(headers or {})
    if token is not None:
        request_headers["Authorization"] = f"Bearer {token}"
    payload = None
    if body is not None:
        payload = body if isinstance(body, bytes) else json.dumps(body).encode()
        request_headers.setdefault("Content-Type", "application/json")
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(method, path, body=payload, headers=request_headers)
        response = connection.getresponse()
        raw = response.read()
    finally:
        connection.close()
    if raw and "json" in response.headers.get("Content-Type", ""):
        return response.status, response.headers, json.loads(raw)
    return response.status, response.headers, raw.decode(errors="replace")


class Gunicorn:
    """A gunicorn arbiter started with gunicorn.conf.py on a free loopback port."""

    def __init__(
        self, env: Mapping[str, str], log_path: Path, *, workers: int = 2, app: str = "wsgi:app"
    ):
        self.app = app
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        with log_path.open("wb") as log:
            # Its own session, so stop() can KILL the workers along with the arbiter.
            self.process = subprocess.Popen(
                [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", app],
                cwd=REPO_ROOT,
                env={
                    **env,
                    "GUNICORN_BIND": f"127.0.0.1:{self.port}",
                    "WEB_CONCURRENCY": str(workers),
                },
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_until_healthy(self, timeout: float = 60) -> None:
        """Poll /healthz until it answers 200; raise with the log if gunicorn exits or stalls."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"gunicorn {self.app} exited with {self.process.returncode}:\n{self.log()}"
                )
            with contextlib.suppress(OSError, http.client.HTTPException):
                if call(self.port, "GET", "/healthz", timeout=2)[0] == 200:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn {self.app} gave no /healthz in {timeout} s:\n{self.log()}")

    def log(self) -> str:
        """Everything gunicorn and the app wrote so far."""
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        """TERM the arbiter (graceful); KILL its whole process group if it lingers."""
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)


@contextlib.contextmanager
def start_gunicorn(
    env: Mapping[str, str], log_path: Path, *, workers: int = 2, startup_seconds: float = 60
) -> Iterator[Gunicorn]:
    """gunicorn serving ``wsgi:app``, answering /healthz; stopped on exit whatever happens."""
    server = Gunicorn(env, log_path, workers=workers)
    try:
        server.wait_until_healthy(startup_seconds)
        yield server
    finally:
        server.stop()
