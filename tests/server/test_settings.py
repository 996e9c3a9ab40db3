"""Settings from the environment, and the health and readiness probes."""

from __future__ import annotations

import stat

import pytest

from combine_app import create_app
from combine_app.extensions import db
from combine_app.settings import ConfigurationError, load_settings, normalise_database_url
from tests.conftest import make_app
from tests.support.problems import assert_problem

POSTGRES_URL = "postgresql://combine:pw@db.internal:5432/combine"
CLOSED_PORT_URL = "postgresql://postgres@127.0.0.1:1/x"


@pytest.fixture
def environment(monkeypatch):
    """A clean slate: none of Combine's variables set."""
    for name in (
        "COMBINE_ENV",
        "SECRET_KEY",
        "DATABASE_URL",
        "COMBINE_CONFIG_DIR",
        "COMBINE_MIGRATIONS_DIR",
        "COMBINE_MAX_BODY_BYTES",
        "SESSION_COOKIE_SECURE",
    ):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_production_without_secret_key_refuses_naming_it(environment, tmp_path):
    environment.setenv("COMBINE_ENV", "production")
    environment.setenv("DATABASE_URL", POSTGRES_URL)
    with pytest.raises(ConfigurationError) as raised:
        load_settings(tmp_path)
    assert "SECRET_KEY" in str(raised.value)
    assert "DATABASE_URL" not in str(raised.value)


def test_production_without_database_url_refuses_naming_it(environment, tmp_path):
    environment.setenv("COMBINE_ENV", "production")
    environment.setenv("SECRET_KEY", "s3cret")
    with pytest.raises(ConfigurationError) as raised:
        load_settings(tmp_path)
    assert "DATABASE_URL" in str(raised.value)
    assert "SECRET_KEY" not in str(raised.value)


def test_production_without_either_names_both(environment, tmp_path):
    environment.setenv("COMBINE_ENV", "production")
    with pytest.raises(ConfigurationError) as raised:
        load_settings(tmp_path)
    assert "SECRET_KEY" in str(raised.value)
    assert "DATABASE_URL" in str(raised.value)


def test_a_blank_secret_key_counts_as_missing(environment, tmp_path):
    environment.setenv("COMBINE_ENV", "production")
    environment.setenv("DATABASE_URL", POSTGRES_URL)
    environment.setenv("SECRET_KEY", "   ")
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        load_settings(tmp_path)


def test_a_database_url_without_combine_env_means_production(environment, tmp_path):
    environment.setenv("DATABASE_URL", POSTGRES_URL)
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        load_settings(tmp_path)
    environment.setenv("SECRET_KEY", "s3cret")
    settings = load_settings(tmp_path)
    assert settings["COMBINE_ENV"] == "production"
    assert settings["SESSION_COOKIE_SECURE"] is True


def test_an_unknown_combine_env_is_refused(environment, tmp_path):
    environment.setenv("COMBINE_ENV", "staging")
    with pytest.raises(ConfigurationError, match="COMBINE_ENV"):
        load_settings(tmp_path)


def test_the_app_refuses_to_start_in_production_without_secret_key(environment):
    environment.setenv("COMBINE_ENV", "production")
    environment.setenv("DATABASE_URL", POSTGRES_URL)
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        create_app()


def test_production_settings_carry_the_given_values(environment, tmp_path):
    environment.setenv("COMBINE_ENV", "production")
    environment.setenv("DATABASE_URL", POSTGRES_URL)
    environment.setenv("SECRET_KEY", "s3cret")
    settings = load_settings(tmp_path)
    assert settings["SECRET_KEY"] == "s3cret"
    assert settings["SQLALCHEMY_DATABASE_URI"] == POSTGRES_URL
    assert settings["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is True
    assert not (tmp_path / "secret_key").exists()


@pytest.mark.parametrize("env", ["development", None])
def test_development_without_database_url_uses_sqlite_in_the_instance_folder(
    environment, tmp_path, env
):
    if env:
        environment.setenv("COMBINE_ENV", env)
    settings = load_settings(tmp_path)
    assert settings["COMBINE_ENV"] == "development"
    assert settings["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'combine.sqlite3'}"


def test_development_keeps_a_private_secret_key_across_starts(environment, tmp_path):
    environment.setenv("COMBINE_ENV", "development")
    first = load_settings(tmp_path)["SECRET_KEY"]
    second = load_settings(tmp_path)["SECRET_KEY"]
    assert first == second
    assert len(first) >= 32
    key_file = tmp_path / "secret_key"
    assert key_file.read_text().strip() == first
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u:p@h:5432/d", "postgresql+psycopg2://u:p@h:5432/d"),
        ("postgres://u:p@h:5432/d", "postgresql+psycopg2://u:p@h:5432/d"),
        ("postgresql+psycopg2://u@h/d", "postgresql+psycopg2://u@h/d"),
        ("sqlite:////tmp/x.sqlite3", "sqlite:////tmp/x.sqlite3"),
    ],
)
def test_postgres_urls_are_pinned_to_psycopg2(given, expected):
    assert normalise_database_url(given) == expected


@pytest.mark.parametrize("url", ["postgres://u@h/d", "postgresql://u@h/d"])
def test_the_app_engine_uses_psycopg2_for_a_bare_postgres_url(environment, url):
    environment.setenv("COMBINE_ENV", "production")
    environment.setenv("DATABASE_URL", url)
    environment.setenv("SECRET_KEY", "s3cret")
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg2://u@h/d"
    with app.app_context():
        assert db.engine.dialect.driver == "psycopg2"
        db.engine.dispose()


# --- probes -------------------------------------------------------------------------------


def test_healthz_is_ok_without_authentication(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    assert "Set-Cookie" not in response.headers


def test_readyz_is_200_when_the_database_answers(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json()["status"] == "ready"


@pytest.fixture
def unreachable_app():
    """An app whose database points at a closed port."""
    app = make_app(CLOSED_PORT_URL)
    yield app
    with app.app_context():
        db.engine.dispose()


def test_healthz_is_ok_even_when_the_database_is_down(unreachable_app):
    response = unreachable_app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_is_503_problem_json_when_the_database_is_down(unreachable_app):
    response = unreachable_app.test_client().get("/readyz")
    assert_problem(response, 503)
    assert response.headers["Retry-After"].isdigit()


def test_an_api_call_while_the_database_is_down_is_503_problem_json(unreachable_app):
    response = unreachable_app.test_client().get(
        "/api/v1/projects", headers={"Authorization": "Bearer cmb_whatever"}
    )
    body = assert_problem(response, 503)
    assert "127.0.0.1" not in body["detail"]
    assert "Retry-After" in response.headers
