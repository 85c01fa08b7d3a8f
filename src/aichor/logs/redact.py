"""Masking of secret values in log text, before any line is stored or shown.

Pure. The pipeline masks every step line and every replica line with the decrypted values of
the project's sensitive variables (`Job.secrets`) before handing them to the log store.
A multi-line secret is masked line by line (logs are stored one line at a time), and longer
values are replaced first so a secret containing another is masked whole.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MASK = "****"


class Redactor:
    """Replaces every occurrence of any of `secrets` with `MASK`; empty values are ignored."""

    def __init__(self, secrets: Iterable[str]) -> None:
        pieces = {part for value in secrets for part in value.splitlines() if part.strip()}
        ordered = sorted(pieces, key=len, reverse=True)
        self._pattern = re.compile("|".join(re.escape(p) for p in ordered)) if ordered else None

    def __bool__(self) -> bool:
        return self._pattern is not None

    def text(self, text: str) -> str:
        return text if self._pattern is None else self._pattern.sub(MASK, text)

    def records(self, data: bytes) -> bytes:
        """Stored records (`<time>\\t<source>\\t<text>\\n`, see `logs.records`) with only
        their text masked, so a secret that happens to match a time or a replica name cannot
        break the format."""
        if self._pattern is None:
            return data
        out = []
        for raw in data.decode(errors="surrogateescape").split("\n"):
            stamp, tab, rest = raw.partition("\t")
            source, tab2, text = rest.partition("\t")
            out.append(f"{stamp}{tab}{source}{tab2}{self.text(text)}" if tab2 else raw)
        return "\n".join(out).encode(errors="surrogateescape")


def mask(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret value replaced by `MASK`."""
    return Redactor(secrets).text(text)
