"""Settings fail fast in production and pick the async drivers."""

import pytest
from pydantic import ValidationError

from generic_national_system.settings import GensSettings


def test_production_refuses_the_placeholder_secret() -> None:
    with pytest.raises(ValidationError, match="EPHYTO_GENS_SECRET_KEY"):
        GensSettings(environment="production", database_url="postgresql://db/gens")


def test_production_refuses_a_short_secret_and_sqlite() -> None:
    with pytest.raises(ValidationError, match="at least 32"):
        GensSettings(environment="production", secret_key="short", database_url="postgresql://x/y")
    with pytest.raises(ValidationError, match="EPHYTO_GENS_DATABASE_URL"):
        GensSettings(environment="production", secret_key="k" * 40)


def test_production_starts_with_real_settings() -> None:
    settings = GensSettings(
        environment="production", secret_key="k" * 40, database_url="postgresql://db.local/gens"
    )
    assert settings.sqlalchemy_url == "postgresql+asyncpg://db.local/gens"


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("EPHYTO_GENS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("EPHYTO_GENS_SESSION_LIFETIME_MINUTES", "60")
    settings = GensSettings()
    assert settings.sqlalchemy_url == f"sqlite+aiosqlite:///{tmp_path / 'gens.db'}"
    assert settings.session_lifetime.total_seconds() == 3600
