"""Where aichor keeps its state and how the server runs. Built once from the environment.

Every field reads `AICHOR_<NAME>` (e.g. `AICHOR_DATABASE_URL`, `AICHOR_PORT`). `from_env` also
reads the same names from config files, with lower priority than the environment: `.env` in the
working directory, `<home>/aichor.env`, and the file named by `AICHOR_CONFIG`. Nothing here
writes except `secret()`, which creates `<home>/secret.key` the first time it is needed.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from aichor.home import AichorHome


def _default_home() -> Path:
    return Path.home() / ".aichor"


class Settings(BaseSettings):
    """`AICHOR_HOME` (default `~/.aichor`) holds the database, runs, build caches and buckets."""

    model_config = SettingsConfigDict(
        env_prefix="AICHOR_",
        env_file=".env",
        extra="ignore",
        frozen=True,
        populate_by_name=True,
    )

    home: Path = Field(default_factory=_default_home, description="State directory.")
    database_url: str = Field("", description="SQLAlchemy URL; default sqlite:///<home>/aichor.db.")
    host: str = "127.0.0.1"
    port: int = 8080
    public_url: str = Field("", description="URL users reach; default http://<host>:<port>.")
    secret_key: SecretStr | None = Field(
        None, description="Signs sessions and encrypts variables; default <home>/secret.key."
    )
    workers: int = Field(1, ge=0, description="Pipeline threads in this process.")
    admin_email: str = ""
    admin_password: SecretStr | None = None
    cache_dir_override: Path | None = Field(None, alias="AICHOR_CACHE_DIR")
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_username: str = ""
    smtp_password: SecretStr | None = None
    smtp_sender: str = "aichor@localhost"
    smtp_starttls: bool = True
    invitation_days: int = Field(7, description="Days an invitation link stays valid.")
    session_hours: int = Field(12, description="Hours a browser session stays valid.")
    login_max_failures: int = Field(5, description="Failed logins per email within the window.")
    login_window_seconds: int = 900
    metrics_interval_seconds: float = Field(
        5.0, gt=0, description="Seconds between two resource samples of a running replica."
    )
    metrics_max_points: int = Field(
        2000, ge=10, description="Samples kept per replica; older ones are thinned out beyond."
    )
    tensorboard_idle_seconds: float = Field(
        600.0, gt=0, description="A TensorBoard nobody asked anything for this long is stopped."
    )

    s3_endpoint_url: str = Field(
        "",
        description="S3-compatible store for project buckets; empty: local folders served "
        "by the embedded endpoint (rclone).",
    )
    s3_region: str = "us-east-1"
    s3_access_key_id: str = ""
    s3_secret_access_key: SecretStr | None = None
    s3_bucket_prefix: str = Field("", description="Prepended to bucket names on an S3 store.")
    storage_serve: bool = Field(True, description="Serve local buckets over S3 (rclone).")
    storage_host: str = Field("127.0.0.1", description="Address the embedded S3 endpoints bind.")
    log_purge_interval_seconds: float = Field(
        3600, gt=0, description="How often the server deletes logs past their retention."
    )

    @model_validator(mode="before")
    @classmethod
    def _resolve_home(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("home"):
            data = {**data, "home": Path(data["home"]).expanduser().resolve()}
        return data

    @model_validator(mode="after")
    def _fill_defaults(self) -> Settings:
        home = self.home.expanduser().resolve()
        object.__setattr__(self, "home", home)
        if not self.database_url:
            object.__setattr__(self, "database_url", f"sqlite:///{home / 'aichor.db'}")
        if not self.public_url:
            object.__setattr__(self, "public_url", f"http://{self.host}:{self.port}")
        return self

    @classmethod
    def from_env(cls) -> Settings:
        """Settings from `AICHOR_*` variables and config files (the CLI and the server start
        here); a later file wins over an earlier one, the environment over every file."""
        home = Path(os.environ.get("AICHOR_HOME") or _default_home()).expanduser()
        files = [Path(".env"), home / "aichor.env"]
        if os.environ.get("AICHOR_CONFIG"):
            files.append(Path(os.environ["AICHOR_CONFIG"]).expanduser())
        return cls(_env_file=tuple(files))

    @property
    def cache_override(self) -> Path | None:
        return self.cache_dir_override.expanduser().resolve() if self.cache_dir_override else None

    @property
    def layout(self) -> AichorHome:
        """The folders under `home`, laid out as `aichor run` lays them out."""
        return AichorHome(root=self.home, cache_override=self.cache_override)

    @property
    def runs_dir(self) -> Path:
        return self.layout.runs_dir

    @property
    def cache_dir(self) -> Path:
        """Built environments; `AICHOR_CACHE_DIR` shares them between homes (tests, CI)."""
        return self.layout.cache_dir

    @property
    def buckets_dir(self) -> Path:
        return self.layout.buckets_dir

    @property
    def logs_dir(self) -> Path:
        """Every experiment's step and replica logs (`aichor.logs.store`)."""
        return self.home / "logs"

    @property
    def archives_dir(self) -> Path:
        return self.home / "archives"

    def secret(self) -> str:
        """The secret key: given, or generated once into `<home>/secret.key` (mode 0600)."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        path = self.home / "secret.key"
        if not path.exists():
            self.home.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:  # another process wrote it first
                return path.read_text().strip()
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
        return path.read_text().strip()
