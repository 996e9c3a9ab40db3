"""Throughput and latency of the JSON API under real gunicorn, each endpoint against its baseline.

``python -m benchmarks.bench_api [--quick]`` creates a throwaway PostgreSQL database, migrates
it, makes two users with tokens, three projects with instances of software_product_development
over HTTP, and seeds (straight into the tables, benchmarks/seed.py) 1,000 projects for one user
and 100,000 for the other, and 100 and 100,000 history entries on two instances. It serves
Combine (``gunicorn -c gunicorn.conf.py wsgi:app``) and the baselines
(``benchmarks/baseline_app.py``: bare Flask + psycopg2 doing each endpoint's database work) with
the same gunicorn settings, checks that each baseline answers the JSON Combine answers, and loads
each from a second process with ``wrk`` over loopback, a baseline right before the endpoint it
measures. It prints req/s, p50/p99, server CPU per request, each endpoint's ratio to its own
baseline with the goal and whether it is met, and how the list and history pages grow from
small to large data. Servers are stopped and the database dropped whatever happens.

The PostgreSQL server is ``COMBINE_BENCH_POSTGRES_URL``, else ``COMBINE_TEST_POSTGRES_URL``,
else ``postgresql://postgres@127.0.0.1:5432/test`` (a maintenance database; the bench creates
and drops its own database next to it).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg2

from benchmarks.load import UNIQUE, Endpoint, Result, Server, combine, measure
from benchmarks.seed import postgres_dsn, seed_history, seed_projects
from tests.support.databases import DEFAULT_ADMIN_URL, create_database, drop_database
from tests.support.served import call, run_flask

WORKFLOW_ID = "software_product_development"
WORKFLOW_VERSION = "1.0.0"
SECRET_KEY = "bench-secret-key-not-for-production"  # noqa: S105  (a throwaway local server)
PASSWORD = "bench-pass-123"  # noqa: S105  (a throwaway local user)
SMALL_PROJECTS, LARGE_PROJECTS = 1_000, 100_000
SMALL_HISTORY, LARGE_HISTORY = 100, 100_000
PAGE, LIST_LIMIT = 20, 100
GROWTH_GOAL = 2.0
STEADY_REQUESTS = 100  # the larger case costs at most this many times the smaller one
# A baseline may answer JSON that differs from ours (another helper changed a response and the
# baseline has not caught up) and still be a fair yardstick if it sends about as many bytes.
COMPARABLE_BYTES = 0.05


@dataclass
class Pair:
    """A Combine endpoint, the baseline that does its database work, and the goal between them."""

    ours: Endpoint
    baseline: Endpoint
    goal: float | None
    # False where the baseline is a floor, not a copy: drift against the one-row read.
    same_json: bool = True


@dataclass
class Scene:
    """What the setup made: tokens, keys and ids the endpoints are loaded with."""

    token: str
    large_token: str
    owner_id: int
    large_owner_id: int
    key: str
    instance_id: str
    small_key: str
    small_instance_id: str
    large_key: str
    large_instance_id: str
    definition: dict


def _check(answer: tuple, what: str, expected: int = 200):
    status, _, body = answer
    if status != expected:
        raise RuntimeError(f"{what}: expected {expected}, got {status}: {str(body)[:500]}")
    return body


def _instance_over_http(port: int, token: str, name: str) -> tuple[dict, dict]:
    """Create a project with an instance of the bench workflow; return (project, instance)."""
    project = _check(
        call(port, "POST", "/api/v1/projects", token=token, body={"name": name}),
        f"create project {name!r}",
        201,
    )
    instance = _check(
        call(
            port,
            "POST",
            f"/api/v1/projects/{project['project_id']}/workflow",
            token=token,
            body={"workflow_id": WORKFLOW_ID, "version": WORKFLOW_VERSION},
        ),
        "assign workflow",
        201,
    )
    return project, instance


def _user_id(database_url: str, username: str) -> int:
    connection = psycopg2.connect(postgres_dsn(database_url))
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute("SELECT id FROM users WHERE username = %s", (username,))
            return cursor.fetchone()[0]
    finally:
        connection.close()


def build_scene(env: dict, database_url: str, port: int) -> Scene:
    """Users and tokens as an operator makes them, instances over HTTP, bulk rows by SQL."""
    flask = functools.partial(run_flask, env, timeout=300)
    tokens = []
    for username in ("bench", "bench_large"):
        flask("users", "create", username, "--password-stdin", stdin=PASSWORD + "\n")
        tokens.append(flask("tokens", "create", username).strip().splitlines()[-1])
    token, large_token = tokens
    project, instance = _instance_over_http(port, token, "Bench Instance")
    small, small_instance = _instance_over_http(port, token, "History Small")
    large, large_instance = _instance_over_http(port, token, "History Large")
    # Each instance already holds its "created" entry; the bench user owns three projects.
    seed_history(database_url, small_instance["id"], SMALL_HISTORY - 1, "bench")
    seed_history(database_url, large_instance["id"], LARGE_HISTORY - 1, "bench")
    seed_projects(database_url, "bench", SMALL_PROJECTS - 3, "BEN")
    seed_projects(database_url, "bench_large", LARGE_PROJECTS, "BIG")
    return Scene(
        token=token,
        large_token=large_token,
        owner_id=_user_id(database_url, "bench"),
        large_owner_id=_user_id(database_url, "bench_large"),
        key=project["project_id"],
        instance_id=instance["id"],
        small_key=small["project_id"],
        small_instance_id=small_instance["id"],
        large_key=large["project_id"],
        large_instance_id=large_instance["id"],
        definition=instance["effective_workflow"],
    )


def put_body(definition: dict, tag: str = UNIQUE) -> str:
    """A PUT body that edits only the description, to text ending in ``tag``."""
    edited = json.loads(json.dumps(definition))
    edited["description"] = f"{definition.get('description') or ''} (bench edit {tag})"
    return json.dumps({"effective_workflow": edited})


def _history_pair(scene: Scene, large: bool, last: bool) -> Pair:
    """A history page (limit 20, first or last) of the 100- or the 100,000-entry instance."""
    key, instance_id, total = (
        (scene.large_key, scene.large_instance_id, LARGE_HISTORY)
        if large
        else (scene.small_key, scene.small_instance_id, SMALL_HISTORY)
    )
    offset = total - PAGE if last else 0
    name = (
        f"history page ({PAGE})"
        if not (large or last)
        else (f"history {'last' if last else 'first'} page of {total:,}")
    )
    return Pair(
        Endpoint(
            f"GET {name}",
            "GET",
            f"/api/v1/projects/{key}/workflow/history?limit={PAGE}"
            + (f"&offset={offset}" if offset else ""),
            {"Authorization": f"Bearer {scene.token}"},
        ),
        Endpoint(
            f"baseline: {name}",
            "GET",
            f"/instance/{instance_id}/history?limit={PAGE}&offset={offset}",
        ),
        0.50,
    )


def _list_pair(scene: Scene, large: bool) -> Pair:
    """The first page of 100 projects of the user with 1,000 or the one with 100,000."""
    token, owner_id = (
        (scene.large_token, scene.large_owner_id) if large else (scene.token, scene.owner_id)
    )
    of = f" of {LARGE_PROJECTS:,}" if large else ""
    return Pair(
        Endpoint(
            f"GET projects (limit={LIST_LIMIT}){of}",
            "GET",
            f"/api/v1/projects?limit={LIST_LIMIT}",
            {"Authorization": f"Bearer {token}"},
        ),
        Endpoint(
            f"baseline: project page ({LIST_LIMIT}){of}",
            "GET",
            f"/projects?owner_id={owner_id}&limit={LIST_LIMIT}&offset=0",
        ),
        0.50,
    )


def pairs_for(scene: Scene) -> list[Pair]:
    """The six measured endpoints, each with its baseline and goal (None: no goal set)."""
    auth = {"Authorization": f"Bearer {scene.token}"}
    workflow = f"/api/v1/projects/{scene.key}/workflow"
    row = Endpoint("baseline: instance row", "GET", f"/instance/{scene.instance_id}")
    json_put = {**auth, "Content-Type": "application/json"}
    return [
        Pair(Endpoint("GET instance", "GET", workflow, auth), row, 0.60),
        Pair(Endpoint("GET drift", "GET", f"{workflow}/drift", auth), row, 0.50, same_json=False),
        _history_pair(scene, large=False, last=False),
        _list_pair(scene, large=False),
        Pair(
            Endpoint("GET tree", "GET", f"/api/v1/projects/{scene.key}/tree", auth),
            Endpoint(
                "baseline: tree row", "GET", f"/projects/{scene.key}/tree?owner_id={scene.owner_id}"
            ),
            None,
        ),
        Pair(
            Endpoint("PUT instance", "PUT", workflow, json_put, put_body(scene.definition)),
            Endpoint(
                "baseline: UPDATE + INSERT",
                "PUT",
                f"/instance/{scene.instance_id}?changed_by=bench",
                {"Content-Type": "application/json"},
                put_body(scene.definition),
            ),
            0.40,
        ),
    ]


@dataclass
class Growth:
    """A smaller and a larger case of one read: the larger should cost at most twice as much."""

    label: str
    small: Pair
    large: Pair


def growth_cases(scene: Scene, pairs: list[Pair]) -> list[Growth]:
    """The list over 1,000 and 100,000 projects; history pages over 100 and 100,000 entries.

    The smaller list and the first page of the smaller history are the pairs measured above.
    """
    measured = {pair.ours.label: pair for pair in pairs}

    def known(pair: Pair) -> Pair:
        return measured.get(pair.ours.label, pair)

    return [
        Growth(
            f"project list (limit={LIST_LIMIT}), {SMALL_PROJECTS:,} -> {LARGE_PROJECTS:,}",
            known(_list_pair(scene, large=False)),
            _list_pair(scene, large=True),
        ),
        Growth(
            f"history first page, {SMALL_HISTORY:,} -> {LARGE_HISTORY:,} entries",
            known(_history_pair(scene, large=False, last=False)),
            _history_pair(scene, large=True, last=False),
        ),
        Growth(
            f"history last page, {SMALL_HISTORY:,} -> {LARGE_HISTORY:,} entries",
            _history_pair(scene, large=False, last=True),
            _history_pair(scene, large=True, last=True),
        ),
    ]


def _first_difference(ours, theirs, pointer: str = "") -> str | None:
    """The JSON pointer of the first place two documents differ, or None when equal."""
    if isinstance(ours, dict) and isinstance(theirs, dict):
        for key in [*ours, *(k for k in theirs if k not in ours)]:
            if key not in ours or key not in theirs:
                return f"{pointer}/{key} (only in {'ours' if key in ours else 'the baseline'})"
            found = _first_difference(ours[key], theirs[key], f"{pointer}/{key}")
            if found:
                return found
        return None
    if isinstance(ours, list) and isinstance(theirs, list):
        if len(ours) != len(theirs):
            return f"{pointer} ({len(ours)} items against {len(theirs)})"
        for index, (a, b) in enumerate(zip(ours, theirs, strict=True)):
            found = _first_difference(a, b, f"{pointer}/{index}")
            if found:
                return found
        return None
    return None if ours == theirs and type(ours) is type(theirs) else f"{pointer or '/'}"


def _sent(port: int, endpoint: Endpoint, tag: str = "check") -> tuple[object, int]:
    """One request of ``endpoint``: its parsed JSON answer and the size of the body sent back."""
    body = endpoint.body_for(tag)
    status, headers, answer = call(
        port,
        endpoint.method,
        endpoint.path,
        headers=endpoint.headers,
        body=body.encode() if body is not None else None,
    )
    _check((status, headers, answer), endpoint.label)
    return answer, int(headers.get("Content-Length") or 0)


def compare(label: str, ours: object, ours_bytes: int, theirs: object, theirs_bytes: int) -> str:
    """'same JSON', or 'comparable' with where they differ; raise when not even comparable."""
    difference = _first_difference(ours, theirs)
    if difference is None:
        return "same JSON"
    spread = abs(ours_bytes - theirs_bytes) / max(ours_bytes, theirs_bytes, 1)
    message = (
        f"{label}: the baseline's JSON differs from ours at {difference} "
        f"({ours_bytes:,} bytes against {theirs_bytes:,})"
    )
    if spread > COMPARABLE_BYTES:
        raise RuntimeError(message + ": update benchmarks/baseline_app.py to send what we send")
    print(f"WARNING: {message}; sizes within {COMPARABLE_BYTES:.0%}, measured anyway")
    return "comparable"


def check_baselines(ours: Server, baseline: Server, pairs: list[Pair]) -> dict:
    """Each baseline must answer what its endpoint answers; returns label -> (verdict, bytes).

    For PUT, the baseline writes one edit and our GET instance must then read exactly what the
    baseline answered, and the history entry it wrote must read like the one our PUT wrote.
    """
    checked = {}
    for pair in pairs:
        if not pair.same_json:
            mine_bytes = _sent(ours.port, pair.ours)[1]
            theirs_bytes = _sent(baseline.port, pair.baseline)[1]
            checked[pair.ours.label] = ("floor", mine_bytes, theirs_bytes)
            continue
        if pair.ours.method == "GET":
            mine, mine_bytes = _sent(ours.port, pair.ours)
            theirs, theirs_bytes = _sent(baseline.port, pair.baseline)
        else:
            get_ours = Endpoint("GET instance", "GET", pair.ours.path, pair.ours.headers)
            history = Endpoint(
                "GET history", "GET", f"{pair.ours.path}/history?limit=1", pair.ours.headers
            )
            _sent(ours.port, pair.ours, "check-ours")
            our_entry = _sent(ours.port, history)[0]["entries"][0]
            theirs, theirs_bytes = _sent(baseline.port, pair.baseline, "check-baseline")
            mine, mine_bytes = _sent(ours.port, get_ours)
            their_entry = _sent(ours.port, history)[0]["entries"][0]
            compare(
                "PUT's history entry",
                _entry_shape(our_entry, "check-ours"),
                0,
                _entry_shape(their_entry, "check-baseline"),
                0,
            )
        checked[pair.ours.label] = (
            compare(pair.ours.label, mine, mine_bytes, theirs, theirs_bytes),
            mine_bytes,
            theirs_bytes,
        )
    return checked


def _entry_shape(entry: dict, tag: str) -> dict:
    """A history entry without what differs between any two edits (ids, times, revisions)."""
    detail = json.loads(json.dumps(entry["change_detail"]).replace(tag, "TAG"))
    detail.pop("revision", None)
    for change in detail.get("changes", []):
        change.pop("old", None)
    return {"change_type": entry["change_type"], "changed_by": entry["changed_by"], **detail}


@dataclass
class Settings:
    """How long and how hard each endpoint is loaded."""

    seconds: float
    warmup: float
    connections: int
    workers: int
    workdir: Path
    rounds: int = 2

    def measure(self, server: Server, endpoint: Endpoint, warm: bool = True) -> Result:
        """One round of one endpoint on ``server``, after a warm-up when ``warm``."""
        return measure(
            server,
            endpoint,
            self.seconds / self.rounds,
            self.warmup if warm else 0,
            self.connections,
            self.workdir,
        )


@dataclass
class Runs:
    """Every endpoint's rounds combined, in the order they first ran."""

    results: dict[str, Result] = field(default_factory=dict)
    # How far a baseline's rounds were apart (max - min over mean req/s): the machine's steadiness.
    spreads: dict[str, float] = field(default_factory=dict)

    def add(self, rounds: list[Result]) -> Result:
        """Combine an endpoint's rounds and keep them."""
        result = combine(rounds)
        self.results[result.label] = result
        # A round of a few slow requests says little about steadiness: count those with some.
        steady = min(r.requests for r in rounds) >= STEADY_REQUESTS
        if len(rounds) > 1 and steady and result.label.startswith("baseline: "):
            rates = [r.rps for r in rounds]
            self.spreads[result.label] = (max(rates) - min(rates)) / (sum(rates) / len(rates))
        print(f"  measured {result.label}: {result.rps:.0f} req/s", flush=True)
        return result


