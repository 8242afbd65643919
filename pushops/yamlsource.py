"""Load YAML into plain data while remembering where every key and value came from.

PyYAML's C composer gives nodes with marks; we build the Python values ourselves so we can
record positions, refuse duplicate keys, and stop alias bombs before they expand. Timestamps
stay strings: the APIs take their own string formats and a YAML date would silently change type.

One reading: YAML 1.2's core schema, the one editors (yaml-language-server, check-jsonschema)
use, for every file pushops reads. ``yes``, ``on`` and ``10:30:00`` are text, ``017`` is 17,
``0o17`` is 15 and ``1e3`` is a number. YAML 1.1 (PyYAML's own resolver, and older tools)
reads such values differently; each one is a located warning (``yaml.version-difference``)
saying both readings and how to write the value so that both agree. Timestamps are not
compared: pushops has always kept them as written.

Two ways to the same data. The fast one reads libyaml's event stream once and builds the
values directly: no node objects, the implicit resolver replaced by a lookup on the
scalar's first character over the core schema's table (:func:`resolve_plain`). It handles
what campaign files are made of (mappings, sequences, untagged scalars) and gives up, without
a word, on anything else: anchors and aliases, explicit tags, merge keys, duplicate keys,
great depth, several documents, any syntax error, a value YAML 1.1 reads differently. Then
the reference way (compose the node
tree, build from it) loads the text again and gives the data or the located error, so every
error and every unusual document is the reference's. Positions are recorded while reading
for the first two levels (the campaign's keys and its messages, which rendering asks for on
every message); deeper ones compose the node tree on first use. The cyclic garbage collector
is paused while a document is built: a large, freshly allocated, acyclic tree is its worst
case (it more than doubled the time to load a campaign of 10,000 tasks).
"""

from __future__ import annotations

import gc
import json
import math
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import yaml

from pushops.diagnostics import Diagnostic, LocatedError
from pushops.repofile import RepoFileError, open_in

Path_ = tuple[str | int, ...]

# How many nodes aliases may add on top of the document's own: generous for real use, far
# below what a "billion laughs" document asks for.
MAX_ALIAS_EXPANSION = 100_000
MAX_DEPTH = 64
MAX_FILE_BYTES = 64 * 1024 * 1024

_STR = "tag:yaml.org,2002:str"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_MERGE = "tag:yaml.org,2002:merge"
_PLAIN_VALUES = (str, int, float, bool)
_constructor = yaml.constructor.SafeConstructor()


try:
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - libyaml missing
    _Loader = yaml.SafeLoader

VERSION_RULE = "yaml.version-difference"
_NULL = "tag:yaml.org,2002:null"
_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_DIGITS = "0123456789"
# YAML 1.2.2, 10.3.2 "Tag Resolution" of the core schema: (tag, regexp, first characters), in
# the order they are tried. The merge key is not YAML 1.2; it is resolved so that a merge is
# refused (yaml.merge-key) instead of read as a key named "<<".
_CORE = (
    (_NULL, re.compile(r"(?:~|null|Null|NULL)?\Z"), ["", "~", "n", "N"]),
    (_BOOL, re.compile(r"(?:true|True|TRUE|false|False|FALSE)\Z"), list("tTfF")),
    (_INT, re.compile(r"[-+]?[0-9]+\Z"), list("-+" + _DIGITS)),
    (_INT, re.compile(r"0o[0-7]+\Z"), ["0"]),
    (_INT, re.compile(r"0x[0-9a-fA-F]+\Z"), ["0"]),
    (
        _FLOAT,
        re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?\Z"),
        list("-+." + _DIGITS),
    ),
    (_FLOAT, re.compile(r"[-+]?\.(?:inf|Inf|INF)\Z"), list("-+.")),
    (_FLOAT, re.compile(r"\.(?:nan|NaN|NAN)\Z"), ["."]),
    (_MERGE, re.compile(r"<<\Z"), ["<"]),
)
_CORE_TAGS = frozenset((_NULL, _BOOL, _INT, _FLOAT))
# A plain scalar's resolved tag carries this prefix while the tree is built, so the builder
# tells a value typed by resolution (compared with YAML 1.1) from an explicit tag (``!!int``).
_PLAIN = "plain:"


