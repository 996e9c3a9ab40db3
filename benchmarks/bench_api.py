"""Throughput and latency of the JSON API under real gunicorn, measured against a bare baseline.

``python -m benchmarks.bench_api [--quick]`` creates a throwaway PostgreSQL database, migrates it,
makes a user and token, seeds 1,000 projects and one project with an instance of
software_product_development, then serves Combine (``gunicorn -c gunicorn.conf.py wsgi:app``) and
the baseline (``benchmarks/baseline_app.py``, bare Flask + psycopg2 returning one JSONB row)
with the same gunicorn settings, and loads each from a second process with ``wrk`` over loopback.
It prints requests/s and p50/p99 latency per endpoint, the ratio of each to the baseline, and
whether GET instance reaches 60% of the baseline's throughput. Servers are stopped and the
database is dropped whatever happens.

The PostgreSQL server is ``COMBINE_BENCH_POSTGRES_URL``, else ``COMBINE_TEST_POSTGRES_URL``,
else ``postgresql://postgres@127.0.0.1:5432/test`` (a maintenance database; the bench creates
and drops its own database next to it).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg2
from sqlalchemy.engine import make_url

from tests.support.databases import DEFAULT_ADMIN_URL, create_database, drop_database
from tests.support.served import Gunicorn, call, run_flask

WORKFLOW_ID = "software_product_development"
WORKFLOW_VERSION = "1.0.0"
SEEDED_PROJECTS = 1_000
GOAL_RATIO = 0.60
SECRET_KEY = "bench-secret-key-not-for-production"  # noqa: S105  (a throwaway local server)


@dataclass
class Endpoint:
    """One thing to load: a method and path, headers, and bodies sent in turn."""

    label: str
    method: str
    path: str
    headers: dict
    bodies: tuple[str, ...] = ()


@dataclass
class Result:
    """What wrk measured for one endpoint."""

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
    def cpu_ms_per_request(self) -> float | None:
        """CPU time the server's processes spent per completed request (waiting excluded)."""
        if self.cpu_seconds is None or not self.requests:
            return None
        return self.cpu_seconds / self.requests * 1000


def _postgres_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


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


def seed_projects(database_url: str, username: str, count: int) -> None:
    """Insert ``count`` projects for ``username`` in one statement (distinct creation times)."""
    connection = psycopg2.connect(_postgres_dsn(database_url))
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute(
                """
                INSERT INTO projects (id, project_id, name, description, status, owner_id,
                                      created_at, updated_at)
                SELECT gen_random_uuid(), 'BEN-' || lpad(n::text, 4, '0'),
                       'Seeded project ' || n, 'Made by bench_api to fill the list.', 'active',
                       users.id, now() - make_interval(mins => n), now() - make_interval(mins => n)
                FROM generate_series(1, %s) AS n, users
                WHERE users.username = %s
                """,
                (count, username),
            )
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    finally:
        connection.close()


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


def wrk_script(endpoint: Endpoint) -> str:
    """The Lua script that makes wrk send ``endpoint`` (bodies in turn) and report as JSON."""
    headers = ", ".join(
        f"[ {_lua_string(name)} ] = {_lua_string(value)}"  # spaces: "[[[" opens a long string
        for name, value in endpoint.headers.items()
    )
    lines = [
        f"local method = {_lua_string(endpoint.method)}",
        f"local path = {_lua_string(endpoint.path)}",
        f"local headers = {{{headers}}}",
        f"local bodies = {{{', '.join(_lua_string(body) for body in endpoint.bodies)}}}",
        "local sent = 0",
        "request = function()",
        "  sent = sent + 1",
        "  local body = nil",
        "  if #bodies > 0 then body = bodies[(sent % #bodies) + 1] end",
        "  return wrk.format(method, path, headers, body)",
        "end",
    ]
    return "\n".join(lines) + WRK_DONE


