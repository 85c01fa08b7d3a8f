"""Encryption of the values the server must read back in clear: sensitive project variables,
project webhook secrets (GitHub's HMAC needs the raw secret, so a hash would not do) and the
projects' S3 secret keys (replicas get them, and SigV4 needs the secret to check a signature).

One Fernet key per purpose, derived from the server's secret key (`Settings.secret()`), so the
services (which store) and the pipeline (which decrypts for replicas and builds) share it
without the pipeline importing the services. Pure: no I/O.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken

VARIABLES = b"aichor variables"
WEBHOOKS = b"aichor webhooks"
STORAGE_KEYS = b"aichor storage keys"

__all__ = ["STORAGE_KEYS", "VARIABLES", "WEBHOOKS", "InvalidToken", "box", "decrypt", "encrypt"]


def box(secret: str, purpose: bytes = VARIABLES) -> Fernet:
    """The Fernet key of one purpose; the derivation of `VARIABLES` keeps stored values readable."""
    digest = hashlib.sha256(purpose + b"\x00" + secret.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt(secret: str, value: str, purpose: bytes = VARIABLES) -> str:
    return box(secret, purpose).encrypt(value.encode()).decode()


def decrypt(secret: str, token: str, purpose: bytes = VARIABLES) -> str:
    """The clear value; `InvalidToken` when the server's secret key changed since encryption."""
    return box(secret, purpose).decrypt(token.encode()).decode()
