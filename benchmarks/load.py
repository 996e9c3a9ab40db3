"""Loading one endpoint of a gunicorn server with wrk, and what it cost the server.

wrk runs in its own process (1 thread, C, event-driven), so on a small machine the servers get
the CPU; a Lua script sets the headers, makes every PUT body unique, and its ``done()`` hook
prints exact p50/p99 and error counts as one JSON line, so nothing is scraped from wrk's text.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.served import Gunicorn

# A marker in a body template that each request replaces with a fresh tag: it must be text no
# definition holds, so the split below finds exactly one place.
UNIQUE = "@@bench-unique@@"
_runs = itertools.count(1)


@dataclass
class Endpoint:
    """One thing to load: a method and path, headers, and maybe a body.

    ``body`` may contain UNIQUE once; every request then sends it with a tag no request of any
    run sent before, so every PUT really changes the definition.
    """

    label: str
    method: str
    path: str
    headers: dict = field(default_factory=dict)
    body: str | None = None

    def body_for(self, tag: str) -> str | None:
        """The body with its UNIQUE marker (if any) replaced by ``tag``."""
        return None if self.body is None else self.body.replace(UNIQUE, tag)


@dataclass
class Result:
    """What wrk measured for one endpoint, and the server CPU it cost."""

    label: str
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: int
    cpu_seconds: float | None = None
    worker_restarts: int = 0

    @property
    def rps(self) -> float:
        """Completed requests per second."""
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def errors(self) -> int:
        """Requests that did not succeed: non-2xx answers and socket errors."""
        return self.non_2xx + self.socket_errors

    @property
    def cpu_ms_per_request(self) -> float | None:
        """CPU time the server's processes spent per completed request (waiting excluded)."""
        if self.cpu_seconds is None or not self.requests:
            return None
        return self.cpu_seconds / self.requests * 1000


class Server(Gunicorn):
    """A gunicorn arbiter serving ``app_spec`` with gunicorn.conf.py, and what it costs."""

    def __init__(self, name: str, app_spec: str, env: dict, workers: int, log_dir: Path):
        super().__init__(env, log_dir / f"{name}.log", workers=workers, app=app_spec)
        self.name = name

    def cpu_seconds(self) -> float | None:
        """CPU time used so far by the arbiter and its workers, exited workers included (Linux).

        Unlike throughput, this hardly depends on what else the machine is running.
        """
        try:
            ticks = os.sysconf("SC_CLK_TCK")
            arbiter = _proc_stat(self.process.pid)
            total = sum(int(arbiter[i]) for i in (11, 12, 13, 14))  # utime stime cutime cstime
            for stat_file in Path("/proc").glob("[0-9]*/stat"):
                with contextlib.suppress(OSError, IndexError, ValueError):
                    fields = _proc_stat(int(stat_file.parent.name))
                    if int(fields[1]) == self.process.pid:  # a live worker
                        total += int(fields[11]) + int(fields[12])
        except (OSError, ValueError, IndexError):
            return None
        return total / ticks

    def worker_restarts(self) -> int:
        """How many times a worker has retired itself so far (gunicorn's ``max_requests``)."""
        return self.log().count("Autorestarting worker")


def _proc_stat(pid: int) -> list[str]:
    """Fields of /proc/<pid>/stat after the command name: [0] state, [1] ppid, [11] utime..."""
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2 :].split()


def _lua_string(text: str) -> str:
    """``text`` as a Lua long-bracket literal whose level does not occur inside it."""
    level = 0
    while f"]{'=' * level}]" in text:
        level += 1
    return f"[{'=' * level}[{text}]{'=' * level}]"