def run_pairs(ours: Server, baseline: Server, pairs: list[Pair], settings: Settings, runs: Runs):
    """Baseline and endpoints in alternating rounds, so both see the same machine.

    Consecutive pairs that share a baseline (GET instance and drift) form one group; each round
    loads the group's baseline, then each of its endpoints, for seconds / rounds each, the first
    round after a warm-up.
    """
    groups: list[list[Pair]] = []
    for pair in pairs:
        if groups and groups[-1][0].baseline.label == pair.baseline.label:
            groups[-1].append(pair)
        else:
            groups.append([pair])
    for group in groups:
        endpoints = [(baseline, group[0].baseline)] + [(ours, pair.ours) for pair in group]
        rounds: dict[str, list[Result]] = {endpoint.label: [] for _, endpoint in endpoints}
        for number in range(settings.rounds):
            for server, endpoint in endpoints:
                rounds[endpoint.label].append(settings.measure(server, endpoint, number == 0))
        for label_rounds in rounds.values():
            runs.add(label_rounds)


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


def _cpu(result: Result) -> str:
    cpu = result.cpu_ms_per_request
    return "n/a" if cpu is None else f"{cpu:.2f}"


def print_runs(runs: Runs, sizes: dict[str, int]) -> None:
    """Every measured endpoint in the order it first ran, its rounds combined."""
    header = (
        f"{'run':<40} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'CPU ms/req':>10} "
        f"{'errors':>6} {'restarts':>8} {'bytes':>7}"
    )
    print(header)
    print("-" * len(header))
    for result in runs.results.values():
        size = sizes.get(result.label)
        print(
            f"{result.label:<40} {result.rps:>8.1f} {result.p50_ms:>7.2f} {result.p99_ms:>7.2f} "
            f"{_cpu(result):>10} {result.errors:>6d} {result.worker_restarts:>8d} "
            f"{'' if size is None else f'{size:,}':>7}"
        )
    if runs.spreads:
        worst = max(runs.spreads, key=runs.spreads.get)
        print(
            f"steadiness: a baseline's rounds differ by up to {runs.spreads[worst]:.0%} "
            f"({worst}); p50 is the rounds' request-weighted mean, p99 the highest round's"
        )


