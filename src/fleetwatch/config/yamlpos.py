"""YAML loading that remembers where every key and item came from.

``load_yaml(text, file)`` returns a ``Document``: the plain Python data (``yaml.SafeLoader``
semantics, the libyaml parser when available) plus the 1-based line of every mapping key and
sequence item, addressed by its JSON path (a tuple of keys and indices).  Syntax errors and
duplicate mapping keys become ``ConfigError`` naming the file and line.

Both loaders take hostile text in bounded time and memory: nesting past ``MAX_DEPTH`` is
refused from the event stream before anything is built (libyaml's composer recurses in C and
crashes the process past some 40,000 levels), aliases and ``<<`` merges may expand the
document to ``MAX_EXPANDED`` nodes at most (the billion laughs), a recursive alias and a
scalar over ``MAX_SCALAR`` characters are refused: each a ``YamlLimitError`` naming the line.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.constructor import SafeConstructor

from fleetwatch.errors import ConfigError

_Loader: type[yaml.CSafeLoader] | type[yaml.SafeLoader] = getattr(
    yaml, "CSafeLoader", yaml.SafeLoader
)  # libyaml's parser when PyYAML was built with it


MAX_BYTES = 64 * 1024 * 1024
MAX_DEPTH = 100
MAX_EXPANDED = 5_000_000
MAX_SCALAR = 1024 * 1024

_OPEN = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_CLOSE = (yaml.MappingEndEvent, yaml.SequenceEndEvent)


class YamlLimitError(ConfigError, yaml.YAMLError):
    """Text past a limit of the loaders (a YAMLError too, for callers that catch those)."""


def load_data(text: str, file: str = "<string>") -> Any:
    """Plain YAML data, parsed by libyaml where PyYAML has it (build outputs run to MBs)."""
    aliases = _check_text(text, file)
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if aliases:
            _check_graph(node, file)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _check_text(text: str, file: str) -> bool:
    """Size, nesting depth and scalar lengths, from the event stream (it stops at the first
    problem); True if the text uses aliases (only then can it expand or contain itself)."""
    if len(text) > MAX_BYTES:
        raise YamlLimitError(file, f"is larger than {MAX_BYTES // (1024 * 1024)} MiB: not read")
    depth = 0
    aliases = False
    try:
        for event in yaml.parse(text, Loader=_Loader):
            if isinstance(event, yaml.ScalarEvent):
                if len(event.value) > MAX_SCALAR:
                    raise YamlLimitError(
                        file,
                        f"a value longer than {MAX_SCALAR // 1024} KiB: not read",
                        _line(event),
                    )
            elif isinstance(event, _OPEN):
                depth += 1
                if depth > MAX_DEPTH:
                    raise YamlLimitError(
                        file, f"nested deeper than {MAX_DEPTH} levels: not read", _line(event)
                    )
            elif isinstance(event, _CLOSE):
                depth -= 1
            elif isinstance(event, yaml.AliasEvent):
                aliases = True
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow, e.g. U+0008
        line = text.count("\n", 0, exc.position) + 1
        col = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        code = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1])
        message = f"YAML does not allow the character U+{code:04X} (column {col})"
        raise YamlLimitError(file, message, line) from None
    except yaml.MarkedYAMLError:
        return True  # the parse proper reports it with its line
    return aliases


def _line(event: yaml.Event) -> int | None:
    return event.start_mark.line + 1 if event.start_mark else None


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _check_graph(root: yaml.Node, file: str) -> None:
    """Expanded size (every alias counted each time it is used) and recursive aliases: one
    pass over the distinct nodes, sizes memoised, no recursion."""
    sizes: dict[int, int] = {}
    entered: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, leaving = stack.pop()
        key = id(node)
        line = node.start_mark.line + 1
        if leaving:
            entered.discard(key)
            sizes[key] = 1 + sum(sizes[id(c)] for c in _children(node))
            if sizes[key] > MAX_EXPANDED:
                raise YamlLimitError(
                    file,
                    f"aliases and merges expand this document past {MAX_EXPANDED:,} nodes "
                    "(an alias bomb?): not read",
                    line,
                )
            continue
        if key in sizes:
            continue
        if key in entered:
            raise YamlLimitError(file, "a recursive alias (a node that contains itself)", line)
        if isinstance(node, yaml.ScalarNode):
            sizes[key] = 1
            continue
        entered.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in _children(node) if id(c) not in sizes)


PathItem = str | int
JsonPath = tuple[PathItem, ...]

_MERGE_TAG = "tag:yaml.org,2002:merge"


@dataclass(frozen=True)
class Document:
    """Parsed YAML data and the line of each JSON path inside it."""

    data: Any
    lines: dict[JsonPath, int] = field(default_factory=dict)

    def line(self, path: Iterable[PathItem]) -> int:
        """Line of ``path``, or of its nearest recorded ancestor (1 for the document root)."""
        p = tuple(path)
        while p:
            if p in self.lines:
                return self.lines[p]
            p = p[:-1]
        return self.lines.get((), 1)


def format_path(path: Iterable[PathItem]) -> str:
    """``("deployments", 0, "hosts", 2, "port")`` -> ``deployments[0].hosts[2].port``."""
    out = ""
    for item in path:
        if isinstance(item, int):
            out += f"[{item}]"
        else:
            out += f".{item}" if out else str(item)
    return out


def load_yaml(text: str, file: str) -> Document:
    """Parse one YAML document; raise ``ConfigError`` on syntax errors or duplicate keys."""
    aliases = _check_text(text, file)
    loader = _Loader(text)
    try:
        try:
            node = loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            raise _syntax_error(exc, file) from None
        if node is None:
            return Document(None, {(): 1})
        return _document(loader, node, file, aliases)
    finally:
        loader.dispose()


def load_yaml_all(text: str, file: str) -> list[Document]:
    """Every document of a ``---`` separated stream (Kubernetes manifests), with lines."""
    aliases = _check_text(text, file)
    loader = _Loader(text)
    docs: list[Document] = []
    try:
        while True:
            try:
                if not loader.check_node():
                    return docs
                node = loader.get_node()
            except yaml.MarkedYAMLError as exc:
                raise _syntax_error(exc, file) from None
            if node is not None:
                docs.append(_document(loader, node, file, aliases))
    finally:
        loader.dispose()


def _document(loader: Any, node: yaml.Node, file: str, aliases: bool) -> Document:
    """One composed document: its graph checked, its lines recorded, then constructed."""
    if aliases:
        _check_graph(node, file)
    lines: dict[JsonPath, int] = {(): node.start_mark.line + 1}
    _Walker(loader, file, lines).walk(node, ())
    try:
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(exc, file) from None
    return Document(data, lines)


def _syntax_error(exc: yaml.MarkedYAMLError, file: str) -> ConfigError:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark is not None else None
    parts = [p for p in (exc.context, exc.problem) if p]
    reason = ", ".join(parts) if parts else "invalid YAML"
    return ConfigError(file, f"YAML syntax error: {reason}", line)


class _Walker:
    """Walk the node graph before construction: record lines, reject duplicate keys."""

    def __init__(self, loader: SafeConstructor, file: str, lines: dict[JsonPath, int]) -> None:
        self.loader = loader
        self.file = file
        self.lines = lines
        self.active: set[int] = set()  # nodes on the current walk (recursive aliases)

    def walk(self, node: yaml.Node, path: JsonPath) -> None:
        if id(node) in self.active:
            return
        self.active.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode):
                self._mapping(node, path)
            elif isinstance(node, yaml.SequenceNode):
                for index, item in enumerate(node.value):
                    self.lines.setdefault((*path, index), item.start_mark.line + 1)
                    self.walk(item, (*path, index))
        finally:
            self.active.discard(id(node))

    def _mapping(self, node: yaml.MappingNode, path: JsonPath) -> None:
        """Own keys first (they win), then keys brought in by ``<<`` merges."""
        seen: dict[Hashable, int] = {}
        merges: list[yaml.Node] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                merges.append(value_node)
                continue
            key = self._key(key_node)
            line = key_node.start_mark.line + 1
            if key is None:
                continue
            if key in seen:
                raise ConfigError(
                    self.file,
                    f"duplicate key {key!r} (first defined on line {seen[key]})",
                    line,
                    format_path((*path, str(key))),
                )
            seen[key] = line
            child = (*path, key if isinstance(key, str) else str(key))
            self.lines.setdefault(child, line)
            self.walk(value_node, child)
        for merge in merges:
            sources = merge.value if isinstance(merge, yaml.SequenceNode) else [merge]
            for source in sources:
                if isinstance(source, yaml.MappingNode) and id(source) not in self.active:
                    self.active.add(id(source))
                    try:
                        self._mapping(source, path)
                    finally:
                        self.active.discard(id(source))

    def _key(self, key_node: yaml.Node) -> Hashable | None:
        """The constructed value of a scalar key (complex keys are left to the constructor)."""
        if not isinstance(key_node, yaml.ScalarNode):
            return None
        try:
            value = self.loader.construct_object(key_node)
        except yaml.MarkedYAMLError as exc:
            raise _syntax_error(exc, self.file) from None
        return value if isinstance(value, Hashable) else None
