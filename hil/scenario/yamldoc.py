"""Reading YAML with the line of every mapping key and sequence item.

PyYAML throws positions away once it builds Python objects; scenario errors must
name the line. We compose the node graph, build plain dicts/lists ourselves (so
jsonschema sees ordinary data) and keep a side table from the data path
(`("steps", 3, "expect")`) to the 1-based line and column of that key or item.
Duplicate keys, which PyYAML silently lets the last one win, are reported. Mapping keys
that YAML 1.1 reads as booleans (`on`, `yes`) keep their text: a step's `on:` is a key.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from hil.errors import Problem, ScenarioLoadError, display_path

DataPath = tuple[object, ...]


@dataclass
class YamlDoc:
    """Plain data of one YAML file plus where every key/item was written."""

    path: Path
    data: object
    locations: dict[DataPath, tuple[int, int]] = field(default_factory=dict)

    def line_of(self, path: Sequence[object]) -> int:
        """Line of `path`, or of its nearest recorded ancestor (1 for the document)."""
        probe = tuple(path)
        while probe:
            if probe in self.locations:
                return self.locations[probe][0]
            probe = probe[:-1]
        return self.locations.get((), (1, 1))[0]

    def where(self, path: Sequence[object]) -> str:
        return f"{display_path(self.path)}:{self.line_of(path)}"

    def problem(self, path: Sequence[object], message: str) -> Problem:
        return Problem(self.path, self.line_of(path), message)


class _Loader(yaml.SafeLoader):
    """SafeLoader: no Python object tags, so a scenario can never execute code."""


def load_yaml(path: Path) -> YamlDoc:
    """Parse `path`; malformed YAML raises ScenarioLoadError naming file:line:column."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioLoadError([Problem(path, 0, f"{display_path(path)}: no such file")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        message = f"{display_path(path)}: cannot read: {exc}"
        raise ScenarioLoadError([Problem(path, 0, message)]) from None
    return parse_yaml(text, path=path)


def parse_yaml(text: str, *, path: Path) -> YamlDoc:
    loader = _Loader(text)
    doc = YamlDoc(path=path, data=None)
    problems: list[Problem] = []
    try:
        node = loader.get_single_node()
        if node is not None:
            doc.data = _build(node, (), doc=doc, loader=loader, problems=problems)
    except yaml.MarkedYAMLError as exc:
        raise ScenarioLoadError([_yaml_problem(exc, path)]) from None
    except yaml.YAMLError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ScenarioLoadError([Problem(path, 0, f"{display_path(path)}: {first}")]) from None
    finally:
        loader.dispose()
    if problems:
        raise ScenarioLoadError(problems)
    return doc


def _yaml_problem(exc: yaml.MarkedYAMLError, path: Path) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark is not None else (0, 0)
    what = exc.problem or "malformed YAML"
    context = f" ({exc.context})" if exc.context else ""
    message = f"{display_path(path)}:{line}:{column}: malformed YAML: {what}{context}"
    return Problem(path, line, message, column)


def _key(node: yaml.Node, loader: _Loader) -> object:
    """A mapping key; a plain word YAML 1.1 reads as a boolean (`on`, `off`, `yes`) keeps its text.

    A step's `on: b` (which device it acts on) must stay the key `on`, not True.
    """
    key = loader.construct_object(node, deep=True)
    if isinstance(key, bool) and isinstance(node, yaml.ScalarNode) and node.style is None:
        return str(node.value)
    return key


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _build(
    node: yaml.Node, path: DataPath, *, doc: YamlDoc, loader: _Loader, problems: list[Problem]
) -> object:
    doc.locations.setdefault(path, _mark(node))
    if isinstance(node, yaml.MappingNode):
        # Keys written here, as opposed to those a `<<: *anchor` merge brings in: a written key
        # overrides a merged one (YAML merge semantics); only two written ones are duplicates.
        written = {id(k) for k, _ in node.value if k.tag != "tag:yaml.org,2002:merge"}
        loader.flatten_mapping(node)  # resolves `<<: *anchor` merge keys
        result: dict[object, object] = {}
        first_line: dict[object, int] = {}
        merged: set[object] = set()
        for key_node, value_node in node.value:
            key = _key(key_node, loader)
            line, column = _mark(key_node)
            if not isinstance(key, str | int | float | bool) or key is None:
                problems.append(
                    Problem(
                        doc.path,
                        line,
                        f"mapping key at {doc.where(path)} must be a plain word",
                        column,
                    )
                )
                continue
            if key in result and key in merged and id(key_node) in written:
                merged.discard(key)  # the written value replaces the merged one
            elif key in result and id(key_node) not in written:
                continue  # a second merge of the same key: the first one stands
            elif key in result:
                where = f"{display_path(doc.path)}:{line}"
                problems.append(
                    Problem(
                        doc.path,
                        line,
                        f"duplicate key {key!r} at {where} "
                        f"(first written at line {first_line[key]})",
                        column,
                    )
                )
                continue
            if id(key_node) not in written:
                merged.add(key)
            first_line[key] = line
            doc.locations[(*path, key)] = (line, column)
            result[key] = _build(
                value_node, (*path, key), doc=doc, loader=loader, problems=problems
            )
        return result
    if isinstance(node, yaml.SequenceNode):
        return [
            _build(item, (*path, index), doc=doc, loader=loader, problems=problems)
            for index, item in enumerate(node.value)
        ]
    return loader.construct_object(node, deep=True)
