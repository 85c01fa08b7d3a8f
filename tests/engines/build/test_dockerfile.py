"""Dockerfile parsing: instructions, continuations, directives, heredocs, ARG scoping, stages."""

from __future__ import annotations

import pytest

from aichor.engines.local.build.dockerfile import env_pairs, parse, split_words, substitute
from aichor.errors import InvalidInput

TEXT = """\
# syntax=docker/dockerfile:1.7
# a comment that is not a directive
ARG BASE=python
ARG TAG=3.11-slim
FROM ${BASE}:${TAG} AS builder
ARG TAG
ENV A=1 B="two words" \\
    C=three
ENV LEGACY some value here
RUN pip install \\
    # a comment inside a continuation
    six
COPY --from=builder --chown=1000:1000 /src /dst
RUN <<EOF
pip install idna
echo done
EOF
CMD ["python", "main.py"]

FROM builder
WORKDIR /app
"""


def test_parses_directives_stages_and_instructions() -> None:
    parsed = parse(TEXT)
    assert parsed.directives == {"syntax": "docker/dockerfile:1.7"}
    assert [ins.keyword for ins in parsed.global_args] == ["ARG", "ARG"]
    first, second = parsed.stages
    assert (first.base, first.name, second.base, second.name) == (
        "python:3.11-slim", "builder", "builder", None,
    )  # fmt: skip
    keywords = [ins.keyword for ins in first.instructions]
    assert keywords == ["ARG", "ENV", "ENV", "RUN", "COPY", "RUN", "CMD"]
    assert first.instructions[3].args.split() == ["pip", "install", "six"]
    assert first.instructions[4].flags == {"from": "builder", "chown": "1000:1000"}
    assert first.instructions[5].heredocs == (("EOF", "pip install idna\necho done\n"),)
    assert first.instructions[6].exec_form() == ["python", "main.py"]
    assert [ins.keyword for ins in second.instructions] == ["WORKDIR"]


def test_build_args_override_global_defaults_in_from() -> None:
    parsed = parse(TEXT, build_args={"TAG": "3.12"})
    assert parsed.stages[0].base == "python:3.12"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$A/x", "1/x"),
        ("${A}-${B}", "1-two"),
        ("${MISSING:-fallback}", "fallback"),
        ("${A:+set}${MISSING:+never}", "set"),
        ("$MISSING.", "."),
    ],
)
def test_substitution(text: str, expected: str) -> None:
    assert substitute(text, {"A": "1", "B": "two"}) == expected


def test_env_both_syntaxes() -> None:
    parsed = parse('FROM x\nENV A=1 B="two words"\nENV C three words\n')
    first, second = parsed.stages[0].instructions
    assert env_pairs(first) == [("A", "1"), ("B", "two words")]
    assert env_pairs(second) == [("C", "three words")]


def test_split_words_honours_quotes_and_escapes() -> None:
    assert split_words("a 'b c' \"d e\" f\\ g") == ["a", "b c", "d e", "f g"]


def test_escape_directive_changes_the_continuation_character() -> None:
    parsed = parse("# escape=`\nFROM x\nRUN pip install `\n  six\n")
    assert parsed.stages[0].instructions[0].args.split() == ["pip", "install", "six"]


@pytest.mark.parametrize("text", ["", "# only a comment\n", "RUN echo\nFROM x\n"])
def test_rejects_files_without_a_leading_from(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse(text)
