"""``python -m benchmarks [--quick]`` (``make bench``): diff, API, revision-read, export and
pages benchmarks."""

from __future__ import annotations

import argparse
import importlib
import inspect
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ("bench_diff", "bench_api", "bench_revisions", "bench_export", "bench_pages")


def run(name: str, argv: list[str]) -> int:
    """Run one benchmark: its ``main(argv)`` when it takes arguments, else as a subprocess."""
    print(f"\n=== {name} {' '.join(argv)}".rstrip() + " ===", flush=True)
    try:
        module = importlib.import_module(f"benchmarks.{name}")
    except ModuleNotFoundError as error:
        if error.name != f"benchmarks.{name}":
            raise
        print(f"{name}: not there (benchmarks/{name}.py is missing); skipped.")
        return 0
    main = getattr(module, "main", None)
    if main is not None and inspect.signature(main).parameters:
        status = main(argv)
        return status if isinstance(status, int) else 0
    # A main() that reads sys.argv itself: give it a clean command line of its own.
    return subprocess.run(
        [sys.executable, "-m", f"benchmarks.{name}", *argv], cwd=REPO_ROOT, check=False
    ).returncode


def main(argv: list[str] | None = None) -> int:
    """Run every benchmark in turn; the exit status is the first failure's, else 0."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="shorter runs of every benchmark")
    args = parser.parse_args(argv)
    passed_on = ["--quick"] if args.quick else []
    statuses = [run(name, passed_on) for name in BENCHMARKS]
    return next((status for status in statuses if status), 0)


if __name__ == "__main__":
    sys.exit(main())
