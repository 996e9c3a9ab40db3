"""Configuration read from the environment, in one place."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

MAX_BODY_BYTES = 4 * 1024 * 1024

# libpq waits for a connection without limit by default; a database host that stops answering
# would then hold a request (and a gunicorn worker) until gunicorn kills it. Fail fast instead:
# the error handler turns the failure into a 503.
POSTGRES_CONNECT_TIMEOUT_SECONDS = 5


class ConfigurationError(RuntimeError):
    """The environment does not hold what a production start needs."""


def _env_flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _local_secret_key(instance_path: Path) -> str:
    """Return a secret kept in the instance folder so local sessions survive restarts."""
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


def normalise_database_url(url: str) -> str:
    """Pin PostgreSQL URLs to psycopg2, the driver Combine ships with.

    SQLAlchemy 2.1 reads a bare ``postgresql://`` as psycopg 3; Heroku-style ``postgres://`` is
    accepted too.
    """
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg2://" + url.removeprefix(prefix)
    return url


def engine_options(url: str, options: dict | None = None) -> dict:
    """SQLAlchemy engine options for ``url``: pre-ping always, a connect timeout on PostgreSQL."""
    options = {"pool_pre_ping": True, **(options or {})}
    if url.startswith("postgresql"):
        connect_args = {"connect_timeout": POSTGRES_CONNECT_TIMEOUT_SECONDS}
        options["connect_args"] = {**connect_args, **options.get("connect_args", {})}
    return options


def load_settings(instance_path: Path) -> dict:
    """Build the Flask config mapping from environment variables.

    A local run (``COMBINE_ENV=development``, or no ``DATABASE_URL`` at all) uses SQLite in the
    instance folder and a secret kept there. Production requires ``SECRET_KEY`` and
    ``DATABASE_URL`` and refuses to start without them.
    """
    database_url = os.environ.get("DATABASE_URL", "").strip()
    env = os.environ.get("COMBINE_ENV", "").strip().lower()
    if not env:
        env = "production" if database_url else "development"
    if env not in {"development", "production", "testing"}:
        raise ConfigurationError(
            f"COMBINE_ENV must be development, production or testing, not {env!r}."
        )
    secret_key = os.environ.get("SECRET_KEY", "").strip()
    if env == "production":
        missing = [
            n for n, v in (("SECRET_KEY", secret_key), ("DATABASE_URL", database_url)) if not v
        ]
        if missing:
            raise ConfigurationError(
                "Combine is starting in production mode and needs "
                + " and ".join(missing)
                + " set in the environment (or COMBINE_ENV=development for a local run)."
            )
    if not database_url:
        database_url = f"sqlite:///{instance_path / 'combine.sqlite3'}"
    if not secret_key:
        secret_key = _local_secret_key(instance_path)

    return {
        "COMBINE_ENV": env,
        "SECRET_KEY": secret_key,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "COMBINE_CONFIG_DIR": Path(
            os.environ.get("COMBINE_CONFIG_DIR") or REPO_ROOT / "combine-config"
        ).resolve(),
        "COMBINE_MIGRATIONS_DIR": Path(
            os.environ.get("COMBINE_MIGRATIONS_DIR") or REPO_ROOT / "migrations"
        ).resolve(),
        "MAX_CONTENT_LENGTH": int(os.environ.get("COMBINE_MAX_BODY_BYTES", MAX_BODY_BYTES)),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _env_flag("SESSION_COOKIE_SECURE", env == "production"),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": _env_flag("SESSION_COOKIE_SECURE", env == "production"),
        "SIGN_IN_MAX_FAILURES": int(os.environ.get("COMBINE_SIGN_IN_MAX_FAILURES", 10)),
        "SIGN_IN_WINDOW_SECONDS": int(os.environ.get("COMBINE_SIGN_IN_WINDOW_SECONDS", 15 * 60)),
        "HSTS_SECONDS": int(os.environ.get("COMBINE_HSTS_SECONDS", 0)),
        "PROXY_HOPS": int(os.environ.get("COMBINE_PROXY_HOPS", 0)),
        "WTF_CSRF_TIME_LIMIT": None,
        "WTF_CSRF_SSL_STRICT": False,
    }