class _CoreLoader(_Loader):  # type: ignore[misc, valid-type]
    """libyaml's parser and composer, resolving plain scalars by YAML 1.2's core schema."""

    yaml_implicit_resolvers: ClassVar[dict[Any, list[tuple[str, Any]]]] = {}

    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        tag: str = super().resolve(kind, value, implicit)
        if kind is yaml.ScalarNode and implicit[0]:
            return _PLAIN + tag
        return tag


for _tag, _regexp, _first in _CORE:
    _CoreLoader.add_implicit_resolver(_tag, _regexp, _first)


def _core_value(tag: str, text: str) -> Any:
    """The value of ``text`` as ``tag`` of the core schema (ValueError if it is not one)."""
    if not any(t == tag and r.match(text) for t, r, _ in _CORE):
        raise ValueError(f"{text!r} is not a YAML 1.2 {tag.rsplit(':', 1)[-1]}")
    if tag == _NULL:
        return None
    if tag == _BOOL:
        return text in ("true", "True", "TRUE")
    if tag == _INT:
        if text.startswith(("0o", "0x")):
            return int(text[2:], 8 if text[1] == "o" else 16)
        return int(text, 10)
    if text.lower().endswith("nan"):
        return math.nan
    if text.lower().endswith("inf"):
        return -math.inf if text.startswith("-") else math.inf
    return float(text)


_SKIP = object()  # YAML 1.1 reads it as nothing pushops could compare


def _value_11(text: str) -> Any:
    """What YAML 1.1 (PyYAML's resolver) makes of a plain scalar; timestamps stay text."""
    tag = _resolve_11(text)
    if tag in (_STR, _TIMESTAMP):
        return text
    if tag not in _CORE_TAGS:
        return _SKIP  # merge keys, '=' values: not values at all
    try:
        return _constructor.yaml_constructors[tag](_constructor, yaml.ScalarNode(tag, text))
    except Exception:
        return _SKIP


def _differs(value: Any, old: Any) -> bool:
    if old is _SKIP:
        return False
    if type(value) is not type(old):
        return True
    if isinstance(value, float) and math.isnan(value):
        return not math.isnan(old)
    return bool(value != old)


def _shown(value: Any) -> str:
    if isinstance(value, str):
        return f"the text {json.dumps(value, ensure_ascii=False)}"
    if isinstance(value, bool):
        return f"the boolean {json.dumps(value)}"
    if value is None:
        return "null"
    return f"the number {value!r}"


def version_warning(text: str, value: Any, old: Any) -> str:
    """What a plain scalar means in each YAML version, and how to write it for both."""
    quoted = json.dumps(text, ensure_ascii=False)
    kinds = {bool: "the boolean", int: "the number", float: "the number", type(None): "null"}
    if isinstance(value, str):
        fix = f"write {quoted} in quotes for the text"
        if type(old) in kinds:
            fix += f", or {json.dumps(old)} for {kinds[type(old)]}"
    else:
        fix = f"write {json.dumps(value)} for {kinds[type(value)]}, or {quoted} in quotes for "
        fix += "the text"
    return (
        f"{text} is read as {_shown(value)} (YAML 1.2, as pushops and editors read it) but as "
        f"{_shown(old)} by YAML 1.1 tools; {fix}"
    )


_WALKED_KEPT = 4096


