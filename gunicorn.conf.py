"""gunicorn settings for Combine: ``gunicorn -c gunicorn.conf.py wsgi:app``."""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")
workers = int(os.environ.get("WEB_CONCURRENCY", min(multiprocessing.cpu_count() * 2 + 1, 8)))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
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
