"""The migration chain: upgrade, downgrade and upgrade again, and agreement with the models."""

from __future__ import annotations

import ast
from pathlib import Path

import flask_migrate
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from combine_app.extensions import db
from tests.conftest import REPO_ROOT, make_app
from tests.support.databases import create_database, drop_database

MIGRATIONS_DIR = REPO_ROOT / "migrations"
VERSIONS_DIR = MIGRATIONS_DIR / "versions"
FOUNDATION_TABLES = {"users", "api_tokens", "projects", "project_audit"}
ALEMBIC_TABLE = "alembic_version"


@pytest.fixture(scope="module")
def script() -> ScriptDirectory:
    """The revision scripts, read the way Alembic reads them."""
    return ScriptDirectory(str(MIGRATIONS_DIR))


@pytest.fixture
def fresh_postgres(postgres_admin_url):
    """The URL of a new, empty PostgreSQL database, dropped afterwards."""
    url = create_database(postgres_admin_url, prefix="combine_migrations")
    yield url
    drop_database(postgres_admin_url, url)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_app(request, tmp_path):
    """An app on a new, empty database of each engine; its engine is disposed afterwards."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
    else:
        url = request.getfixturevalue("fresh_postgres")
    app = make_app(url)
    with app.app_context():
        yield app
        db.engine.dispose()


def table_names() -> set[str]:
    """The tables in the current app's database."""
    return set(inspect(db.engine).get_table_names())


def current_heads() -> set[str]:
    """The revisions the current app's database is stamped with."""
    with db.engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads())


def schema_differences() -> list:
    """What autogenerate would change to make the database match the models."""
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def test_the_chain_has_one_head_and_one_base(script):
    assert len(script.get_heads()) == 1, script.get_heads()
    assert len(script.get_bases()) == 1, script.get_bases()


def test_upgrade_to_head_creates_the_foundation_tables(empty_app, script):
    assert table_names() == set()
    flask_migrate.upgrade()
    assert FOUNDATION_TABLES <= table_names()
    assert current_heads() == set(script.get_heads())


def test_downgrade_to_base_leaves_no_app_tables_and_upgrade_works_again(empty_app, script):
    flask_migrate.upgrade()
    at_head = table_names()

    flask_migrate.downgrade(revision="base")
    assert table_names() <= {ALEMBIC_TABLE}
    assert current_heads() == set()

    flask_migrate.upgrade()
    assert table_names() == at_head
    assert current_heads() == set(script.get_heads())


def test_downgrade_to_base_leaves_nothing_behind_in_postgres(fresh_postgres):
    app = make_app(fresh_postgres)
    with app.app_context():
        flask_migrate.upgrade()
        flask_migrate.downgrade(revision="base")
        with db.engine.connect() as connection:
            leftovers = connection.execute(
                text(
                    "SELECT c.relkind::text, c.relname FROM pg_class c"
                    " JOIN pg_namespace n ON n.oid = c.relnamespace"
                    " WHERE n.nspname = 'public' AND c.relname NOT LIKE :alembic"
                    " UNION ALL"
                    " SELECT 'type', t.typname FROM pg_type t"
                    " JOIN pg_namespace n ON n.oid = t.typnamespace"
                    " WHERE n.nspname = 'public' AND t.typtype IN ('e', 'd', 'c')"
                    " AND NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.reltype = t.oid)"
                ),
                {"alembic": f"{ALEMBIC_TABLE}%"},
            ).all()
        db.engine.dispose()
    assert leftovers == []


def test_every_revision_downgrades_and_upgrades_again_one_step_at_a_time(empty_app, script):
    revisions = [revision.revision for revision in script.walk_revisions("base", "heads")]
    revisions.reverse()
    previous_tables = table_names()
    for revision in revisions:
        flask_migrate.upgrade(revision=revision)
        upgraded = table_names()
        flask_migrate.downgrade(revision="-1")
        assert table_names() - {ALEMBIC_TABLE} == previous_tables - {ALEMBIC_TABLE}, revision
        flask_migrate.upgrade(revision=revision)
        assert table_names() == upgraded, revision
        assert current_heads() == {revision}
        previous_tables = upgraded


def test_the_migrated_schema_matches_the_models(empty_app):
    flask_migrate.upgrade()
    assert schema_differences() == []


def _imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
    return modules


# What a migration may use of the app: code that knows no models, no session and no Flask app
# (so a later change of the models cannot change what an old migration does to a database).
MODEL_FREE_MODULES = {
    "combine_app.workflows.diff": REPO_ROOT / "combine_app/workflows/diff.py",
    "combine_app.workflows.history_replay": REPO_ROOT / "combine_app/workflows/history_replay.py",
    "combine_app.catalog.loader": REPO_ROOT / "combine_app/catalog/loader.py",
    "combine_app.catalog.errors": REPO_ROOT / "combine_app/catalog/errors.py",
    "combine_app.catalog.validation": REPO_ROOT / "combine_app/catalog/validation.py",
    "combine_app.portable_json": REPO_ROOT / "combine_app/portable_json.py",
    "combine_app.definition.tree": REPO_ROOT / "combine_app/definition/tree.py",
    "combine_app.definition.patterns": REPO_ROOT / "combine_app/definition/patterns.py",
}


def _absolute_imports(name: str, path: Path) -> set[str]:
    """The modules a module imports, relative imports resolved against its package."""
    package = name.rsplit(".", 1)[0]
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            modules.add(".".join(part for part in (base, node.module) if part))
    return modules


def test_the_modules_migrations_may_use_import_no_models():
    for name, path in MODEL_FREE_MODULES.items():
        imported = _absolute_imports(name, path)
        app_modules = {m for m in imported if m.startswith("combine_app.")}
        assert app_modules <= set(MODEL_FREE_MODULES), (name, app_modules)
        assert not {m for m in imported if m.split(".")[0] in {"flask", "flask_sqlalchemy"}}, name
        assert not any(m.split(".")[0] == "sqlalchemy" for m in imported), name


def test_no_migration_imports_the_app():
    files = sorted(VERSIONS_DIR.glob("*.py"))
    assert files, "no migration files found"
    offenders = {}
    for path in files:
        source = path.read_text()
        app_imports = {
            module
            for module in _imported_modules(path)
            if (module == "combine_app" or module.startswith("combine_app."))
            and module not in MODEL_FREE_MODULES
        }
        if app_imports or "importlib" in source or "__import__" in source:
            offenders[path.name] = sorted(app_imports) or ["dynamic import"]
    assert offenders == {}