def verdict(ratio: float, goal: float | None, needed_rps: float) -> str:
    """'met', or how far short the ratio is of the goal."""
    if goal is None:
        return "no goal set"
    if ratio >= goal:
        return "met"
    return f"NOT met: {(goal - ratio) * 100:.0f} points short ({needed_rps:.0f} req/s more)"


def print_ratios(pairs: list[Pair], runs: Runs, checked: dict) -> list[str]:
    """Each endpoint against its own baseline; returns the endpoints whose goal is not met."""
    header = (
        f"{'endpoint':<26} {'baseline':<24} {'ratio':>6} {'CPU ratio':>9} {'goal':>6}  "
        f"{'JSON':<10} verdict"
    )
    print(header)
    print("-" * (len(header) + 40))
    missed = []
    for pair in pairs:
        ours, base = runs.results[pair.ours.label], runs.results[pair.baseline.label]
        ratio = ours.rps / base.rps if base.rps else 0.0
        cpu_ratio = ""
        if ours.cpu_ms_per_request and base.cpu_ms_per_request:
            cpu_ratio = f"{base.cpu_ms_per_request / ours.cpu_ms_per_request:.0%}"
        text = verdict(ratio, pair.goal, (pair.goal or 0) * base.rps - ours.rps)
        if pair.goal is not None and ratio < pair.goal:
            missed.append(pair.ours.label)
        goal = f">={pair.goal:.0%}" if pair.goal is not None else "-"
        print(
            f"{pair.ours.label:<26} {pair.baseline.label.removeprefix('baseline: '):<24} "
            f"{ratio:>6.0%} {cpu_ratio:>9} {goal:>6}  {checked[pair.ours.label][0]:<10} {text}"
        )
    print(
        "ratio: req/s over the baseline's, measured in alternating rounds; CPU ratio: the "
        "baseline's server CPU per request over ours (what the ratio tends to where CPU is the "
        "bottleneck, and steadier when other jobs share the machine)"
    )
    return missed


