"""Benchmark the structural diff and drift against json.loads and DeepDiff (run with -m)."""

from __future__ import annotations

import argparse
import json
import multiprocessing
import queue
import random
import sys
import time
import timeit
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from combine_app.workflows.diff import content_hash, diff_definitions, drift

SIZES = (10, 100, 1_000, 10_000)
QUICK_SIZES = (10, 100, 1_000)
SHAPES = ("flat", "nested")
CHILDREN_PER_LOOP = 5
REPEATS = 5
DEEPDIFF_LIMIT_S = 20.0
# CPU time of this process: steadier than wall time on a shared machine, same on an idle one.
CLOCK = time.process_time
PLOT_PATH = Path(__file__).resolve().parent / "diff_scaling.png"
ROLES = ("Technical Architect 1.0", "Project Manager 1.0", "Business Analyst 1.0", "Developer 1.0")


@dataclass
class Case:
    """One benchmark input: a definition, its edited copy and the step ids the edit changed."""

    steps: int
    shape: str
    old: dict[str, Any]
    new: dict[str, Any]
    added: set[str]
    removed: set[str]


@dataclass
class Row:
    """Measured times for one case, in seconds per call (None: not measured)."""

    case: Case
    ours: float
    drift: float
    parse: float
    deepdiff: float | None
    deepdiff_note: str
    agree: bool


def make_step(number: int, rng: random.Random) -> dict[str, Any]:
    """Build a realistic step that reads a few documents produced by earlier steps."""
    sources = rng.sample(range(number), min(number, rng.randint(0, 3)))
    return {
        "step_id": f"step_{number:05d}",
        "role": rng.choice(ROLES),
        "task_prompt": f"Task {number} v1.0",
        "produces": f"doc_{number}",
        "scope": "project",
        "inputs": [{"doc_type": f"doc_{s}", "scope": "project"} for s in sorted(sources)],
    }


def build_definition(count: int, shape: str, seed: int = 1) -> dict[str, Any]:
    """Build a definition of count steps; nested: iteration steps with 5 children each."""
    rng = random.Random(seed)
    steps: list[dict[str, Any]] = []
    number = 0
    while number < count:
        if shape == "nested" and count - number > CHILDREN_PER_LOOP:
            children = [make_step(number + 1 + k, rng) for k in range(CHILDREN_PER_LOOP)]
            steps.append(
                {
                    "step_id": f"per_item_{number:05d}",
                    "iterate_over": {
                        "doc_type": f"doc_{max(number - 1, 0)}",
                        "entity_type": "item",
                    },
                    "scope": "item",
                    "steps": children,
                }
            )
            number += 1 + CHILDREN_PER_LOOP
        else:
            steps.append(make_step(number, rng))
            number += 1
    return {
        "schema_version": "workflow.v2",
        "workflow_id": "bench",
        "name": "Benchmark workflow",
        "description": f"{count} steps, {shape}",
        "pow_class": "reference",
        "derived_from": None,
        "tags": ["benchmark"],
        "scopes": {"project": {"parent": None}, "item": {"parent": "project"}},
        "steps": steps,
    }


def step_lists(definition: dict[str, Any]) -> list[list[dict[str, Any]]]:
    """Return every list of steps in the definition (top level first), walked iteratively."""
    lists, pending = [], [definition["steps"]]
    while pending:
        current = pending.pop()
        lists.append(current)
        pending.extend(s["steps"] for s in current if s.get("steps"))
    return lists


def pick_leaf(lists: list[list[dict[str, Any]]], rng: random.Random) -> tuple[list, int]:
    """Pick a step without nested steps: its list and its index there."""
    while True:
        siblings = rng.choice(lists)
        if siblings:
            index = rng.randrange(len(siblings))
            if not siblings[index].get("steps"):
                return siblings, index


