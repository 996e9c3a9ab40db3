"""Where one request's time goes, per endpoint and phase, in-process on PostgreSQL.

``python -m benchmarks.profile_request [--requests N] [--quick]`` makes a throwaway database
(migrated, one user and token, a project with an instance over the API, 100 history entries and
1,000 projects seeded like bench_api's), builds the app as production does, and sends each
endpoint N times through Flask's test client, twice:

1. unobserved but for the driver: wall and CPU time per request, and per request the
   statements, the round trips to PostgreSQL (statements, the BEGIN psycopg2 sends before a
   transaction's first one, COMMIT/ROLLBACK) and the wall time spent in them;
2. sampled: a CPU-time timer (``ITIMER_PROF``) interrupts the requests, and each sample
   charges the process CPU used since the previous one to the Python stack it finds (a C
   call's CPU lands on the Python function that made it); the sampler's own time is left out.

Each stack is put in one phase by the names of its modules and functions (so the table reads
the same whichever way the API layer is written, plain Flask views or flask-smorest):

- auth: anything under who-is-asking code (``combine_app/auth/``, or a ``combine_app`` function
  whose name holds "auth" or "token"), its SQL included;
- otherwise by the innermost library frame:
  SQL build (``sqlalchemy/sql``: statements, compiling, cache keys);
  SQL exec (``sqlalchemy/engine``, pool, dialect, psycopg2, and types' bind and result
  processing: executing, and values to and from the driver);
  objects (``sqlalchemy/orm`` and result rows: turning rows into Python objects);
  dump (marshmallow dumping, and Combine functions with "dump" in their name);
  encode (the JSON provider, stdlib json under it, orjson);
  parse (reading the request: body JSON, marshmallow or webargs loading);
  app (Combine's own code: services, diff, validation);
  dispatch (Flask, Werkzeug and their extensions: routing, contexts, sessions, the request
  and response objects); other.

Time outside Flask's ``wsgi_app`` (the test client building the request) is left out. A second
table splits the same samples by where in Flask's request cycle they fell.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import sysconfig
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from types import CodeType, FrameType

import psycopg2
import psycopg2.extensions

from benchmarks import bench_api
from benchmarks.seed import postgres_dsn, seed_history, seed_projects
from tests.support.databases import create_database, drop_database

KINDS = (
    "dispatch",
    "auth",
    "SQL build",
    "SQL exec",
    "objects",
    "dump",
    "encode",
    "parse",
    "app",
    "other",
)
CONTEXTS = ("dispatch", "before", "view", "response", "teardown")
SAMPLE_SECONDS = 0.001  # asked for; the kernel delivers at its tick
FRAMEWORK = frozenset(
    {
        "flask",
        "werkzeug",
        "flask_login",
        "flask_wtf",
        "flask_sqlalchemy",
        "flask_migrate",
        "flask_smorest",
        "apispec",
        "itsdangerous",
        "blinker",
        "jinja2",
        "markupsafe",
        "click",
        "wtforms",
    }
)
ENCODERS = frozenset({"orjson", "ujson", "simplejson", "msgspec", "rapidjson"})
# Combine's own request-body reading (json_body and combine_app/portable_json's I-JSON hooks;
# the old names from before the rules moved there are kept for older profiles).
PARSE_NAMES = frozenset(
    {
        "json_body",
        "read_json",
        "text_problems",
        "text_problem",
        "depth_exceeds",
        "_unique_keys",
        "_safe_int",
        "_finite_float",
        "_refuse_constant",
        "unstorable_text",
        "_text_problem",
        "_deeper_than",
    }
)
_STDLIB = (sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["platstdlib"])


# --- The driver, observed: statements, round trips and the wall time they take -------------


@dataclass
class DriverStats:
    """What the requests asked of PostgreSQL."""

    statements: int = 0
    round_trips: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0

    def reset(self) -> None:
        """Start counting afresh."""
        self.statements, self.round_trips, self.seconds, self.cpu_seconds = 0, 0, 0.0, 0.0


DRIVER = DriverStats()
_OPEN = (
    psycopg2.extensions.TRANSACTION_STATUS_INTRANS,
    psycopg2.extensions.TRANSACTION_STATUS_INERROR,
)


def _timed(call: Callable, round_trips: int, statements: int = 0):
    """Make one driver call, counted, and timed in wall and CPU time."""
    started, cpu = time.perf_counter(), time.process_time()
    try:
        return call()
    finally:
        DRIVER.cpu_seconds += time.process_time() - cpu
        DRIVER.seconds += time.perf_counter() - started
        DRIVER.round_trips += round_trips
        DRIVER.statements += statements


class TimedCursor(psycopg2.extensions.cursor):
    """A cursor that counts its statements and the BEGIN psycopg2 sends before the first."""

    def _trips(self) -> int:
        connection = self.connection
        idle = connection.get_transaction_status() == psycopg2.extensions.TRANSACTION_STATUS_IDLE
        return 2 if idle and not connection.autocommit else 1

    def execute(self, query, variables=None):
        """Execute, timed."""
        return _timed(lambda: super(TimedCursor, self).execute(query, variables), self._trips(), 1)

    def executemany(self, query, variables):
        """Execute for each parameter set, timed (psycopg2 sends one statement per set)."""
        variables = list(variables)
        trips = self._trips() - 1 + len(variables)
        return _timed(
            lambda: super(TimedCursor, self).executemany(query, variables), trips, len(variables)
        )


class TimedConnection(psycopg2.extensions.connection):
    """A connection whose cursors are timed and whose COMMIT/ROLLBACK are counted when sent."""

    def cursor(self, *args, **kwargs):
        """A TimedCursor unless the caller asked for another kind."""
        kwargs.setdefault("cursor_factory", TimedCursor)
        return super().cursor(*args, **kwargs)

    def _ends(self, method: Callable) -> None:
        # psycopg2 sends nothing when no transaction is open.
        trips = 1 if self.get_transaction_status() in _OPEN else 0
        _timed(method, trips)

    def commit(self):
        """COMMIT, timed."""
        self._ends(super().commit)

    def rollback(self):
        """ROLLBACK, timed."""
        self._ends(super().rollback)


# --- The sampler: process CPU charged to Python stacks ----------------------------------------


class Sampler:
    """Charges the CPU used between two CPU-timer signals to the stack the second one finds.

    ``ITIMER_PROF`` counts the process's CPU time, so samples fall evenly over the CPU the
    requests use, whatever they wait for; Linux checks it at each scheduler tick (every 4 ms at
    250 Hz), so a breakdown takes some thousands of requests. A wall-clock timer would sample
    more often but lands mostly in waits for PostgreSQL, charging the work before each wait to
    the driver.
    """

    def __init__(self, interval: float = SAMPLE_SECONDS):
        self.interval = interval
        self.stacks: dict[tuple[CodeType, ...], float] = defaultdict(float)
        self._last = 0.0

    def _sample(self, signum: int, frame: FrameType | None) -> None:
        now = time.process_time()
        codes = []
        while frame is not None:
            codes.append(frame.f_code)
            frame = frame.f_back
        self.stacks[tuple(codes)] += now - self._last
        self._last = time.process_time()  # the sampler's own time is charged to no one

    def __enter__(self) -> Sampler:
        self._previous = signal.signal(signal.SIGPROF, self._sample)
        self._last = time.process_time()
        signal.setitimer(signal.ITIMER_PROF, self.interval, self.interval)
        return self

    def __exit__(self, *exc_info) -> None:
        signal.setitimer(signal.ITIMER_PROF, 0, 0)
        signal.signal(signal.SIGPROF, self._previous)


def _package(filename: str) -> tuple[str, str]:
    """(top-level package, path inside it) of a code object's file; 'stdlib' for the stdlib."""
    path = filename.replace(os.sep, "/")
    for marker in ("/site-packages/", "/dist-packages/"):
        if marker in path:
            inside = path.rsplit(marker, 1)[1]
            top, _, rest = inside.partition("/")
            return top.removesuffix(".py"), rest
    for anchor in ("/combine_app/", "/benchmarks/"):
        if anchor in path:
            return anchor.strip("/"), path.rsplit(anchor, 1)[1]
    if path.startswith(_STDLIB) or filename.startswith("<"):
        return "stdlib", path
    return "other", path


