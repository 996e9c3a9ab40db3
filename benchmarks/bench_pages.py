"""The HTML pages against their JSON counterparts, from outside, in the same run.

``python -m benchmarks.bench_pages [--quick]`` creates a throwaway PostgreSQL database, migrates
it and serves Combine with gunicorn.conf.py and 2 sync workers. Data: 100 projects (seeded by
benchmarks/seed.py) each given software_product_development 1.0.0 over the API and edited once
(a prompt changed, two steps swapped, the description changed), and one project whose workflow
has 1,000 steps (a release written to a copy of combine-config), edited the same way. A browser
signs in through /login with the page's CSRF token and keeps its session cookie; the JSON side
is an API client with a bearer token. One request at a time, each on a fresh connection, every
page alternates with its JSON counterpart in rounds; the server CPU of each round is read from
/proc (the arbiter and its workers, as bench_api reads it). It prints each run's median and p90
wall time, CPU per request and size, each page's ratio to its JSON counterpart with the goal
and whether it is met, and each page's p90 over its median. ``--quick``: 30 projects, 200
steps, shorter rounds. Servers are stopped and the database dropped whatever happens.

The PostgreSQL server is ``COMBINE_BENCH_POSTGRES_URL``, else ``COMBINE_TEST_POSTGRES_URL``,
else ``postgresql://postgres@127.0.0.1:5432/test`` (the bench makes and drops its own database).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg2

from benchmarks.bench_revisions import thousand_step_definition
from benchmarks.load import Server
from benchmarks.seed import postgres_dsn, seed_projects
from combine_app.definition.editing import path_key
from tests.support.databases import DEFAULT_ADMIN_URL, create_database, drop_database
from tests.support.form_session import FormSession, form_fields, multipart_body
from tests.support.served import REPO_ROOT, call, run_flask

SECRET_KEY = "bench-secret-key-not-for-production"  # noqa: S105  (a throwaway local server)
PASSWORD = "bench-pass-123"  # noqa: S105  (a throwaway local user)
USERNAME = "bench"
WORKERS = 2
LIST_ROWS = 25  # the list page's page size (web/projects.PAGE_SIZE)
REAL_WORKFLOW, REAL_VERSION = "software_product_development", "1.0.0"
LARGE_WORKFLOW, LARGE_VERSION = "bench_thousand", "1.0.0"
SEED_PREFIX = "PG"
PAGE_GOAL, EDITOR_GOAL, ACTION_GOAL, TAIL_GOAL = 2.0, 3.0, 2.0, 1.5


@dataclass
class Call:
    """One request a side sends again and again: a page (signed in) or its JSON (a token)."""

    label: str
    method: str
    path: str
    browser: bool
    headers: dict = field(default_factory=dict)
    # Sent in turn, one per request; a round sends a multiple of their number, so a PUT that
    # moves a step and the one that moves it back always come in pairs.
    bodies: tuple[bytes | None, ...] = (None,)
    # Made afresh before each round (the editor's form must carry the current revision).
    refresh: Callable[[], tuple[bytes | None, ...]] | None = None


@dataclass
class Pair:
    """A page, its JSON counterpart, and the goal: the page's CPU at most ``goal`` times."""

    name: str
    page: Call
    json: Call
    goal: float


