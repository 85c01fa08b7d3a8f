"""YAML text → plain data, keeping the node tree so errors can name a line.

Only the safe loaders are used: libyaml's `yaml.CSafeLoader` when PyYAML has it (it composes
the same node tree with line marks, about ten times faster), and the pure-Python
`yaml.SafeLoader` for text libyaml refuses or would read differently, so that every error
message stays PyYAML's own, with its line. Duplicate keys, recursive aliases and alias bombs
are refused here, because PyYAML itself silently keeps the last duplicate and expands aliases
on demand.
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml

from aichor.manifest.issues import ManifestInvalid, ManifestIssue

MAX_NODES = 100_000
"""Manifests are a few hundred nodes; anything far larger is an alias bomb or not a manifest."""

_MERGE_TAG = "tag:yaml.org,2002:merge"


@dataclass(frozen=True)
class YamlDocument:
    """The constructed data and the node tree it came from."""

    data: object
    root: yaml.Node


def parse_yaml(text: str, source: str) -> YamlDocument:
    """Parse one YAML document; any syntax problem becomes `ManifestInvalid` with its line."""
    try:
        return _parse(text, source)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = " ".join(part for part in (exc.context, exc.problem) if part)
        raise _invalid(source, line, f"not valid YAML: {problem}") from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        raise _invalid(source, line, f"not valid YAML: {exc.reason} ({exc.character:#x})") from None
    except yaml.YAMLError as exc:
        raise _invalid(source, None, f"not valid YAML: {exc}") from None
    except RecursionError:
        raise _invalid(source, None, "not valid YAML: nested too deeply") from None
    except (ValueError, TypeError, OverflowError) as exc:
        # SafeConstructor lets these escape for values like `!!int abc` or `!!timestamp 2020-13-45`.
        raise _invalid(source, None, f"not valid YAML: bad value ({exc})") from None


_FastLoader: type[yaml.SafeLoader] | None = getattr(yaml, "CSafeLoader", None)


def _parse(text: str, source: str) -> YamlDocument:
    if _FastLoader is not None and not yaml.reader.Reader.NON_PRINTABLE.search(text):
        try:
            return _compose(_FastLoader(text), source)
        except (yaml.YAMLError, ValueError, TypeError, OverflowError, RecursionError):
            pass  # let the pure-Python loader find the same problem and word it as always
    # the pure-Python reader rejects unprintable characters when it is created
    return _compose(yaml.SafeLoader(text), source)


def _compose(loader: yaml.SafeLoader, source: str) -> YamlDocument:
    try:
        root = loader.get_single_node()
        if root is None:
            raise _invalid(source, None, "empty manifest; expected kind, apiVersion, builder, spec")
        _check_nodes(root, source)
        return YamlDocument(data=loader.construct_document(root), root=root)
    finally:
        loader.dispose()


def _invalid(source: str, line: int | None, message: str) -> ManifestInvalid:
    return ManifestInvalid(source, [ManifestIssue(path="", line=line, message=message)])


def _check_nodes(root: yaml.Node, source: str) -> None:
    """Refuse duplicate keys, recursive aliases and documents that expand past MAX_NODES."""
    sizes: dict[int, int] = {}
    issues: list[ManifestIssue] = []

    def size(node: yaml.Node, path: str) -> int:
        if id(node) in sizes:
            if sizes[id(node)] < 0:
                raise _invalid(source, node.start_mark.line + 1, "an alias refers to itself")
            return sizes[id(node)]
        sizes[id(node)] = -1
        total = 1
        if isinstance(node, yaml.MappingNode):
            issues.extend(_duplicate_keys(node, path))
            for key, value in node.value:
                total += size(key, path) + size(value, _child_path(path, key))
        elif isinstance(node, yaml.SequenceNode):
            total += sum(size(item, f"{path}[{i}]") for i, item in enumerate(node.value))
        sizes[id(node)] = total
        if total > MAX_NODES:
            raise _invalid(source, None, f"manifest too large (more than {MAX_NODES} YAML nodes)")
        return total

    size(root, "")
    if issues:
        raise ManifestInvalid(source, issues)


def _duplicate_keys(node: yaml.MappingNode, path: str) -> list[ManifestIssue]:
    first_line: dict[tuple[str, str], int] = {}
    issues = []
    for key, _ in node.value:
        if not isinstance(key, yaml.ScalarNode) or key.tag == _MERGE_TAG:
            continue
        line = key.start_mark.line + 1
        identity = (key.tag, key.value)
        if identity in first_line:
            message = f"duplicate key {key.value!r} (first at line {first_line[identity]})"
            issues.append(ManifestIssue(path=path, line=line, message=message))
        else:
            first_line[identity] = line
    return issues


def _child_path(path: str, key: yaml.Node) -> str:
    name = key.value if isinstance(key, yaml.ScalarNode) else "?"
    return f"{path}.{name}" if path else str(name)


def locate(root: yaml.Node, location: tuple[str | int, ...]) -> tuple[list[str | int], int | None]:
    """Follow `location` down the node tree: the user's spelling of each part, and a line.

    Keys match exactly, else case-insensitively (replica types are normalised); where the path
    leaves the tree (a missing field), the rest keeps the given spelling and the line is the
    deepest node found.
    """
    spelled: list[str | int] = []
    node: yaml.Node | None = root
    line = root.start_mark.line + 1
    for part in location:
        found = _child(node, part) if node is not None else None
        if found is None:
            node = None
            spelled.append(part)
            continue
        key_text, node, key_line = found
        spelled.append(key_text)
        line = key_line
    return spelled, line


def _child(node: yaml.Node, part: str | int) -> tuple[str | int, yaml.Node, int] | None:
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int):
        if 0 <= part < len(node.value):
            item = node.value[part]
            return part, item, item.start_mark.line + 1
        return None
    if not isinstance(node, yaml.MappingNode):
        return None
    keys = [(k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode)]
    wanted = str(part)
    exact = [(k, v) for k, v in keys if k.value == wanted]
    loose = [(k, v) for k, v in keys if str(k.value).lower() == wanted.lower()]
    for key, value in exact or loose:
        spelling: str | int = key.value if isinstance(part, str) else part
        return spelling, value, key.start_mark.line + 1
    return None