def _is_auth(code: CodeType, package: str, inside: str) -> bool:
    if package != "combine_app":
        return False
    name = code.co_name.lower()
    return inside.startswith("auth/") or "auth" in name or "token" in name


def frame_kind(code: CodeType) -> str | None:
    """The kind of work a frame does, or None when it takes its caller's (stdlib, utilities)."""
    package, inside = _package(code.co_filename)
    if package == "benchmarks":
        return "SQL exec" if code.co_qualname.startswith(("Timed", "_timed")) else None
    if package == "psycopg2":
        return "SQL exec"
    if package == "sqlalchemy":
        if code.co_name == "process" or "_processor" in code.co_qualname:
            return "SQL exec"  # a type's bind or result processing: values to and from the driver
        if inside.startswith("sql/"):
            return "SQL build"
        if inside.startswith("orm/") or inside in ("engine/result.py", "engine/row.py"):
            return "objects"
        if inside == "engine/cursor.py":
            return "objects"
        if inside.startswith(("engine/", "pool/", "dialects/")):
            return "SQL exec"
        return None
    if package == "marshmallow":
        return "marshmallow"
    if package == "webargs":
        return "parse"
    if package in ENCODERS or (package == "flask" and inside.startswith("json/")):
        return "encode"
    if package == "combine_app":
        if code.co_qualname.split(".", 1)[0] in PARSE_NAMES:  # their comprehensions too
            return "parse"
        if code.co_name in ("dumps", "response") and "Provider" in code.co_qualname:
            return "encode"
        if "dump" in code.co_qualname.lower():  # our own schema dumping (a dump plan)
            return "dump"
        return "app"
    if package in FRAMEWORK:
        return "dispatch"
    if package == "stdlib":
        return None
    return "other"


