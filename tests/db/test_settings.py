"""Settings come from AICHOR_* variables with embedded defaults under AICHOR_HOME."""

from __future__ import annotations

from pathlib import Path

import pytest

from aichor.settings import Settings


def test_defaults_live_under_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AICHOR_HOME", str(tmp_path / "h"))
    monkeypatch.delenv("AICHOR_CACHE_DIR", raising=False)
    monkeypatch.delenv("AICHOR_DATABASE_URL", raising=False)
    settings = Settings.from_env()
    home = (tmp_path / "h").resolve()
    assert settings.home == home
    assert settings.database_url == f"sqlite:///{home / 'aichor.db'}"
    assert (settings.host, settings.port, settings.workers) == ("127.0.0.1", 8080, 1)
    assert settings.public_url == "http://127.0.0.1:8080"
    assert settings.runs_dir == home / "runs"
    assert settings.cache_dir == home / "cache"
    assert settings.buckets_dir == home / "buckets"


def test_environment_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AICHOR_HOME", str(tmp_path))
    monkeypatch.setenv("AICHOR_CACHE_DIR", str(tmp_path / "shared-cache"))
    monkeypatch.setenv("AICHOR_DATABASE_URL", "postgresql+psycopg://u@db:5432/aichor")
    monkeypatch.setenv("AICHOR_PORT", "9000")
    monkeypatch.setenv("AICHOR_WORKERS", "4")
    settings = Settings.from_env()
    assert settings.cache_dir == (tmp_path / "shared-cache").resolve()
    assert settings.database_url == "postgresql+psycopg://u@db:5432/aichor"
    assert settings.public_url == "http://127.0.0.1:9000"
    assert settings.workers == 4


def test_the_secret_key_is_generated_once_and_private(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "h")
    first = settings.secret()
    key = tmp_path / "h" / "secret.key"
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    assert Settings(home=tmp_path / "h").secret() == first
    assert len(first) >= 40
    given = Settings.model_validate({"home": tmp_path, "secret_key": "hidden-value"})
    assert given.secret() == "hidden-value"
    assert "hidden-value" not in repr(given)


def test_config_files_under_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AICHOR_HOME", str(tmp_path))
    monkeypatch.delenv("AICHOR_PORT", raising=False)
    (tmp_path / "aichor.env").write_text("AICHOR_PORT=9100\nAICHOR_WORKERS=3\n")
    extra = tmp_path / "extra.env"
    extra.write_text("AICHOR_WORKERS=5\n")
    monkeypatch.setenv("AICHOR_CONFIG", str(extra))
    settings = Settings.from_env()
    assert (settings.port, settings.workers) == (9100, 5)
    monkeypatch.setenv("AICHOR_WORKERS", "7")
    assert Settings.from_env().workers == 7
