"""What gunicorn.conf.py's gc.freeze() saves a worker: a full collection after the preload.

Imports ``wsgi:app`` as gunicorn's arbiter does with ``preload_app``, then times ``gc.collect()``
(median of 20) before and after ``gc.freeze()``. Run: ``.venv/bin/python -m benchmarks.gc_freeze``.
"""

from __future__ import annotations

import gc
import os
import statistics
import time

ROUNDS = 20


def full_collection_ms() -> float:
    """The median wall time of a full collection, in ms."""
    times = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        gc.collect()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    """Preload the app, then measure a full collection without and with the freeze."""
    os.environ.setdefault("COMBINE_ENV", "development")
    from wsgi import app  # noqa: F401 - the preload, as the arbiter does it

    gc.collect()
    tracked = len(gc.get_objects())
    before = full_collection_ms()
    gc.freeze()
    after = full_collection_ms()
    print(f"objects tracked after the preload: {tracked:,}; frozen: {gc.get_freeze_count():,}")
    print(
        f"full gc.collect(), median of {ROUNDS}: {before:.2f} ms without the freeze, "
        f"{after:.2f} ms after gc.freeze(); load average {os.getloadavg()[0]:.2f}"
    )


if __name__ == "__main__":
    main()