def _marshmallow_kind(codes: tuple[CodeType, ...], start: int) -> str:
    """dump or parse: the marshmallow entry point (dump/load/validate) the work is under."""
    for code in codes[start:]:
        if _package(code.co_filename)[0] != "marshmallow":
            break
        if code.co_name in ("dump", "dumps"):
            return "dump"
        if code.co_name in ("load", "loads", "validate", "_do_load"):
            return "parse"
    return "dump"


def classify(codes: tuple[CodeType, ...]) -> tuple[str, str, CodeType | None] | None:
    """(context, kind, deciding frame) of a stack, innermost frame first.

    None when the stack is outside ``wsgi_app``.
    """
    in_app = False
    context = "dispatch"
    ranks = {name: index for index, name in enumerate(CONTEXTS)}
    auth = False
    for code in codes:
        package, inside = _package(code.co_filename)
        if package == "flask":
            name = code.co_name
            if name == "wsgi_app":
                in_app = True
            found = {
                "preprocess_request": "before",
                "dispatch_request": "view",
                "finalize_request": "response",
                "make_response": "response",
                "process_response": "response",
                "do_teardown_request": "teardown",
                "do_teardown_appcontext": "teardown",
                "pop": "teardown",
            }.get(name)
            if found and ranks[found] > ranks[context]:
                context = found
        auth = auth or _is_auth(code, package, inside)
    if not in_app:
        return None
    for index, code in enumerate(codes):
        kind = frame_kind(code)
        if kind == "marshmallow":
            kind = _marshmallow_kind(codes, index)
        if kind is not None:
            return context, "auth" if auth else kind, code
    return context, "auth" if auth else "other", None


# --- The requests ------------------------------------------------------------------------------


@dataclass
class Profile:
    """One endpoint's figures, per request."""

    label: str
    wall_us: float
    cpu_us: float
    statements: float
    round_trips: float
    sql_wall_us: float
    sql_cpu_us: float
    kinds: dict[str, float] = field(default_factory=dict)
    contexts: dict[str, float] = field(default_factory=dict)
    # The innermost deciding frame, "kind package/file:function" -> µs per request.
    frames: dict[str, float] = field(default_factory=dict)
    sampled_us: float = 0.0


def _send(client, endpoint, number: int) -> None:
    body = endpoint.body_for(f"profile-{number}")
    response = client.open(
        endpoint.path,
        method=endpoint.method,
        headers=endpoint.headers,
        data=body.encode() if body is not None else None,
    )
    if response.status_code != 200:
        raise RuntimeError(f"{endpoint.label}: {response.status_code} {response.text[:300]}")


