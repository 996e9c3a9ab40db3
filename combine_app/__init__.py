"""Combine: project-scoped instances of governed workflow definitions."""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from combine_app.extensions import csrf, db, login_manager, migrate
from combine_app.json_provider import OrjsonProvider
from combine_app.security_headers import register_security_headers
from combine_app.session_cookies import LeanSessionInterface
from combine_app.settings import engine_options, load_settings, normalise_database_url


def create_app(config: dict | None = None) -> Flask:
    """Build the app: settings, extensions, blueprints, error handlers, commands."""
    from combine_app.web.forms import CombineRequest

    # No app-level static folder: its /static route would shadow the pages blueprint's.
    app = Flask(__name__, instance_relative_config=True, static_folder=None)
    app.request_class = CombineRequest
    app.config.update(load_settings(Path(app.instance_path)))
    if config:
        app.config.update(config)
    app.config["COMBINE_CONFIG_DIR"] = Path(app.config["COMBINE_CONFIG_DIR"])
    app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(
        app.config["SQLALCHEMY_DATABASE_URI"]
    )
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(
        app.config["SQLALCHEMY_DATABASE_URI"], app.config.get("SQLALCHEMY_ENGINE_OPTIONS")
    )
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.json = OrjsonProvider(app)
    configure_logging(app)
    if app.config.get("PROXY_HOPS"):
        # Behind that many trusted proxies: the client address (throttling) and the scheme
        # (HSTS, secure cookies) come from their X-Forwarded-* headers.
        hops = app.config["PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    return app


def configure_logging(app: Flask) -> None:
    """Log to stderr at INFO, so gunicorn and docker collect it."""
    if not app.debug and not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )


def register_extensions(app: Flask) -> None:
    """Bind the extension objects; importing the models registers every table."""
    import combine_app.models  # noqa: F401
    from combine_app.database import commit_read_fills

    app.session_interface = LeanSessionInterface()
    db.init_app(app)
    migrate.init_app(app, db, directory=str(app.config["COMBINE_MIGRATIONS_DIR"]))
    login_manager.init_app(app)
    csrf.init_app(app)
    app.after_request(commit_read_fills)


def register_blueprints(app: Flask) -> None:
    """The JSON API and its reference page, the pages and the health checks."""
    from combine_app.api.openapi import init_api
    from combine_app.api.reference import reference
    from combine_app.auth.views import auth
    from combine_app.health import health
    from combine_app.web import web

    app.register_blueprint(health)
    app.register_blueprint(auth)
    init_api(app)  # registers the /api/v1 blueprint and describes it
    app.register_blueprint(reference)
    app.register_blueprint(web)


def register_errorhandlers(app: Flask) -> None:
    """problem+json under /api/v1, HTML pages elsewhere."""
    from combine_app import errors

    errors.register_errorhandlers(app)
    register_security_headers(app)


def register_commands(app: Flask) -> None:
    """``users``, ``tokens``, ``config`` and ``workflow`` command groups."""
    from combine_app.auth.commands import tokens_cli, users_cli
    from combine_app.catalog.commands import config_cli
    from combine_app.workflows.commands import workflow_cli

    app.cli.add_command(users_cli)
    app.cli.add_command(tokens_cli)
    app.cli.add_command(config_cli)
    app.cli.add_command(workflow_cli)