def edit(old: dict[str, Any], seed: int = 2) -> tuple[dict[str, Any], set[str], set[str]]:
    """Copy a definition and edit it: a few steps added, removed, moved, modified; one metadata."""
    rng = random.Random(seed)
    new = json.loads(json.dumps(old))
    lists = step_lists(new)
    few = max(1, min(3, len(step_lists(old)[0]) // 4))
    removed = set()
    for _ in range(few):
        siblings, index = pick_leaf(lists, rng)
        removed.add(siblings.pop(index)["step_id"])
    for _ in range(few):  # moves, within a list or to another one
        siblings, index = pick_leaf(lists, rng)
        moving = siblings.pop(index)
        target = rng.choice(lists)
        target.insert(rng.randint(0, len(target)), moving)
    for _ in range(few):
        siblings, index = pick_leaf(lists, rng)
        siblings[index]["task_prompt"] += " (edited)"
        siblings[index]["inputs"].append({"doc_type": "doc_0", "scope": "project"})
    added = set()
    for serial in range(few):
        target = rng.choice(lists)
        fresh = make_step(serial, rng) | {"step_id": f"added_{serial}"}
        target.insert(rng.randint(0, len(target)), fresh)
        added.add(fresh["step_id"])
    new["description"] += " (edited)"
    return new, added, removed


def make_case(count: int, shape: str) -> Case:
    """Build the definition and its edited copy for one size and shape."""
    old = build_definition(count, shape)
    new, added, removed = edit(old)
    return Case(count, shape, old, new, added, removed)


def best_time(call: Callable[[], object]) -> float:
    """Return the best seconds per call over several repeats of an autoranged timeit."""
    timer = timeit.Timer(call, timer=CLOCK)
    number, _ = timer.autorange()  # about 0.2 s per repeat
    return min(timer.repeat(repeat=REPEATS, number=number)) / number


def step_ids_in(value: Any) -> Iterator[str]:
    """Yield the step_id of every step found inside a value (walked iteratively)."""
    pending = [value]
    while pending:
        current = pending.pop()
        if isinstance(current, dict):
            if isinstance(current.get("step_id"), str):
                yield current["step_id"]
            pending.extend(current.values())
        elif isinstance(current, list):
            pending.extend(current)


def deepdiff_added_removed(result: dict[str, Any], new: dict[str, Any]) -> tuple[set, set]:
    """Read added and removed step ids out of DeepDiff's positional report."""
    from deepdiff import extract

    # DeepDiff compares lists by position: a step that merely shifted shows up as removed at one
    # index and added at another, or as a changed step_id. Net both sides out.
    added_side, removed_side = set(), set()
    for value in result.get("iterable_item_added", {}).values():
        added_side.update(step_ids_in(value))
    for value in result.get("iterable_item_removed", {}).values():
        removed_side.update(step_ids_in(value))
    for path in result.get("dictionary_item_added", []):
        added_side.update(step_ids_in(extract(new, path)))
    for path, change in result.get("values_changed", {}).items():
        if path.endswith("['step_id']"):
            added_side.add(change["new_value"])
            removed_side.add(change["old_value"])
    return added_side - removed_side, removed_side - added_side


def _deepdiff_worker(old: dict, new: dict, results: multiprocessing.Queue) -> None:
    """Run DeepDiff once in a child process and report its time and result."""
    from deepdiff import DeepDiff

    started = CLOCK()
    result = DeepDiff(old, new, ignore_order=False)
    results.put((CLOCK() - started, result.to_dict()))


def deepdiff_once(case: Case, limit: float) -> tuple[float, dict[str, Any]] | None:
    """Time one DeepDiff call in a child process; None when it runs longer than the limit."""
    results: multiprocessing.Queue = multiprocessing.Queue()
    worker = multiprocessing.Process(target=_deepdiff_worker, args=(case.old, case.new, results))
    worker.start()
    try:
        return results.get(timeout=limit)
    except queue.Empty:  # still running past the limit
        return None
    finally:
        if worker.is_alive():
            worker.terminate()
        worker.join()


def measure_deepdiff(case: Case, previous: Row | None) -> tuple[float | None, str, bool]:
    """Time DeepDiff on the case and check it names the same added and removed steps."""
    outcome = deepdiff_once(case, DEEPDIFF_LIMIT_S)
    if outcome is None:
        earlier = f"{previous.deepdiff:.2f} s/call at {previous.case.steps:,}" if previous else "-"
        return None, f"skipped (too slow: >{DEEPDIFF_LIMIT_S:g} s; {earlier})", True
    single, result = outcome
    added, removed = deepdiff_added_removed(result, case.new)
    agree = added == case.added and removed == case.removed
    if single < 1.0:
        from deepdiff import DeepDiff

        single = best_time(lambda: DeepDiff(case.old, case.new, ignore_order=False))
    return single, "", agree


def measure(case: Case, previous: Row | None) -> Row:
    """Measure ours, drift, json.loads and DeepDiff on one case."""
    diff = diff_definitions(case.old, case.new)
    ours_agree = {e["step_id"] for e in diff.steps_added} == case.added and {
        e["step_id"] for e in diff.steps_removed
    } == case.removed
    base_ref = {"workflow_id": "bench", "version": "1.0.0", "content_hash": content_hash(case.old)}
    text = json.dumps(case.old)
    deepdiff, note, deepdiff_agree = measure_deepdiff(case, previous)
    return Row(
        case=case,
        ours=best_time(lambda: diff_definitions(case.old, case.new)),
        drift=best_time(lambda: drift(case.new, case.old, base_ref, "1.0.0")),
        parse=best_time(lambda: json.loads(text)),
        deepdiff=deepdiff,
        deepdiff_note=note,
        agree=ours_agree and deepdiff_agree,
    )


def print_table(rows: list[Row]) -> None:
    """Print one line per case and the growth from 1,000 to 10,000 steps."""
    header = (
        f"{'steps':>7} {'shape':<7} {'ours µs':>10} {'drift µs':>10} {'json.loads µs':>14} "
        f"{'DeepDiff ms':>12} {'DD/ours':>8} {'ours/json':>10}  added/removed"
    )
    print("CPU seconds per call (time.process_time), best of several timeit repeats")
    print(header)
    print("-" * len(header))
    for row in rows:
        deepdiff = f"{row.deepdiff * 1e3:12.2f}" if row.deepdiff else f"{'-':>12}"
        ratio = f"{row.deepdiff / row.ours:8.0f}" if row.deepdiff else f"{'-':>8}"
        print(
            f"{row.case.steps:>7,} {row.case.shape:<7} {row.ours * 1e6:10.1f} "
            f"{row.drift * 1e6:10.1f} {row.parse * 1e6:14.1f} {deepdiff} {ratio} "
            f"{row.ours / row.parse:10.2f}  {'agree' if row.agree else 'DISAGREE'}"
            f"{'  DeepDiff ' + row.deepdiff_note if row.deepdiff_note else ''}"
        )
    print_growth(rows)


def print_growth(rows: list[Row]) -> None:
    """Print how each time grows from 1,000 to 10,000 steps (10x is linear)."""
    by_key = {(row.case.steps, row.case.shape): row for row in rows}
    for shape in SHAPES:
        small, large = by_key.get((1_000, shape)), by_key.get((10_000, shape))
        if not (small and large):
            continue
        parts = [
            f"ours x{large.ours / small.ours:.1f}",
            f"drift x{large.drift / small.drift:.1f}",
            f"json.loads x{large.parse / small.parse:.1f}",
        ]
        if small.deepdiff and large.deepdiff:
            parts.append(f"DeepDiff x{large.deepdiff / small.deepdiff:.1f}")
        print(f"growth 1,000 -> 10,000 steps ({shape}): " + ", ".join(parts))


def plot(rows: list[Row]) -> None:
    """Write a log-log plot of time against steps, if matplotlib is available."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print(f"plot skipped: matplotlib is not installed ({PLOT_PATH.name} not written)")
        return
    figure, axes = plt.subplots(figsize=(7, 5))
    for shape in SHAPES:
        mine = [r for r in rows if r.case.shape == shape]
        timed = [r for r in mine if r.deepdiff]
        axes.plot(
            [r.case.steps for r in mine], [r.ours for r in mine], "o-", label=f"ours ({shape})"
        )
        axes.plot(
            [r.case.steps for r in timed],
            [r.deepdiff for r in timed],
            "s--",
            label=f"DeepDiff ({shape})",
        )
    axes.set(xscale="log", yscale="log", xlabel="steps", ylabel="seconds per call")
    axes.set_title("Structural diff of a workflow definition")
    axes.legend()
    figure.savefig(PLOT_PATH, dpi=120, bbox_inches="tight")
    print(f"plot written: {PLOT_PATH}")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark over every size and shape, print the table, write the plot."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="only 10, 100 and 1,000 steps")
    sizes = QUICK_SIZES if parser.parse_args(argv).quick else SIZES
    rows: list[Row] = []
    for shape in SHAPES:
        previous = None
        for count in sizes:
            row = measure(make_case(count, shape), previous)
            rows.append(row)
            previous = row if row.deepdiff else previous
    print_table(rows)
    plot(rows)
    return 0 if all(row.agree for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
