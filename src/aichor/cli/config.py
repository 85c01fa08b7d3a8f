"""Where the CLI keeps the server URL and its API token, and how commands get a client.

The file is `$XDG_CONFIG_HOME/aichor/config.json` (else `~/.config/aichor/config.json`), or
`$AICHOR_CONFIG` when set; it is written with mode 0600 in a 0700 directory since it holds a
bearer token. `AICHOR_URL` and `AICHOR_TOKEN` override what the file says (scripts, CI).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from aichor.errors import AichorError, Unauthorized

if TYPE_CHECKING:
    from aichor.client import Client

DEFAULT_URL = "http://127.0.0.1:8080"  # `aichor server`'s default (AICHOR_PORT)


@dataclass(frozen=True)
class Config:
    """The server to talk to and, once logged in, the token and who it belongs to."""

    url: str = DEFAULT_URL
    token: str | None = None
    email: str | None = None
    organisation: str | None = None


def config_path() -> Path:
    explicit = os.environ.get("AICHOR_CONFIG")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base).expanduser() / "aichor" / "config.json"


def load_config() -> Config:
    """The stored config with the environment's overrides applied."""
    stored = _read_file(config_path())
    return Config(
        url=os.environ.get("AICHOR_URL") or stored.url,
        token=os.environ.get("AICHOR_TOKEN") or stored.token,
        email=stored.email,
        organisation=stored.organisation,
    )


def save_config(config: Config) -> Path:
    """Write atomically, readable by the owner only (the token is a credential)."""
    import tempfile  # imported here: it costs ~4 ms at start-up and only login needs it

    path = config_path()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    text = json.dumps(config.__dict__, indent=2) + "\n"
    fd, tmp = tempfile.mkstemp(prefix=".config-", dir=path.parent)  # created with mode 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _read_file(path: Path) -> Config:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Config()
    except (OSError, ValueError) as exc:
        raise AichorError(f"{path}: unreadable aichor config ({exc}); run `aichor login`") from None
    if not isinstance(data, dict):
        raise AichorError(f"{path}: unreadable aichor config; run `aichor login`")
    known = {k: v for k, v in data.items() if k in Config.__dataclass_fields__ and v is not None}
    return Config(**{k: str(v) for k, v in known.items()})


def make_client(*, require_token: bool = True, url: str | None = None) -> Client:
    """A client for the configured server. Imported lazily so `aichor run` never loads httpx."""
    from aichor.client import Client  # imported here: httpx would slow every CLI start-up

    config = load_config()
    if require_token and not config.token:
        raise Unauthorized("not logged in: run `aichor login` (or set AICHOR_TOKEN)")
    return Client(url or config.url, None if url and url != config.url else config.token)