def run_wrk(
    server: Server, endpoint: Endpoint, seconds: int, connections: int, workdir: Path
) -> Result:
    """Load ``endpoint`` for ``seconds`` with wrk in its own process; parse its JSON line."""
    script = workdir / ("".join(c if c.isalnum() else "_" for c in endpoint.label) + ".lua")
    script.write_text(wrk_script(endpoint))
    command = [
        "wrk",
        "--threads",
        "1",
        "--connections",
        str(connections),
        "--duration",
        f"{seconds}s",
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


def measure(
    server: Server,
    endpoint: Endpoint,
    seconds: int,
    warmup: int,
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


def _check(answer: tuple, what: str, expected: int = 200):
    status, _, body = answer
    if status != expected:
        raise RuntimeError(f"{what}: expected {expected}, got {status}: {str(body)[:500]}")
    return body


def prepare_instance(port: int, token: str) -> tuple[dict, dict]:
    """Create the project with an instance over HTTP; return (project, instance)."""
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    project = _check(
        call(port, "POST", "/api/v1/projects", headers=auth, body={"name": "Bench Instance"}),
        "create project",
        201,
    )
    instance = _check(
        call(
            port,
            "POST",
            f"/api/v1/projects/{project['project_id']}/workflow",
            headers=auth,
            body={"workflow_id": WORKFLOW_ID, "version": WORKFLOW_VERSION},
        ),
        "assign workflow",
        201,
    )
    return project, instance


def put_bodies(definition: dict) -> tuple[str, str]:
    """Two small edits of the definition (its description), sent in turn: each PUT changes it."""
    bodies = []
    for tag in ("A", "B"):
        edited = json.loads(json.dumps(definition))
        edited["description"] = f"{definition.get('description') or ''} (bench edit {tag})"
        bodies.append(json.dumps({"effective_workflow": edited}))
    return bodies[0], bodies[1]


def print_table(results: list[Result], baselines: list[Result], settings: str) -> None:
    """The results, each endpoint's ratio to the baseline, and the GET instance goal.

    The baseline runs first and last; ratios use the mean of the two, and their spread shows
    how steady the machine was.
    """
    baseline_rps = sum(b.rps for b in baselines) / len(baselines)
    print()
    print(f"bench_api: {settings}")
    header = (
        f"{'endpoint':<32} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} "
        f"{'CPU ms/req':>10} {'restarts':>8} {'vs baseline':>11}"
    )
    print(header)
    print("-" * len(header))
    for result in [*baselines, *results]:
        is_baseline = any(result is baseline for baseline in baselines)
        ratio = "" if is_baseline else f"{result.rps / baseline_rps:.0%}"
        cpu = result.cpu_ms_per_request
        print(
            f"{result.label:<32} {result.rps:>8.1f} {result.p50_ms:>8.2f} {result.p99_ms:>8.2f} "
            f"{result.non_2xx + result.socket_errors:>7d} "
            f"{'n/a' if cpu is None else f'{cpu:.2f}':>10} {result.worker_restarts:>8d} {ratio:>11}"
        )
    print(
        "restarts: workers that retired during the run (gunicorn max_requests); each new worker "
        "imports the app again, which shows in CPU ms/req and p99"
    )
    spread = (max(b.rps for b in baselines) - min(b.rps for b in baselines)) / baseline_rps
    print(f"baseline mean {baseline_rps:.1f} req/s (first and last runs differ by {spread:.0%})")
    get_instance = next(r for r in results if r.label == "GET instance")
    cpus = [b.cpu_ms_per_request for b in baselines]
    if get_instance.cpu_ms_per_request and all(cpus):
        baseline_cpu = sum(cpus) / len(cpus)
        print(
            f"server CPU per request: GET instance {get_instance.cpu_ms_per_request:.2f} ms, "
            f"baseline {baseline_cpu:.2f} ms: where CPU is the bottleneck GET instance can reach "
            f"about {baseline_cpu / get_instance.cpu_ms_per_request:.0%} of the baseline"
        )
    ratio = get_instance.rps / baseline_rps
    goal = f"Goal: GET instance >= {GOAL_RATIO:.0%} of baseline throughput"
    if ratio >= GOAL_RATIO:
        print(f"{goal}: met ({ratio:.0%}).")
    else:
        needed = GOAL_RATIO * baseline_rps - get_instance.rps
        print(
            f"{goal}: NOT met: {ratio:.0%}, {(GOAL_RATIO - ratio) * 100:.0f} points short "
            f"({needed:.0f} more req/s needed)."
        )


def main(argv: list[str] | None = None) -> int:
    """Run the API benchmark; returns the process exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 s per endpoint instead of 5 s")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (default 4)")
    parser.add_argument(
        "--connections", type=int, default=None, help="wrk connections (default 2 per worker)"
    )
    args = parser.parse_args(argv)
    seconds, warmup = (2, 1) if args.quick else (5, 1)
    connections = args.connections or 2 * args.workers

    if shutil.which("wrk") is None:
        print(
            "bench_api needs wrk, the HTTP load generator, and it is not installed.\n"
            "Install it with:  apt-get install wrk   (Debian/Ubuntu; 'brew install wrk' on macOS)",
            file=sys.stderr,
        )
        return 2
    admin_url = os.environ.get("COMBINE_BENCH_POSTGRES_URL") or os.environ.get(
        "COMBINE_TEST_POSTGRES_URL", DEFAULT_ADMIN_URL
    )
    try:
        psycopg2.connect(_postgres_dsn(admin_url), connect_timeout=5).close()
    except psycopg2.Error as error:
        print(f"bench_api needs PostgreSQL at {admin_url}: {error}".strip(), file=sys.stderr)
        print("Set COMBINE_BENCH_POSTGRES_URL to a maintenance database URL.", file=sys.stderr)
        return 2

    # A TERM (a CI timeout, kill) must still stop the servers and drop the database below.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    database_url = create_database(admin_url, prefix="combine_bench")
    servers: list[Server] = []
    workdir = Path(tempfile.mkdtemp(prefix="combine-bench-"))
    failed = False
    try:
        env = {
            **os.environ,
            "COMBINE_ENV": "production",
            "SECRET_KEY": SECRET_KEY,
            "DATABASE_URL": database_url,
        }
        started = time.monotonic()
        flask = functools.partial(run_flask, env, timeout=300)
        flask("db", "upgrade")
        flask("users", "create", "bench", "--password-stdin", stdin="bench-pass-123\n")
        token = flask("tokens", "create", "bench").strip().splitlines()[-1]
        seed_projects(database_url, "bench", SEEDED_PROJECTS)

        ours = Server("combine", "wsgi:app", env, args.workers, workdir)
        servers.append(ours)
        baseline_server = Server(
            "baseline", "benchmarks.baseline_app:app", env, args.workers, workdir
        )
        servers.append(baseline_server)
        ours.wait_until_healthy()
        baseline_server.wait_until_healthy()
        project, instance = prepare_instance(ours.port, token)
        print(
            f"bench_api: database ready in {time.monotonic() - started:.1f} s "
            f"({SEEDED_PROJECTS + 1} projects, instance {instance['id']})",
            flush=True,
        )

        key = project["project_id"]
        auth = {"Authorization": f"Bearer {token}"}
        instance_path = f"/api/v1/projects/{key}/workflow"
        # The baseline must return the very document GET instance returns, or it measures less.
        ours_doc = _check(call(ours.port, "GET", instance_path, headers=auth), "GET instance")
        base_doc = _check(
            call(baseline_server.port, "GET", f"/instance/{instance['id']}"), "baseline"
        )
        if base_doc != ours_doc["effective_workflow"]:
            raise RuntimeError("the baseline does not return the instance's effective_workflow")

        baseline_path = f"/instance/{instance['id']}"
        baseline_first = Endpoint("baseline, first: GET JSONB row", "GET", baseline_path, {})
        baseline_last = Endpoint("baseline, last: GET JSONB row", "GET", baseline_path, {})
        endpoints = [
            Endpoint("GET instance", "GET", instance_path, auth),
            Endpoint(
                "PUT instance (2 bodies)",
                "PUT",
                instance_path,
                {**auth, "Content-Type": "application/json"},
                put_bodies(instance["effective_workflow"]),
            ),
            Endpoint("GET drift", "GET", f"{instance_path}/drift", auth),
            Endpoint("GET history page (20)", "GET", f"{instance_path}/history?limit=20", auth),
            Endpoint("GET projects (limit=100)", "GET", "/api/v1/projects?limit=100", auth),
        ]
        for endpoint in endpoints:
            _check(
                call(
                    ours.port,
                    endpoint.method,
                    endpoint.path,
                    headers=endpoint.headers,
                    body=json.loads(endpoint.bodies[0]) if endpoint.bodies else None,
                ),
                endpoint.label,
            )

        print(
            f"bench_api: wrk, 1 thread, {connections} connections, {seconds} s per endpoint "
            f"after {warmup} s warm-up; gunicorn.conf.py with {args.workers} sync workers; "
            f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs",
            flush=True,
        )
        baselines = [
            measure(baseline_server, baseline_first, seconds, warmup, connections, workdir)
        ]
        results = []
        for endpoint in endpoints:
            results.append(measure(ours, endpoint, seconds, warmup, connections, workdir))
            print(f"  measured {endpoint.label}", flush=True)
        baselines.append(
            measure(baseline_server, baseline_last, seconds, warmup, connections, workdir)
        )
        _, _, history = call(ours.port, "GET", f"{instance_path}/history?limit=1", headers=auth)
        history_total = history["total"]
        print_table(
            results,
            baselines,
            f"{args.workers} gunicorn workers, {connections} connections, {seconds} s each; "
            f"history held {history_total} entries at the end",
        )
        if any(r.non_2xx or r.socket_errors for r in [*baselines, *results]):
            print("WARNING: some requests failed (non-2xx or socket errors); see the table.")
            failed = True
    finally:
        for server in servers:
            server.stop()
        if failed:
            for server in servers:
                print(f"--- {server.name} log tail ---\n{server.log()[-3000:]}", file=sys.stderr)
        drop_database(admin_url, database_url)
        shutil.rmtree(workdir, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
