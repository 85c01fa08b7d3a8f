"""Commit messages that start experiments: `aichor[<manifest>]: <message>` and the older
`exp:` / `EXP` prefixes; a manifest path can never leave `aichor_manifests/`."""

from __future__ import annotations

import posixpath

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aichor.errors import InvalidInput
from aichor.manifest.trigger import MANIFESTS_DIR, Trigger, parse_commit_message

SEGMENT = st.text(
    alphabet=st.characters(whitelist_categories=("Ll", "Lu", "Nd"), whitelist_characters="_-."),
    min_size=1,
    max_size=12,
).filter(lambda s: s not in {".", ".."})


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("aichor[manifest.yaml]: train", Trigger("aichor_manifests/manifest.yaml", "train")),
        ("aichor[r/manifest.yaml]: x\n\nbody", Trigger("aichor_manifests/r/manifest.yaml", "x")),
        ("AIchor[a/b/c.yml]:   spaced  ", Trigger("aichor_manifests/a/b/c.yml", "spaced")),
        ("aichor[train]: no suffix", Trigger("aichor_manifests/train.yaml", "no suffix")),
        ("aichor[./x/./y.yaml]: dots", Trigger("aichor_manifests/x/y.yaml", "dots")),
        ("  \naichor[m.yaml]: after blanks", Trigger("aichor_manifests/m.yaml", "after blanks")),
        ("aichor[m.yaml]:", Trigger("aichor_manifests/m.yaml", "")),
        ("exp: older repo", Trigger("manifest.yaml", "older repo", legacy=True)),
        ("EXP: older", Trigger("manifest.yaml", "older", legacy=True)),
        ("Exp:older", Trigger("manifest.yaml", "older", legacy=True)),
        ("EXP run it", Trigger("manifest.yaml", "run it", legacy=True)),
        ("EXP", Trigger("manifest.yaml", "", legacy=True)),
    ],
)  # fmt: skip
def test_triggers(message: str, expected: Trigger) -> None:
    assert parse_commit_message(message) == expected


@pytest.mark.parametrize(
    "message",
    ["fix typo", "", "exp fix", "Exp backoff", "EXPERIMENT", "exponential", "expected: x",
     "see aichor[m.yaml]: not at the start", "[aichor] x", "second line\naichor[m.yaml]: x"],
)  # fmt: skip
def test_ordinary_messages_trigger_nothing(message: str) -> None:
    assert parse_commit_message(message) is None


@pytest.mark.parametrize(
    ("message", "why"),
    [
        ("aichor[../secrets.yaml]: x", "leaves aichor_manifests/"),
        ("aichor[a/../../b.yaml]: x", "leaves aichor_manifests/"),
        ("aichor[/etc/passwd]: x", "leaves aichor_manifests/"),
        ("aichor[..]: x", "leaves aichor_manifests/"),
        ("aichor[a\\..\\b.yaml]: x", "backslash"),
        ("aichor[a\x00.yaml]: x", "control character"),
        ("aichor[]: x", "names no manifest"),
        ("aichor[ ]: x", "names no manifest"),
        ("aichor[sub/]: x", "names a folder"),
        ("aichor[.]: x", "names a folder"),
        ("aichor[m.yaml] no colon", "must be followed by ':'"),
        ("aichor[" + "a" * 401 + "]: x", "longer than 400"),
    ],
)
def test_unusable_aichor_messages_say_why(message: str, why: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_commit_message(message)
    assert why in caught.value.message


@given(st.lists(SEGMENT, min_size=1, max_size=5), st.text(max_size=40))
def test_any_plain_path_is_kept_under_the_manifests_folder(parts: list[str], text: str) -> None:
    path = "/".join(parts)
    message = text.replace("\n", " ").replace("\r", " ").strip()
    trigger = parse_commit_message(f"aichor[{path}]: {message}")
    assert trigger is not None and trigger.message == message.strip()
    expected = posixpath.normpath(path)
    if not expected.endswith((".yaml", ".yml")):
        expected += ".yaml"
    assert trigger.manifest_path == f"{MANIFESTS_DIR}/{expected}"


@given(st.text(alphabet=st.characters(blacklist_characters="]\n"), max_size=60))
def test_no_message_yields_a_path_outside_the_manifests_folder(text: str) -> None:
    try:
        trigger = parse_commit_message(f"aichor[{text}]: x")
    except InvalidInput:
        return
    assert trigger is not None
    normal = posixpath.normpath(trigger.manifest_path)
    assert normal.startswith(f"{MANIFESTS_DIR}/") and ".." not in normal.split("/")
    assert "\x00" not in normal and "\\" not in normal


@given(st.text(max_size=200))
def test_arbitrary_messages_never_crash(text: str) -> None:
    try:
        trigger = parse_commit_message(text)
    except InvalidInput:
        return
    assert trigger is None or trigger.manifest_path.endswith((".yaml", ".yml"))