@dataclass
class Run:
    """Every request of one side: wall times, the server CPU of its rounds, the answer's size."""

    label: str
    walls: list[float] = field(default_factory=list)
    cpu_seconds: float | None = 0.0
    bytes: int = 0

    @property
    def median_ms(self) -> float:
        """The median wall time of a request, in ms."""
        return statistics.median(self.walls) * 1000

    @property
    def p90_ms(self) -> float:
        """The 90th percentile of the wall times, in ms (nearest rank)."""
        ordered = sorted(self.walls)
        return ordered[max(0, -(-9 * len(ordered) // 10) - 1)] * 1000

    @property
    def cpu_ms(self) -> float | None:
        """Server CPU per request, in ms (the workers' and the arbiter's, from /proc)."""
        if self.cpu_seconds is None or not self.walls:
            return None
        return self.cpu_seconds / len(self.walls) * 1000


@dataclass
class Settings:
    """How much data and how many requests."""

    projects: int
    steps: int
    rounds: int
    seconds: float  # per side and pair, over all rounds
    warmup: int
    min_requests: int
    max_requests: int
    workdir: Path


@dataclass
class Scene:
    """What the setup made and the clients that ask."""

    browser: FormSession
    client: FormSession
    token: str
    large_key: str
    large_definition: dict
    moved_at: int
    action: dict = field(default_factory=dict)  # the editor action's post: sizes and fields


class Bench:
    """One served app, its two clients and the runs measured so far."""

    def __init__(self, server: Server, scene: Scene, settings: Settings):
        self.server, self.scene, self.settings = server, scene, settings
        self.runs: dict[str, Run] = {}

    def send(self, call: Call, body: bytes | None) -> tuple[float, int, str]:
        """One request; its wall time, the answer's size and text. Raises unless 200."""
        client = self.scene.browser if call.browser else self.scene.client
        started = time.perf_counter()
        status, headers, text = client.request(
            call.method, call.path, headers=call.headers, body=body
        )
        wall = time.perf_counter() - started
        if status != 200:
            raise RuntimeError(
                f"{call.label}: {call.method} {call.path} answered {status}: {text[:500]}"
            )
        return wall, int(headers.get("Content-Length") or len(text.encode())), text

    def round(self, call: Call, count: int) -> None:
        """``count`` requests of ``call`` one after the other, and the server CPU they cost."""
        if call.refresh is not None:
            call.bodies = call.refresh()
        count = -(-count // len(call.bodies)) * len(call.bodies)
        run = self.runs.setdefault(call.label, Run(call.label))
        cpu_before = self.server.cpu_seconds()
        for number in range(count):
            wall, size, _ = self.send(call, call.bodies[number % len(call.bodies)])
            run.walls.append(wall)
            run.bytes = size
        cpu_after = self.server.cpu_seconds()
        if None in (cpu_before, cpu_after, run.cpu_seconds):
            run.cpu_seconds = None
        else:
            run.cpu_seconds += cpu_after - cpu_before

    def measure(self, pair: Pair) -> None:
        """Warm up both sides, then rounds alternating page and JSON (which goes first too)."""
        settings = self.settings
        slowest = 0.0
        for side in (pair.page, pair.json):
            if side.refresh is not None:
                side.bodies = side.refresh()
            for number in range(settings.warmup * len(side.bodies)):
                wall = self.send(side, side.bodies[number % len(side.bodies)])[0]
                slowest = max(slowest, wall)
        per_round = round(settings.seconds / settings.rounds / max(slowest, 1e-3))
        per_round = max(settings.min_requests, min(settings.max_requests, per_round))
        for number in range(settings.rounds):
            order = (pair.page, pair.json) if number % 2 == 0 else (pair.json, pair.page)
            for side in order:
                self.round(side, per_round)
        page, answer = self.runs[pair.page.label], self.runs[pair.json.label]
        print(
            f"  measured {pair.name}: {page.median_ms:.1f} ms against {answer.median_ms:.1f} ms "
            f"({len(page.walls)} and {len(answer.walls)} requests)",
            flush=True,
        )


def _check(answer: tuple, what: str, expected: int = 200):
    status, _, body = answer
    if status != expected:
        raise RuntimeError(f"{what}: expected {expected}, got {status}: {str(body)[:500]}")
    return body


def _copy(definition: dict) -> dict:
    return json.loads(json.dumps(definition))


def edited(definition: dict, tag: str) -> dict:
    """The definition with its first step's prompt changed, its first two steps swapped and
    its description changed: a save that modifies, moves and edits metadata."""
    copy = _copy(definition)
    copy["description"] = f"{copy.get('description') or ''} (edited: {tag})"
    steps = copy["steps"]
    steps[0]["task_prompt"] = f"{steps[0].get('task_prompt', '')} (edited: {tag})"
    steps[0], steps[1] = steps[1], steps[0]
    return copy


def edited_large(definition: dict) -> dict:
    """The large definition with every hundredth step's prompt changed and two steps swapped
    a quarter of the way down."""
    copy = _copy(definition)
    steps = copy["steps"]
    for step in steps[::100]:
        step["task_prompt"] = f"{step['task_prompt']} (edited)"
    quarter = len(steps) // 4
    steps[quarter], steps[quarter + 1] = steps[quarter + 1], steps[quarter]
    return copy


def moved_down(definition: dict, index: int) -> dict:
    """The definition with step ``index`` moved one place down, as the editor's Down does."""
    copy = _copy(definition)
    steps = copy["steps"]
    steps[index], steps[index + 1] = steps[index + 1], steps[index]
    return copy


def write_config(folder: Path, steps: int) -> None:
    """A copy of combine-config with a release of ``steps`` steps (bench_thousand 1.0.0)."""
    shutil.copytree(REPO_ROOT / "combine-config", folder)
    release = folder / "workflows" / LARGE_WORKFLOW / "releases" / LARGE_VERSION
    release.mkdir(parents=True)
    (release / "definition.json").write_text(json.dumps(thousand_step_definition(steps)))


def _assign_and_edit(port: int, token: str, key: str, workflow: tuple, edit) -> dict:
    """Give the project its instance over the API, then save one edit of it; the saved one."""
    instance = _check(
        call(
            port,
            "POST",
            f"/api/v1/projects/{key}/workflow",
            token=token,
            body={"workflow_id": workflow[0], "version": workflow[1]},
        ),
        f"assign {workflow[0]} to {key}",
        201,
    )
    return _check(
        call(
            port,
            "PUT",
            f"/api/v1/projects/{key}/workflow",
            token=token,
            body={"effective_workflow": edit(instance["effective_workflow"])},
        ),
        f"edit the workflow of {key}",
    )


def build_scene(env: dict, database_url: str, port: int, settings: Settings) -> Scene:
    """The user and token as an operator makes them, projects seeded, workflows over HTTP."""
    run_flask(env, "users", "create", USERNAME, "--password-stdin", stdin=PASSWORD + "\n")
    token = run_flask(env, "tokens", "create", USERNAME).strip().splitlines()[-1]
    seed_projects(database_url, USERNAME, settings.projects, SEED_PREFIX)
    for number in range(1, settings.projects + 1):
        key = f"{SEED_PREFIX}-{number:06d}"
        _assign_and_edit(
            port, token, key, (REAL_WORKFLOW, REAL_VERSION), lambda d, n=number: edited(d, f"{n}")
        )
    project = _check(
        call(port, "POST", "/api/v1/projects", token=token, body={"name": "A thousand steps"}),
        "create the large project",
        201,
    )
    large = _assign_and_edit(
        port, token, project["project_id"], (LARGE_WORKFLOW, LARGE_VERSION), edited_large
    )
    browser = FormSession(port)
    if browser.sign_in(USERNAME, PASSWORD) != 302:
        raise RuntimeError("signing in through /login failed")
    return Scene(
        browser=browser,
        client=FormSession(port),
        token=token,
        large_key=project["project_id"],
        large_definition=large["effective_workflow"],
        moved_at=settings.steps // 2,
    )


def _current_revision(bench: Bench) -> int:
    key = bench.scene.large_key
    status, _, answer = call(
        bench.server.port, "GET", f"/api/v1/projects/{key}/workflow", token=bench.scene.token
    )
    return _check((status, None, answer), "read the large instance")["revision"]


def editor_action(bench: Bench, label: str) -> Call:
    """The editor's Down button of the middle step, posted without JavaScript: every control
    of the form as the editor page drew it, the working copy at the current revision (made
    afresh before each round, since the PUTs it alternates with move the revision on).

    Checked once: the answer must say the step moved.
    """
    scene = bench.scene
    path = f"/projects/{scene.large_key}/workflow/edit"
    _, _, page = bench.send(Call("editor", "GET", path, browser=True), None)
    fields = form_fields(page)
    fields["op"] = f"down:{path_key((scene.moved_at,))}"
    action = Call(label, "POST", path, browser=True)

    def post() -> tuple[bytes | None, ...]:
        fields["revision"] = str(_current_revision(bench))
        body, content_type = multipart_body(list(fields.items()))
        action.headers["Content-Type"] = content_type
        scene.action = {"fields": len(fields), "bytes": len(body)}
        return (body,)

    action.refresh = post
    (body,) = post()
    reply = bench.send(action, body)[2]
    step_id = scene.large_definition["steps"][scene.moved_at]["step_id"]
    if f"Moved step {step_id} down" not in reply:
        raise RuntimeError(f"the editor's Down on {step_id} did not say it moved the step")
    return action


def pairs_for(bench: Bench) -> list[Pair]:
    """The pages and their JSON counterparts, in the order they are measured (PUT last: it
    changes the instance the others read)."""
    scene = bench.scene
    key, steps = scene.large_key, bench.settings.steps
    auth = {"Authorization": f"Bearer {scene.token}"}
    workflow = f"/api/v1/projects/{key}/workflow"

    def page(label: str, path: str) -> Call:
        return Call(f"page: {label}", "GET", path, browser=True)

    def answer(label: str, path: str) -> Call:
        return Call(f"JSON: {label}", "GET", path, browser=False, headers=auth)

    get_workflow = answer("GET workflow", workflow)
    moved = moved_down(scene.large_definition, scene.moved_at)
    put_bodies = tuple(
        json.dumps({"effective_workflow": definition}).encode()
        for definition in (moved, scene.large_definition)
    )
    return [
        Pair(
            f"project list ({LIST_ROWS} rows)",
            page(f"project list ({LIST_ROWS} rows)", "/projects"),
            answer(f"GET projects?limit={LIST_ROWS}", f"/api/v1/projects?limit={LIST_ROWS}"),
            PAGE_GOAL,
        ),
        Pair(
            f"project page, {steps:,} steps",
            page(f"project, {steps:,} steps", f"/projects/{key}"),
            get_workflow,
            PAGE_GOAL,
        ),
        Pair(
            f"editor, {steps:,} steps",
            page(f"editor, {steps:,} steps", f"/projects/{key}/workflow/edit"),
            get_workflow,
            EDITOR_GOAL,
        ),
        Pair(
            f"drift page, {steps:,} steps",
            page(f"drift, {steps:,} steps", f"/projects/{key}/workflow/drift"),
            answer("GET drift", f"{workflow}/drift"),
            PAGE_GOAL,
        ),
        Pair(
            "compare page, 1 -> current",
            page("compare 1 -> current", f"/projects/{key}/workflow/compare?from=1&to=current"),
            answer("GET compare 1 -> current", f"{workflow}/compare?from=1&to=current"),
            PAGE_GOAL,
        ),
        Pair(
            f"editor action (Down), {steps:,} steps",
            editor_action(bench, f"page: editor action (Down), {steps:,} steps"),
            Call(
                "JSON: PUT workflow (a step moved)",
                "PUT",
                workflow,
                browser=False,
                headers={**auth, "Content-Type": "application/json"},
                bodies=put_bodies,
            ),
            ACTION_GOAL,
        ),
    ]


def _ratio(ours: float | None, theirs: float | None) -> float | None:
    return ours / theirs if ours is not None and theirs else None


def _times(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def print_runs(bench: Bench) -> None:
    """Every side measured, in the order it first ran."""
    header = (
        f"{'run':<46} {'requests':>8} {'median ms':>9} {'p90 ms':>8} {'CPU ms/req':>10} "
        f"{'bytes':>11}"
    )
    print(header)
    print("-" * len(header))
    for run in bench.runs.values():
        cpu = run.cpu_ms
        print(
            f"{run.label:<46} {len(run.walls):>8d} {run.median_ms:>9.2f} {run.p90_ms:>8.2f} "
            f"{'n/a' if cpu is None else f'{cpu:.2f}':>10} {run.bytes:>11,}"
        )
    action = bench.scene.action
    print(
        f"editor action: the post is {action['bytes']:,} bytes in {action['fields']:,} fields "
        "(multipart/form-data, every control of the editor form); the reply's size is its "
        "row's bytes"
    )


def print_ratios(bench: Bench, pairs: list[Pair]) -> list[str]:
    """Each page against its JSON counterpart; returns the pages whose goal is not met."""
    header = (
        f"{'page':<36} {'JSON counterpart':<34} {'median x':>8} {'CPU x':>6} {'goal':>6}  verdict"
    )
    print(header)
    print("-" * (len(header) + 20))
    missed = []
    for pair in pairs:
        page, answer = bench.runs[pair.page.label], bench.runs[pair.json.label]
        wall = _ratio(page.median_ms, answer.median_ms)
        cpu = _ratio(page.cpu_ms, answer.cpu_ms)
        judged = cpu if cpu is not None else wall
        met = judged <= pair.goal
        if not met:
            missed.append(pair.name)
        print(
            f"{pair.name:<36} {pair.json.label.removeprefix('JSON: '):<34} {_times(wall):>8} "
            f"{_times(cpu):>6} {f'<={pair.goal:g}x':>6}  "
            f"{'met' if met else f'NOT met ({judged / pair.goal:.1f} times over)'}"
        )
    print(
        "median x: the page's median wall time over its counterpart's; CPU x: the page's server "
        "CPU per request over its counterpart's (the goal's measure; median x where /proc is "
        "not there)"
    )
    return missed


def print_tails(bench: Bench, pairs: list[Pair]) -> list[str]:
    """Each page's p90 over its median; returns the pages past the goal."""
    header = f"{'page':<36} {'median ms':>9} {'p90 ms':>8} {'p90 x':>6} {'goal':>6}  verdict"
    print(header)
    print("-" * len(header))
    missed = []
    for pair in pairs:
        page = bench.runs[pair.page.label]
        tail = page.p90_ms / page.median_ms
        met = tail <= TAIL_GOAL
        if not met:
            missed.append(f"{pair.name} (p90)")
        print(
            f"{pair.name:<36} {page.median_ms:>9.2f} {page.p90_ms:>8.2f} {tail:>6.2f} "
            f"{f'<={TAIL_GOAL:g}x':>6}  "
            f"{'met' if met else f'NOT met ({tail / TAIL_GOAL:.1f} times over)'}"
        )
    return missed


def report(bench: Bench, pairs: list[Pair], load_before: float) -> None:
    """The three tables: every run, each page against its JSON, each page's tail."""
    settings = bench.settings
    print()
    print(
        f"bench_pages: {WORKERS} workers, one request at a time, {settings.rounds} rounds "
        f"alternating each page with its JSON counterpart; {settings.projects} edited projects "
        f"and one of {settings.steps:,} steps; load average {load_before:.2f} before the runs, "
        f"{os.getloadavg()[0]:.2f} after, {os.cpu_count()} CPUs"
    )
    print_runs(bench)
    print()
    missed = print_ratios(bench, pairs)
    print()
    missed += print_tails(bench, pairs)
    print()
    print(
        "Goals met: all." if not missed else f"Goals not met ({len(missed)}): {'; '.join(missed)}."
    )


def bench(env: dict, database_url: str, settings: Settings, servers: list[Server]) -> None:
    """Serve the app, build the data, measure each pair, report."""
    started = time.monotonic()
    run_flask(env, "db", "upgrade", timeout=300)
    server = Server("combine", "wsgi:app", env, WORKERS, settings.workdir)
    servers.append(server)
    server.wait_until_healthy()
    scene = build_scene(env, database_url, server.port, settings)
    runner = Bench(server, scene, settings)
    pairs = pairs_for(runner)
    load_before = os.getloadavg()[0]
    print(
        f"bench_pages: data ready in {time.monotonic() - started:.1f} s; signed in through "
        f"/login; {settings.rounds} rounds of about {settings.seconds / settings.rounds:g} s a "
        f"side after {settings.warmup} warm-up requests; load average {load_before:.2f}",
        flush=True,
    )
    for pair in pairs:
        runner.measure(pair)
    report(runner, pairs, load_before)


def _admin_url() -> str:
    return os.environ.get("COMBINE_BENCH_POSTGRES_URL") or os.environ.get(
        "COMBINE_TEST_POSTGRES_URL", DEFAULT_ADMIN_URL
    )


def _ready(admin_url: str) -> bool:
    try:
        psycopg2.connect(postgres_dsn(admin_url), connect_timeout=5).close()
    except psycopg2.Error as error:
        print(f"bench_pages needs PostgreSQL at {admin_url}: {error}".strip(), file=sys.stderr)
        print("Set COMBINE_BENCH_POSTGRES_URL to a maintenance database URL.", file=sys.stderr)
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    """Run the pages benchmark; returns the process exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="30 projects, 200 steps, 2 short rounds"
    )
    parser.add_argument("--projects", type=int, help="edited projects (default 100)")
    parser.add_argument("--steps", type=int, help="steps of the large workflow (default 1,000)")
    parser.add_argument("--rounds", type=int, help="alternations of page and JSON (default 4)")
    parser.add_argument("--seconds", type=float, help="per side and pair (default 12)")
    args = parser.parse_args(argv)
    admin_url = _admin_url()
    if not _ready(admin_url):
        return 2
    quick = args.quick
    workdir = Path(tempfile.mkdtemp(prefix="combine-bench-pages-"))
    settings = Settings(
        projects=max(LIST_ROWS, args.projects or (30 if quick else 100)),
        steps=max(10, args.steps or (200 if quick else 1_000)),
        rounds=max(1, args.rounds or (2 if quick else 4)),
        seconds=args.seconds or (1.0 if quick else 12.0),
        warmup=1 if quick else 3,
        min_requests=3 if quick else 10,
        max_requests=200,
        workdir=workdir,
    )
    # A TERM (a CI timeout, kill) must still stop the server and drop the database below.
    on_term = signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    database_url = create_database(admin_url, prefix="combine_bench_pages")
    config = workdir / "combine-config"
    write_config(config, settings.steps)
    env = {
        **os.environ,
        "COMBINE_ENV": "production",
        "SECRET_KEY": SECRET_KEY,
        "DATABASE_URL": database_url,
        "COMBINE_CONFIG_DIR": str(config),
        "SESSION_COOKIE_SECURE": "0",
    }
    servers: list[Server] = []
    clean = False
    try:
        bench(env, database_url, settings, servers)
        clean = True
    except RuntimeError as error:  # a refused request or a failed setup step: say which
        print(f"bench_pages failed: {error}", file=sys.stderr)
    finally:
        for server in servers:
            server.stop()
        if not clean:
            for server in servers:
                print(f"--- {server.name} log tail ---\n{server.log()[-3000:]}", file=sys.stderr)
        drop_database(admin_url, database_url)
        shutil.rmtree(workdir, ignore_errors=True)
        signal.signal(signal.SIGTERM, on_term)
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
