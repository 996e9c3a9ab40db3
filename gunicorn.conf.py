"""gunicorn settings for Combine: ``gunicorn -c gunicorn.conf.py wsgi:app``."""

import gc
import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")
workers = int(os.environ.get("WEB_CONCURRENCY", min(multiprocessing.cpu_count() * 2 + 1, 8)))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
# gunicorn's own workers, but refusing an unreadable request (say a request line past
# limit_request_line) with problem+json instead of a text/html page.
worker_class = (
    "combine_app.gunicorn_workers.ProblemSyncWorker"
    if threads == 1
    else "combine_app.gunicorn_workers.ProblemThreadWorker"
)
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
# Load the app once in the master: workers fork ready to serve, so recycling one is cheap.
# Nothing connects to the database at import time, so no connection crosses the fork.
preload_app = True
# Recycle workers now and then so a slow leak can never take a replica down.
max_requests = 20000
max_requests_jitter = 2000
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info")
# Read-only container file systems: no control socket file, heartbeat files in shared memory.
control_socket_disable = True
# gunicorn only touches its own heartbeat files there (S108: not a shared temp-file risk).
SHARED_MEMORY = "/dev/shm"  # noqa: S108
worker_tmp_dir = SHARED_MEMORY if os.path.isdir(SHARED_MEMORY) else None
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# gunicorn's largest request line (its default is 4,094 bytes): the longest deviation key
# (MAX_DEVIATION_KEY_LENGTH characters of four UTF-8 bytes each, percent-encoded) fits in a
# deviation's path. A line past it is a 414 problem+json from the worker class above.
limit_request_line = 8190


def when_ready(server):
    """In the arbiter, after the app is preloaded and before any worker is forked: move every
    object alive now (the app, its modules, templates and caches) to the permanent generation.

    Workers inherit them frozen: a full collection then no longer walks the ~120,000 objects
    alive since start (about 45 ms every few requests), and not touching them keeps the forked
    pages shared. Workers forked later (max_requests) come from this arbiter, frozen as well.
    """
    if server.cfg.preload_app:
        gc.collect()
        gc.freeze()
        server.log.info("gc.freeze(): %d objects frozen before forking", gc.get_freeze_count())