def profile(client, endpoint, requests: int, counter: list[int]) -> Profile:
    """Warm up, then an observed pass for the totals and a sampled pass for the phases."""
    for _ in range(max(10, requests // 10)):
        counter[0] += 1
        _send(client, endpoint, counter[0])
    DRIVER.reset()
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(requests):
        counter[0] += 1
        _send(client, endpoint, counter[0])
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    result = Profile(
        endpoint.label,
        wall_us=wall / requests * 1e6,
        cpu_us=cpu / requests * 1e6,
        statements=DRIVER.statements / requests,
        round_trips=DRIVER.round_trips / requests,
        sql_wall_us=DRIVER.seconds / requests * 1e6,
        sql_cpu_us=DRIVER.cpu_seconds / requests * 1e6,
    )
    with Sampler() as sampler:
        for _ in range(requests):
            counter[0] += 1
            _send(client, endpoint, counter[0])
    placed = [(classify(codes), seconds) for codes, seconds in sampler.stacks.items()]
    placed = [(where, seconds) for where, seconds in placed if where is not None]
    sampled = sum(seconds for _, seconds in placed)
    # The sampler slows what it watches a little; its shares are scaled to the unsampled CPU.
    scale = cpu / sampled if sampled else 0.0
    kinds: dict[str, float] = defaultdict(float)
    contexts: dict[str, float] = defaultdict(float)
    frames: dict[str, float] = defaultdict(float)
    for (context, kind, code), seconds in placed:
        share = seconds * scale / requests * 1e6
        kinds[kind] += share
        contexts[context] += share
        frames[f"{kind:<9} {_where(code)}"] += share
    result.kinds, result.contexts, result.frames = dict(kinds), dict(contexts), dict(frames)
    result.sampled_us = sampled / requests * 1e6
    return result


def _where(code: CodeType | None) -> str:
    if code is None:
        return "(no library frame)"
    package, inside = _package(code.co_filename)
    if package == "benchmarks":  # the timing wrapper: the CPU is the C driver call it wraps
        return "psycopg2: cursor.execute, commit, rollback (C)"
    return f"{package}/{inside}:{code.co_qualname}"


def print_tables(profiles: list[Profile], top: int) -> None:
    """Phases per endpoint (µs of CPU per request), then the request cycle, then the driver."""
    width = max(len(p.label) for p in profiles) + 1
    print(
        "CPU µs per request by phase (shares sampled, scaled to the unsampled pass's CPU; auth "
        "includes its SQL)"
    )
    header = f"{'endpoint':<{width}}" + "".join(f"{kind:>10}" for kind in KINDS) + f"{'total':>8}"
    print(header)
    print("-" * len(header))
    for p in profiles:
        cells = "".join(f"{p.kinds.get(kind, 0.0):>10.0f}" for kind in KINDS)
        print(f"{p.label:<{width}}{cells}{p.cpu_us:>8.0f}")
    overheads = [p.sampled_us / p.cpu_us for p in profiles if p.cpu_us]
    if overheads:
        print(
            f"(sampling made requests {min(overheads):.2f}-{max(overheads):.2f} times as costly "
            "in CPU; the shares are what it saw)"
        )
    print()
    print("The same samples by where in Flask's request cycle they fell (µs of CPU per request)")
    header = f"{'endpoint':<{width}}" + "".join(f"{c:>10}" for c in CONTEXTS)
    print(header)
    print("-" * len(header))
    for p in profiles:
        print(f"{p.label:<{width}}" + "".join(f"{p.contexts.get(c, 0.0):>10.0f}" for c in CONTEXTS))
    print()
    print("Unsampled pass, per request")
    header = (
        f"{'endpoint':<{width}}{'wall µs':>9}{'CPU µs':>9}{'statements':>11}"
        f"{'round trips':>12}{'SQL wall µs':>12}{'SQL CPU µs':>11}"
    )
    print(header)
    print("-" * len(header))
    for p in profiles:
        print(
            f"{p.label:<{width}}{p.wall_us:>9.0f}{p.cpu_us:>9.0f}{p.statements:>11.1f}"
            f"{p.round_trips:>12.1f}{p.sql_wall_us:>12.0f}{p.sql_cpu_us:>11.0f}"
        )
    print(
        "round trips: statements, psycopg2's BEGIN before a transaction's first statement, "
        "COMMIT and ROLLBACK when a transaction is open; SQL wall and CPU: time inside those "
        "calls (the CPU ours, decoding rows included)"
    )
    if top:
        for p in profiles:
            print()
            print(f"{p.label}: the {top} heaviest deciding frames (µs of CPU per request)")
            heaviest = sorted(p.frames.items(), key=lambda item: item[1], reverse=True)[:top]
            for where, micros in heaviest:
                print(f"  {micros:>7.0f}  {where}")


def _scene(app, database_url: str) -> bench_api.Scene:
    """A user and token, three instances over the API, history and projects seeded by SQL."""
    from combine_app.auth import service as auth_service
    from combine_app.extensions import db

    tokens, owners = [], []
    with app.app_context():
        for username in ("bench", "bench_large"):
            user = auth_service.create_user(username, bench_api.PASSWORD)
            tokens.append(auth_service.create_token(user, "profile"))
            owners.append(user.id)
        db.session.commit()
    client = app.test_client()
    auth = {"Authorization": f"Bearer {tokens[0]}"}
    made = []
    for name in ("Bench Instance", "History Small", "History Large"):
        project = client.post("/api/v1/projects", json={"name": name}, headers=auth).json
        instance = client.post(
            f"/api/v1/projects/{project['project_id']}/workflow",
            json={"workflow_id": bench_api.WORKFLOW_ID, "version": bench_api.WORKFLOW_VERSION},
            headers=auth,
        ).json
        made.append((project["project_id"], instance))
    seed_history(database_url, made[1][1]["id"], bench_api.SMALL_HISTORY - 1, "bench")
    seed_projects(database_url, "bench", bench_api.SMALL_PROJECTS - 3, "BEN")
    return bench_api.Scene(
        token=tokens[0],
        large_token=tokens[1],
        owner_id=owners[0],
        large_owner_id=owners[1],
        key=made[0][0],
        instance_id=made[0][1]["id"],
        small_key=made[1][0],
        small_instance_id=made[1][1]["id"],
        large_key=made[2][0],
        large_instance_id=made[2][1]["id"],
        definition=made[0][1]["effective_workflow"],
    )


def main(argv: list[str] | None = None) -> int:
    """Profile each endpoint; returns the process exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=None, help="per pass (default 1000)")
    parser.add_argument("--quick", action="store_true", help="300 requests per pass")
    parser.add_argument(
        "--top", type=int, default=0, help="also list each endpoint's N heaviest frames"
    )
    parser.add_argument(
        "--only", default="", help="only endpoints whose label contains this text, e.g. PUT"
    )
    args = parser.parse_args(argv)
    requests = args.requests or (300 if args.quick else 1000)
    admin_url = bench_api._admin_url()
    try:
        psycopg2.connect(postgres_dsn(admin_url), connect_timeout=5).close()
    except psycopg2.Error as error:
        print(f"profile_request needs PostgreSQL at {admin_url}: {error}".strip(), file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    database_url = create_database(admin_url, prefix="combine_profile")
    try:
        os.environ.update(
            COMBINE_ENV="production", SECRET_KEY=bench_api.SECRET_KEY, DATABASE_URL=database_url
        )
        import flask_migrate

        from combine_app import create_app
        from combine_app.extensions import db

        app = create_app(
            {"SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"connection_factory": TimedConnection}}}
        )
        with app.app_context():
            flask_migrate.upgrade()
        scene = _scene(app, database_url)
        client = app.test_client()
        endpoints = [
            pair.ours for pair in bench_api.pairs_for(scene) if args.only in pair.ours.label
        ]
        print(
            f"profile_request: {requests} requests per pass per endpoint, in-process "
            f"(Flask test client), PostgreSQL {admin_url.rsplit('@', 1)[-1]}; "
            f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs",
            flush=True,
        )
        counter = [0]
        profiles = []
        for endpoint in endpoints:
            profiles.append(profile(client, endpoint, requests, counter))
            print(f"  profiled {endpoint.label}", flush=True)
        print()
        print_tables(profiles, args.top)
        with app.app_context():
            db.engine.dispose()
    finally:
        drop_database(admin_url, database_url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