def print_growth(cases: list[Growth], runs: Runs) -> list[str]:
    """Each larger case against its smaller one, ours and the baseline's; returns the misses."""
    print(f"{'':<44} {'req/s':>8} {'req/s':>8} {'p50 ms':>7} {'p50 ms':>7} {'':>6} {'baseline':>8}")
    header = (
        f"{'growth':<44} {'smaller':>8} {'larger':>8} {'smaller':>7} {'larger':>7} "
        f"{'cost x':>6} {'cost x':>8}  goal <= {GROWTH_GOAL:g}x"
    )
    print(header)
    print("-" * len(header))
    missed = []
    for case in cases:
        by_label = runs.results
        small, large = by_label[case.small.ours.label], by_label[case.large.ours.label]
        cost = small.rps / large.rps if large.rps else float("inf")
        base_small = by_label[case.small.baseline.label]
        base_large = by_label[case.large.baseline.label]
        base_cost = base_small.rps / base_large.rps if base_large.rps else float("inf")
        met = cost <= GROWTH_GOAL
        if not met:
            missed.append(case.label)
        print(
            f"{case.label:<44} {small.rps:>8.1f} {large.rps:>8.1f} {small.p50_ms:>7.2f} "
            f"{large.p50_ms:>7.2f} {cost:>6.2f} {base_cost:>8.2f}  "
            f"{'met' if met else f'NOT met ({cost / GROWTH_GOAL:.1f} times over)'}"
        )
    print(
        "cost x: the smaller case's req/s over the larger's, how many times more a request of "
        "the larger case costs; baseline: the same for the baselines (the database's share)"
    )
    return missed