@dataclass
class SourceDocument:
    """A YAML file's data with 1-based (line, column) of each value and each mapping key.

    Positions are indexed from the node tree on first use: most documents are valid and never
    ask, and recording every position up front doubled the cost of loading a large campaign.
    """

    file: str
    data: Any
    root: Any = None  # the composed yaml.Node tree (see :meth:`tree`)
    _values: dict[Path_, tuple[int, int]] | None = field(default=None, repr=False)
    _keys: dict[Path_, tuple[int, int]] | None = field(default=None, repr=False)
    # Fast loading: the text (the tree is composed from it on demand) and the positions of
    # the first two levels, by raw key text as :meth:`_walk` matches them.
    _text: str | bytes | None = field(default=None, repr=False)
    _shallow_values: dict[Path_, tuple[int, int]] | None = field(default=None, repr=False)
    _shallow_keys: dict[Path_, tuple[int, int]] | None = field(default=None, repr=False)
    # Values YAML 1.1 reads differently (see the module's docstring), located.
    warnings: list[Diagnostic] = field(default_factory=list)
    # The editor's schema modeline, if the file has one: (path, line, column).
    schema_link: tuple[str, int, int] | None = None
    # Positions found by walking the tree, by (path, key): a fan-out template that is wrong
    # locates the same field for every row. A cache: not part of what the document is.
    _walked: dict[tuple[Path_, bool], tuple[int, int]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def tree(self) -> Any:
        """The composed node tree; composed from the text on first use after fast loading."""
        if self.root is None and self._text is not None:
            with paused_gc():
                self.root = yaml.compose(self._text, Loader=_Loader)
        return self.root

    @property
    def values(self) -> dict[Path_, tuple[int, int]]:
        if self._values is None:
            self._index()
        assert self._values is not None
        return self._values

    @property
    def keys(self) -> dict[Path_, tuple[int, int]]:
        if self._keys is None:
            self._index()
        assert self._keys is not None
        return self._keys

    def _index(self) -> None:
        values: dict[Path_, tuple[int, int]] = {}
        keys: dict[Path_, tuple[int, int]] = {}
        root = self.tree()
        stack: list[tuple[Any, Path_]] = [(root, ())] if root is not None else []
        # Loading already bounded alias expansion, so this walk is bounded too.
        while stack:
            node, path = stack.pop()
            values.setdefault(path, _pos(node.start_mark))
            if isinstance(node, yaml.MappingNode):
                for key_node, value_node in node.value:
                    if isinstance(key_node, yaml.ScalarNode):
                        child = (*path, key_node.value)
                        keys.setdefault(child, _pos(key_node.start_mark))
                        stack.append((value_node, child))
            elif isinstance(node, yaml.SequenceNode):
                stack.extend((item, (*path, i)) for i, item in enumerate(node.value))
        self._values, self._keys = values, keys

    def _walk(self, path: Path_, key: bool) -> tuple[int, int] | None:
        """The position by walking the node tree along ``path``; None where it leaves it."""
        node = self.tree()
        key_node = None
        for part in path:
            key_node = None
            if isinstance(node, yaml.MappingNode) and isinstance(part, str):
                found = next(((k, v) for k, v in node.value if k.value == part), None)
                if found is None:
                    return None
                key_node, node = found
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
                if not 0 <= part < len(node.value):
                    return None
                node = node.value[part]
            else:
                return None
        if node is None:
            return None
        return _pos((key_node if key and key_node is not None else node).start_mark)

    def position(self, path: Path_, *, key: bool = False) -> tuple[int, int]:
        """Where ``path`` is written; falls back to the nearest written ancestor."""
        shallow = self._shallow_values
        if shallow is not None and self.root is None and len(path) <= 2:
            # The first two levels were recorded while loading (all of them, so a path that
            # is not there is not written, exactly as walking the tree would find).
            keys = self._shallow_keys if key else None
            probe = tuple(path)
            while True:
                if keys is not None and probe in keys:
                    return keys[probe]
                if probe in shallow:
                    return shallow[probe]
                probe = probe[:-1]
        if self._values is None and self.tree() is not None:
            # Walking one path is cheap; indexing every position is not.
            asked = (tuple(path), key)
            known = self._walked.get(asked)
            if known is not None:
                return known
            if len(self._walked) >= _WALKED_KEPT:
                self._walked.clear()  # paths into rendered maps may differ row by row
            probe = asked[0]
            found = None
            while probe and found is None:
                found = self._walk(probe, key)
                probe = probe[:-1]
            self._walked[asked] = found or _pos(self.root.start_mark)
            return self._walked[asked]
        table = self.keys if key else self.values
        probe = tuple(path)
        while probe:
            if probe in table:
                return table[probe]
            if probe in self.values:
                return self.values[probe]
            probe = probe[:-1]
        return self.values.get((), (1, 1))

    def diagnostic(
        self,
        path: Path_,
        message: str,
        rule: str,
        *,
        severity: str = "error",
        key: bool = False,
        display_path: str | None = None,
    ) -> Diagnostic:
        line, column = self.position(path, key=key)
        return Diagnostic(
            self.file,
            line,
            column,
            display_path if display_path is not None else format_path(path),
            message,
            rule,
            severity,
        )


def format_path(path: Path_) -> str:
    """``('tasks', 0, 'Title')`` -> ``tasks[0].Title``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _pos(mark: Any) -> tuple[int, int]:
    return (mark.line + 1, mark.column + 1)


class _Builder:
    def __init__(self, doc: SourceDocument, root: yaml.Node) -> None:
        self.doc = doc
        self.root = root
        self.built: dict[int, Any] = {}
        self.sizes: dict[int, int] = {}
        self.alias_budget: int | None = None  # set at the first alias: most files have none
        self.active: set[int] = set()

    def fail(self, node: yaml.Node, message: str, rule: str, path: Path_) -> LocatedError:
        line, column = _pos(node.start_mark)
        return LocatedError(
            Diagnostic(self.doc.file, line, column, format_path(path), message, rule)
        )

    def size(self, node: yaml.Node) -> int:
        key = id(node)
        if key not in self.sizes:
            self.sizes[key] = 1  # guards against recursive aliases while measuring
            if isinstance(node, yaml.MappingNode):
                n = 1 + sum(self.size(k) + self.size(v) for k, v in node.value)
            elif isinstance(node, yaml.SequenceNode):
                n = 1 + sum(self.size(v) for v in node.value)
            else:
                n = 1
            self.sizes[key] = n
        return self.sizes[key]

    def build(self, node: yaml.Node, path: Path_, depth: int = 0) -> Any:
        if depth > MAX_DEPTH:
            raise self.fail(node, f"nested deeper than {MAX_DEPTH} levels", "yaml.depth", path)
        if id(node) in self.active:
            raise self.fail(node, "an alias refers to itself", "yaml.recursive-alias", path)
        if id(node) in self.built:
            # An alias: the same node again. Charge its whole size so expansion stays bounded.
            if self.alias_budget is None:
                self.alias_budget = MAX_ALIAS_EXPANSION + _distinct_nodes(self.root)
            self.alias_budget -= self.size(node)
            if self.alias_budget < 0:
                raise self.fail(
                    node,
                    "aliases expand this document beyond the allowed size (alias bomb?)",
                    "yaml.alias-expansion",
                    path,
                )
        if isinstance(node, yaml.ScalarNode):
            value = self.scalar(node, path)
        elif isinstance(node, yaml.SequenceNode):
            self.active.add(id(node))
            value = [self.build(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
            self.active.discard(id(node))
        elif isinstance(node, yaml.MappingNode):
            self.active.add(id(node))
            value = self.mapping(node, path, depth)
            self.active.discard(id(node))
        else:  # pragma: no cover - PyYAML has only these three
            raise self.fail(node, "unsupported YAML node", "yaml.syntax", path)
        self.built[id(node)] = True
        return value

    def scalar(self, node: yaml.ScalarNode, path: Path_, *, compare: bool = True) -> Any:
        tag, text = node.tag, node.value
        if tag.startswith(_PLAIN):  # typed by the core schema's resolution
            tag = tag[len(_PLAIN) :]
            value = text if tag == _STR else _core_value(tag, text)
            if compare:
                old = _value_11(text)
                if _differs(value, old):
                    line, column = _pos(node.start_mark)
                    self.doc.warnings.append(
                        Diagnostic(
                            self.doc.file,
                            line,
                            column,
                            format_path(path),
                            version_warning(text, value, old),
                            VERSION_RULE,
                            "warning",
                        )
                    )
            return value
        if tag in (_STR, _TIMESTAMP):
            return text
        try:
            if tag in _CORE_TAGS:  # an explicit !!int, !!float, !!bool or !!null
                value = _core_value(tag, text)
            else:
                value = _constructor.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, TypeError) as exc:
            raise self.fail(node, f"invalid scalar: {exc}", "yaml.syntax", path) from None
        if value is not None and type(value) not in _PLAIN_VALUES:
            # `!!binary` gives bytes: no field takes them, and they are not text to show.
            raise self.fail(
                node,
                f"the YAML tag {node.tag.replace('tag:yaml.org,2002:', '!!')} is not supported; "
                "write the value as plain text",
                "yaml.tag",
                path,
            )
        return value

    def mapping(self, node: yaml.MappingNode, path: Path_, depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        first_line: dict[str, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag in (_MERGE, _PLAIN + _MERGE):
                raise self.fail(
                    key_node, "YAML merge keys (<<) are not supported", "yaml.merge-key", path
                )
            if not isinstance(key_node, yaml.ScalarNode):
                raise self.fail(key_node, "mapping keys must be plain text", "yaml.key", path)
            self.scalar(key_node, path, compare=False)  # its tag checked like a value's
            # A key is its text as written: `yes:`, `~:` and `0x10:` name themselves (a message
            # naming `true`, `None` or `16` would point at nothing in the file).
            key = key_node.value
            child = (*path, key)
            if key in first_line:
                raise self.fail(
                    key_node,
                    f"duplicate key {key!r} (first defined at line {first_line[key]})",
                    "yaml.duplicate-key",
                    child,
                )
            first_line[key] = key_node.start_mark.line + 1
            out[key] = self.build(value_node, child, depth + 1)
        return out


def _located_yaml_error(file: str, exc: yaml.YAMLError, text: str | bytes) -> LocatedError:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line, column = _pos(mark) if mark is not None else (1, 1)
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    message = f"{context}, {problem}" if context else str(problem)
    if isinstance(exc, yaml.reader.ReaderError):
        message = "not a UTF-8 text file (binary data or a bad encoding)"
        line, column = 1, 1
    if isinstance(text, str) and mark is not None:
        lines = text.splitlines()
        if mark.line < len(lines) and "\t" in lines[mark.line][: mark.column + 1]:
            message += " (a tab: YAML indents with spaces only)"
    return LocatedError(Diagnostic(file, line, column, "", message, "yaml.syntax"))


def _distinct_nodes(root: yaml.Node) -> int:
    """How many nodes the document really holds (each aliased node once)."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                stack.extend((key, value))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
    return len(seen)


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector (not reference counting) while building a large
    acyclic structure; restored on exit, whatever its state was."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# -- the fast way: one pass over libyaml's events ----------------------------------------------

# YAML 1.1's resolvers (PyYAML's table), by first character, to compare with; ``None`` holds
# resolvers that apply to every first character (none in SafeLoader).
_WILDCARD: list[tuple[str, Any]] = list(_Loader.yaml_implicit_resolvers.get(None, []))
_RESOLVERS_11: dict[str, list[tuple[str, Any]]] = {
    first: [*resolvers, *_WILDCARD]
    for first, resolvers in _Loader.yaml_implicit_resolvers.items()
    if first is not None
}
_RESOLVERS: dict[str, list[tuple[str, Any]]] = {
    first: list(resolvers)
    for first, resolvers in _CoreLoader.yaml_implicit_resolvers.items()
    if first is not None
}
_SCALARS: dict[str, Any] = {}  # text -> value, for texts either version may type
_GIVE_UP = object()


def resolve_plain(text: str) -> str:
    """The tag YAML 1.2's core schema resolves a plain (unquoted, untagged) scalar to."""
    for tag, regexp in _RESOLVERS.get(text[:1], ()):
        if regexp.match(text):
            return tag
    return _STR


def _resolve_11(text: str) -> str:
    """The tag YAML 1.1 (PyYAML's SafeLoader) resolves a plain scalar to."""
    for tag, regexp in _RESOLVERS_11.get(text[:1], _WILDCARD):
        if regexp.match(text):
            return tag
    return _STR


def _plain(text: str) -> Any:
    """A plain scalar's value as the reference builder makes it, or :data:`_GIVE_UP`."""
    first = text[:1]
    if first not in _RESOLVERS and not _RESOLVERS_11.get(first, _WILDCARD):
        return text
    found = _SCALARS.get(text, _GIVE_UP)
    if found is _GIVE_UP and text not in _SCALARS:
        tag = resolve_plain(text)
        if tag == _MERGE:
            found = _GIVE_UP  # the reference refuses it where it stands
        else:
            found = text if tag == _STR else _core_value(tag, text)
            if _differs(found, _value_11(text)):
                found = _GIVE_UP  # the reference builds it, with its warning
        if len(_SCALARS) >= 4096:
            _SCALARS.clear()
        _SCALARS[text] = found
    return found


def _fast_parse(text: str | bytes, file: str) -> SourceDocument | None:
    """The document read in one pass over the events, or None to let the reference decide."""
    loader = _Loader(text)
    try:
        built = _from_events(loader.get_event)
    except Exception:  # any parse problem: the reference locates it
        return None
    finally:
        loader.dispose()
    if built is None:
        return None
    data, values, keys = built
    return SourceDocument(
        file=file, data=data, _text=text, _shallow_values=values, _shallow_keys=keys
    )


def _from_events(next_event: Any) -> tuple[Any, dict[Path_, Any], dict[Path_, Any]] | None:
    scalar_event, mapping_start, sequence_start = (
        yaml.ScalarEvent,
        yaml.MappingStartEvent,
        yaml.SequenceStartEvent,
    )
    if type(next_event()) is not yaml.StreamStartEvent:
        return None
    if type(next_event()) is not yaml.DocumentStartEvent:
        return None  # no document: the reference reports the empty file
    values: dict[Path_, tuple[int, int]] = {}
    keys: dict[Path_, tuple[int, int]] = {}
    # Open containers: [container, is_mapping, path (to depth 1, else None), pending key,
    # pending raw key]; the node being read sits at depth len(stack).
    stack: list[list[Any]] = []
    root: Any = None
    while True:
        event = next_event()
        kind = type(event)
        if kind is scalar_event:
            if event.anchor is not None or event.tag is not None:
                return None
            raw = event.value
            if stack and stack[-1][1] and stack[-1][3] is None:  # a key: its text as written
                if raw == "<<" and event.implicit[0]:
                    return None  # a merge: the reference refuses it
                value = raw
            else:
                value = _plain(raw) if event.implicit[0] else raw
                if value is _GIVE_UP:
                    return None
            container = None
        elif kind is mapping_start or kind is sequence_start:
            if event.anchor is not None or event.tag is not None or len(stack) >= MAX_DEPTH:
                return None
            value = container = {} if kind is mapping_start else []
        elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
            stack.pop()
            continue
        elif kind is yaml.DocumentEndEvent:
            break
        else:  # aliases, and anything unexpected
            return None
        if not stack:
            root = value
            values[()] = (event.start_mark.line + 1, event.start_mark.column + 1)
            if container is not None:
                stack.append([container, kind is mapping_start, (), None, None])
            continue
        top = stack[-1]
        parent = top[0]
        if top[1]:  # a mapping
            if top[3] is None:  # this is a key
                if container is not None:
                    return None
                if value in parent:
                    return None  # duplicate: the reference reports it
                top[3] = value
                top[4] = raw
                if top[2] is not None:
                    mark = event.start_mark
                    keys[(*top[2], raw)] = (mark.line + 1, mark.column + 1)
                continue
            parent[top[3]] = value
            path = (*top[2], top[4]) if top[2] is not None else None
            top[3] = None
        else:
            path = (*top[2], len(parent)) if top[2] is not None else None
            parent.append(value)
        if path is not None:
            mark = event.start_mark
            values[path] = (mark.line + 1, mark.column + 1)
        if container is not None:
            tracked = path if path is not None and len(path) < 2 else None
            stack.append([container, kind is mapping_start, tracked, None, None])
    if type(next_event()) is not yaml.StreamEndEvent:
        return None  # another document: the reference reports it
    return root, values, keys


# -- the reference way: compose the node tree, then build ------------------------------------


def parse_text(text: str | bytes, file: str) -> SourceDocument:
    """Parse one YAML document; every failure is a :class:`LocatedError`."""
    with paused_gc():
        doc = _fast_parse(text, file)
        if doc is None:
            doc = reference_parse(text, file)
    return doc


def reference_parse(text: str | bytes, file: str) -> SourceDocument:
    """:func:`parse_text` by composing the node tree (every error located here)."""
    doc = SourceDocument(file=file, data=None)
    try:
        node = yaml.compose(text, Loader=_CoreLoader)
    except yaml.composer.ComposerError as exc:
        if "expected a single document" in str(exc):
            raise LocatedError(
                Diagnostic(
                    file,
                    *_pos(exc.problem_mark),
                    "",
                    "a campaign file holds exactly one YAML document (found '---' and another)",
                    "yaml.multiple-documents",
                )
            ) from None
        raise _located_yaml_error(file, exc, text) from None
    except yaml.YAMLError as exc:
        raise _located_yaml_error(file, exc, text) from None
    if node is None:
        raise LocatedError(Diagnostic(file, 1, 1, "", "the file is empty", "yaml.empty"))
    builder = _Builder(doc, node)
    doc.data = builder.build(node, ())
    doc.root = node
    return doc


# ``# yaml-language-server: $schema=PATH`` on a line of its own: the schema an editor checks
# the file with (yaml-language-server reads it anywhere in the file).
_MODELINE = re.compile(r"^[ \t]*#[ \t]*yaml-language-server[ \t]*:[ \t]*\$schema=(\S+)", re.M)


def schema_link(text: str) -> tuple[str, int, int] | None:
    """The schema a modeline names, with its 1-based line and column, if there is one."""
    found = _MODELINE.search(text)
    if found is None:
        return None
    line = text.count("\n", 0, found.start(1)) + 1
    column = found.start(1) - (text.rfind("\n", 0, found.start(1)) + 1) + 1
    return found.group(1), line, column


def load_file(path: Path, display: str | None = None, *, root: Path) -> SourceDocument:
    """Read and parse a YAML file of the repository at ``root`` (:mod:`pushops.repofile`:
    never one outside it). ``display`` is the name used in messages."""
    name = display or str(path)
    try:
        with open_in(root, path) as fh:
            if os.fstat(fh.fileno()).st_size > MAX_FILE_BYTES:
                raise LocatedError(
                    Diagnostic(name, 1, 1, "", "file is larger than 64 MiB", "file.too-large")
                )
            raw = fh.read(MAX_FILE_BYTES + 1)
    except RepoFileError as exc:
        raise LocatedError(Diagnostic(name, 1, 1, "", str(exc), exc.rule)) from None
    except OSError as exc:
        raise LocatedError(
            Diagnostic(name, 1, 1, "", f"cannot read: {exc.strerror}", "file.unreadable")
        ) from None
    if len(raw) > MAX_FILE_BYTES:
        raise LocatedError(
            Diagnostic(name, 1, 1, "", "file is larger than 64 MiB", "file.too-large")
        )
    if b"\x00" in raw[:8192]:
        raise LocatedError(
            Diagnostic(name, 1, 1, "", "not a text file (binary data)", "yaml.syntax")
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise LocatedError(
            Diagnostic(name, line, 1, "", "not valid UTF-8 text", "yaml.syntax")
        ) from None
    doc = parse_text(text, name)
    doc.schema_link = schema_link(text)
    return doc


# -- writing: YAML both versions read alike ---------------------------------------------------


class _BothVersionsDumper(yaml.SafeDumper):
    """PyYAML's dumper quoting any text that YAML 1.1 or YAML 1.2 would read as something
    else (``yes``, ``1e3``, ``0o17``): its resolver knows both versions' implicit types."""


for _tag, _regexp, _first in _CORE:
    _BothVersionsDumper.add_implicit_resolver(_tag, _regexp, _first)


def dump(data: Any) -> str:
    """``data`` as block YAML that YAML 1.1 and 1.2 readers read as the same values."""
    return yaml.dump(
        data, Dumper=_BothVersionsDumper, sort_keys=False, allow_unicode=True, width=1 << 20
    )