WRK_DONE = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRK_JSON {\\"requests\\": %d, \\"duration_us\\": %d, \\"p50_us\\": %.1f, " ..
    "\\"p99_us\\": %.1f, \\"connect\\": %d, \\"read\\": %d, \\"write\\": %d, " ..
    "\\"status\\": %d, \\"timeout\\": %d}\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect, e.read, e.write, e.status, e.timeout))
end
"""


def wrk_script(endpoint: Endpoint, run_tag: str) -> str:
    """The Lua script that makes wrk send ``endpoint`` and report as JSON.

    A body with the UNIQUE marker goes out as head .. run_tag-N .. tail, N counting requests.
    """
    headers = ", ".join(
        f"[ {_lua_string(name)} ] = {_lua_string(value)}"  # spaces: "[[[" opens a long string
        for name, value in endpoint.headers.items()
    )
    head, tail = "", ""
    if endpoint.body is not None:
        head, marker, tail = endpoint.body.partition(UNIQUE)
        if marker and UNIQUE in tail:
            raise ValueError(f"{endpoint.label}: the body holds the unique marker twice")
        if not marker:
            head, tail = endpoint.body, None
    lines = [
        f"local method = {_lua_string(endpoint.method)}",
        f"local path = {_lua_string(endpoint.path)}",
        f"local headers = {{{headers}}}",
        f"local has_body = {'true' if endpoint.body is not None else 'false'}",
        f"local head = {_lua_string(head)}",
        f"local tail = {'nil' if tail is None else _lua_string(tail)}",
        f"local tag = {_lua_string(run_tag)}",
        "local sent = 0",
        "request = function()",
        "  sent = sent + 1",
        "  local body = nil",
        "  if has_body then",
        "    if tail then body = head .. tag .. '-' .. sent .. tail else body = head end",
        "  end",
        "  return wrk.format(method, path, headers, body)",
        "end",
    ]
    return "\n".join(lines) + WRK_DONE


def run_wrk(
    server: Server, endpoint: Endpoint, seconds: float, connections: int, workdir: Path
) -> Result:
    """Load ``endpoint`` for ``seconds`` with wrk in its own process; parse its JSON line."""
    run = next(_runs)
    script = workdir / f"run{run}.lua"
    script.write_text(wrk_script(endpoint, f"run{run}-{os.getpid()}"))
    command = [
        "wrk",
        "--threads",
        "1",
        "--connections",
        str(connections),
        "--duration",
        f"{seconds:g}s",
        "--timeout",
        "10s",
        "--script",
        str(script),
        server.base_url + endpoint.path,
    ]
    output = subprocess.run(
        command, capture_output=True, text=True, timeout=seconds + 60, check=False
    )
    line = next((ln for ln in output.stdout.splitlines() if ln.startswith("WRK_JSON ")), None)
    if output.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed on {endpoint.label}:\n{output.stdout}\n{output.stderr}")
    data = json.loads(line.removeprefix("WRK_JSON "))
    return Result(
        label=endpoint.label,
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        non_2xx=data["status"],
        socket_errors=data["connect"] + data["read"] + data["write"] + data["timeout"],
    )


def combine(rounds: list[Result]) -> Result:
    """Several rounds of one endpoint as one result.

    Counts and times add up; p50 is the request-weighted mean of the rounds' p50 and p99 the
    highest round's (wrk reports percentiles, not the latencies to merge exactly).
    """
    if len(rounds) == 1:
        return rounds[0]
    requests = sum(r.requests for r in rounds)
    cpus = [r.cpu_seconds for r in rounds]
    return Result(
        label=rounds[0].label,
        requests=requests,
        seconds=sum(r.seconds for r in rounds),
        p50_ms=sum(r.p50_ms * r.requests for r in rounds) / requests if requests else 0.0,
        p99_ms=max(r.p99_ms for r in rounds),
        non_2xx=sum(r.non_2xx for r in rounds),
        socket_errors=sum(r.socket_errors for r in rounds),
        cpu_seconds=None if None in cpus else sum(cpus),
        worker_restarts=sum(r.worker_restarts for r in rounds),
    )


def measure(
    server: Server,
    endpoint: Endpoint,
    seconds: float,
    warmup: float,
    connections: int,
    workdir: Path,
) -> Result:
    """A short unmeasured warm-up (worker imports, pools, caches), then the measured run."""
    if warmup:
        run_wrk(server, endpoint, warmup, connections, workdir)
    cpu_before, restarts_before = server.cpu_seconds(), server.worker_restarts()
    result = run_wrk(server, endpoint, seconds, connections, workdir)
    cpu_after, result.worker_restarts = server.cpu_seconds(), server.worker_restarts()
    result.worker_restarts -= restarts_before
    if cpu_before is not None and cpu_after is not None:
        result.cpu_seconds = cpu_after - cpu_before
    return result