def _admin_url() -> str:
    return os.environ.get("COMBINE_BENCH_POSTGRES_URL") or os.environ.get(
        "COMBINE_TEST_POSTGRES_URL", DEFAULT_ADMIN_URL
    )


def _ready(admin_url: str) -> bool:
    if shutil.which("wrk") is None:
        print(
            "bench_api needs wrk, the HTTP load generator, and it is not installed.\n"
            "Install it with:  apt-get install wrk   (Debian/Ubuntu; 'brew install wrk' on macOS)",
            file=sys.stderr,
        )
        return False
    try:
        psycopg2.connect(postgres_dsn(admin_url), connect_timeout=5).close()
    except psycopg2.Error as error:
        print(f"bench_api needs PostgreSQL at {admin_url}: {error}".strip(), file=sys.stderr)
        print("Set COMBINE_BENCH_POSTGRES_URL to a maintenance database URL.", file=sys.stderr)
        return False
    return True


def report(settings: Settings, runs: Runs, pairs, cases, checked, load_before: float) -> None:
    """The three tables: every run, each endpoint against its baseline, growth."""
    sizes = {}
    for pair in [*pairs, *(p for case in cases for p in (case.small, case.large))]:
        _, sizes[pair.ours.label], sizes[pair.baseline.label] = checked[pair.ours.label]
    print()
    print(
        f"bench_api: {settings.workers} workers, {settings.connections} connections, "
        f"{settings.seconds:g} s per endpoint in {settings.rounds} rounds; load average "
        f"{load_before:.2f} before the runs, {os.getloadavg()[0]:.2f} after, {os.cpu_count()} CPUs"
    )
    print_runs(runs, sizes)
    print()
    missed = print_ratios(pairs, runs, checked)
    print()
    missed += print_growth(cases, runs)
    print()
    print(
        "Goals met: all." if not missed else f"Goals not met ({len(missed)}): {'; '.join(missed)}."
    )


