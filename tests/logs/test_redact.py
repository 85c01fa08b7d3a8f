"""Masking of sensitive values in log lines: every occurrence, multi-line secrets line by line,
a secret containing another masked whole, empty values ignored."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from aichor.logs.redact import MASK, Redactor, mask

NO_STAR = st.text(alphabet=st.characters(blacklist_characters="*\n\r"), min_size=1, max_size=8)


def test_every_occurrence_is_masked() -> None:
    assert mask("token=abc123 again abc123", ["abc123"]) == f"token={MASK} again {MASK}"


def test_longer_secret_is_masked_whole() -> None:
    assert mask("key=abcdef", ["abc", "abcdef"]) == f"key={MASK}"


def test_multi_line_secret_is_masked_per_line() -> None:
    pem = "-----BEGIN KEY-----\nMIIBOgIBAAJBAK\n-----END KEY-----"
    assert mask("MIIBOgIBAAJBAK", [pem]) == MASK


def test_empty_and_blank_secrets_mask_nothing() -> None:
    redactor = Redactor(["", "   "])
    assert not redactor
    assert redactor.text("nothing to hide") == "nothing to hide"


def test_regex_characters_are_literal() -> None:
    assert mask("p4ss.w*rd and p4ssXw*rd", ["p4ss.w*rd"]) == f"{MASK} and p4ssXw*rd"


@given(st.lists(NO_STAR, min_size=1, max_size=4), st.text(max_size=80), st.data())
def test_no_secret_survives(secrets: list[str], text: str, data: st.DataObject) -> None:
    spliced = text
    for secret in secrets:
        at = data.draw(st.integers(0, len(spliced)))
        spliced = spliced[:at] + secret + spliced[at:]
    masked = mask(spliced, secrets)
    assert all(secret not in masked for secret in secrets if secret.strip())


def test_stored_records_are_masked_in_their_text_only() -> None:
    """A secret that also spells a replica name or part of a time stamp leaves the record's
    time and source intact, so the stored format stays readable."""
    data = (
        b"2026-11-30T12:00:00+00:00\tworker-0\tpassword is worker-0\n"
        b"2026-11-30T12:00:01+00:00\tworker-0\tnothing here\n"
    )
    masked = Redactor(["worker-0"]).records(data)
    assert masked == (
        b"2026-11-30T12:00:00+00:00\tworker-0\tpassword is " + MASK.encode() + b"\n"
        b"2026-11-30T12:00:01+00:00\tworker-0\tnothing here\n"
    )
    assert Redactor([]).records(data) is data