def bench(
    env: dict, database_url: str, settings: Settings, servers: list[Server], only: str = ""
) -> bool:
    """Serve both apps, build the data, check the baselines, measure, report; True if clean.

    With ``only``, just the endpoints whose label holds it, and the growth cases of those.
    """
    started = time.monotonic()
    run_flask(env, "db", "upgrade", timeout=300)
    ours = Server("combine", "wsgi:app", env, settings.workers, settings.workdir)
    servers.append(ours)
    baseline = Server(
        "baseline", "benchmarks.baseline_app:app", env, settings.workers, settings.workdir
    )
    servers.append(baseline)
    ours.wait_until_healthy()
    baseline.wait_until_healthy()
    scene = build_scene(env, database_url, ours.port)
    pairs = pairs_for(scene)
    cases = growth_cases(scene, pairs)
    if only:
        pairs = [pair for pair in pairs if only in pair.ours.label]
        cases = [
            case
            for case in cases
            if only in case.small.ours.label and only in case.large.ours.label
        ]
    main_labels = {pair.ours.label for pair in pairs}
    growth_pairs = [
        pair
        for case in cases
        for pair in (case.small, case.large)
        if pair.ours.label not in main_labels
    ]
    checked = check_baselines(ours, baseline, pairs + growth_pairs)
    load_before = os.getloadavg()[0]
    print(
        f"bench_api: database ready in {time.monotonic() - started:.1f} s, every baseline "
        f"answers the JSON its endpoint answers. wrk, 1 thread, {settings.connections} "
        f"connections, {settings.seconds:g} s per endpoint in {settings.rounds} rounds "
        f"alternating with its baseline, {settings.warmup:g} s warm-up; gunicorn.conf.py with "
        f"{settings.workers} sync workers each; load average {load_before:.2f}",
        flush=True,
    )
    runs = Runs()
    run_pairs(ours, baseline, pairs + growth_pairs, settings, runs)
    report(settings, runs, pairs, cases, checked, load_before)
    if any(result.errors for result in runs.results.values()):
        print("WARNING: some requests failed (non-2xx or socket errors); see the table.")
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    """Run the API benchmark; returns the process exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 s per endpoint instead of 6 s")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (default 4)")
    parser.add_argument(
        "--connections", type=int, default=None, help="wrk connections (default 2 per worker)"
    )
    parser.add_argument(
        "--rounds", type=int, default=2, help="alternations with the baseline (default 2)"
    )
    parser.add_argument(
        "--only",
        default="",
        help='measure only the endpoints whose label holds this text, e.g. "GET projects"',
    )
    args = parser.parse_args(argv)
    admin_url = _admin_url()
    if not _ready(admin_url):
        return 2

    # A TERM (a CI timeout, kill) must still stop the servers and drop the database below.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    database_url = create_database(admin_url, prefix="combine_bench")
    servers: list[Server] = []
    workdir = Path(tempfile.mkdtemp(prefix="combine-bench-"))
    seconds, warmup = (2, 1) if args.quick else (6, 1)
    settings = Settings(
        seconds,
        warmup,
        connections=args.connections or 2 * args.workers,
        workers=args.workers,
        workdir=workdir,
        rounds=max(1, args.rounds),
    )
    env = {
        **os.environ,
        "COMBINE_ENV": "production",
        "SECRET_KEY": SECRET_KEY,
        "DATABASE_URL": database_url,
    }
    clean = False
    try:
        clean = bench(env, database_url, settings, servers, args.only)
    finally:
        for server in servers:
            server.stop()
        if not clean:
            for server in servers:
                print(f"--- {server.name} log tail ---\n{server.log()[-3000:]}", file=sys.stderr)
        drop_database(admin_url, database_url)
        shutil.rmtree(workdir, ignore_errors=True)
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
