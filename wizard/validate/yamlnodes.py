"""YAML with positions: compose a node tree (every node keeps its line and column), detect duplicate
mapping keys (PyYAML keeps the last one silently), and construct values without ever raising.

Two loaders: `Yaml11Loader` reads like the CodeDeploy agent's Ruby parser (YAML 1.1: `0644` is 420,
`yes`/`on` are booleans); `Yaml12Loader` reads booleans only from true/false, so that the key `on`
in a .travis.yml or a GitHub workflow stays the string "on" (as Travis and GitHub read it).
Only PyYAML and the standard library: the sandbox's simulated agent imports this.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from wizard.validate.model import ERROR, Finding


class _RecordsAliases(yaml.SafeLoader):
    """Keeps every alias event (`*name`) the composer meets, in `alias_events`, so a validator can
    say where an alias is used: the CodeDeploy agent's loader refuses them (see appspec.py)."""

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self.alias_events: list[yaml.events.AliasEvent] = []

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.events.AliasEvent):
            self.alias_events.append(self.peek_event())
        return super().compose_node(parent, index)


class Yaml11Loader(_RecordsAliases):
    """Plain YAML 1.1 safe loading (what Ruby's Psych does for appspec files)."""


class Yaml12Loader(_RecordsAliases):
    """Safe loading where only true/false are booleans (`on`, `yes`, `off` stay strings)."""


Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)

MERGE_TAG = "tag:yaml.org,2002:merge"
BAD = object()  # a value that could not be constructed


def pos(node_or_mark: Any) -> tuple[int, int]:
    """1-based (line, column) of a node or a mark."""
    mark = getattr(node_or_mark, "start_mark", node_or_mark)
    if mark is None:
        return 1, 1
    return int(getattr(mark, "line", 0)) + 1, int(getattr(mark, "column", 0)) + 1


def yaml_error_finding(exc: BaseException, rule: str, text: str = "") -> Finding:
    """Turn any parser error into one finding at the place the parser stopped."""
    line, col = 1, 1
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if mark is not None:
        line, col = pos(mark)
    elif isinstance(exc, yaml.reader.ReaderError) and text:
        before = text[: exc.position]
        line = before.count("\n") + 1
        col = len(before) - (before.rfind("\n") + 1) + 1
    if isinstance(exc, yaml.MarkedYAMLError):
        parts = [p for p in (exc.context, exc.problem) if p]
        message = ", ".join(parts) or "not valid YAML"
    elif isinstance(exc, yaml.reader.ReaderError):
        message = (
            f"character {exc.character!r} is not allowed in YAML"
            if isinstance(exc.character, str)
            else f"cannot decode byte {exc.character!r} ({exc.reason})"
        )
    elif isinstance(exc, RecursionError):
        message = "nesting or anchors too deep to read"
    else:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return Finding(line, col, ERROR, rule, f"not valid YAML: {message}")


def compose(text: str, loader_cls: type, rule: str) -> tuple[Node | None, Any, Finding | None]:
    """Compose the single document in `text`. Returns (root or None, loader, error finding)."""
    try:
        loader = loader_cls(text)  # the reader rejects control characters right here
    except (yaml.YAMLError, ValueError) as exc:
        return None, None, yaml_error_finding(exc, rule, text)
    try:
        root = loader.get_single_node()
        return root, loader, None
    except yaml.composer.ComposerError as exc:
        if "expected a single document" in str(exc):
            line, col = pos(exc.problem_mark)
            return (
                None,
                loader,
                Finding(
                    line,
                    col,
                    ERROR,
                    rule,
                    "more than one YAML document (a second `---`): put everything in one",
                ),
            )
        return None, loader, yaml_error_finding(exc, rule, text)
    except (yaml.YAMLError, RecursionError, ValueError) as exc:
        return None, loader, yaml_error_finding(exc, rule, text)


def compose_first(
    text: str, loader_cls: type, rule: str
) -> tuple[Node | None, Any, Finding | None, tuple[int, int] | None]:
    """Compose the first document of `text`, as Ruby's Psych `YAML.load` reads a stream: it
    returns at the end of the first document and never looks further. Returns (root or None,
    loader, error finding, position of a second document's start or None)."""
    try:
        loader = loader_cls(text)
    except (yaml.YAMLError, ValueError) as exc:
        return None, None, yaml_error_finding(exc, rule, text), None
    try:
        loader.get_event()  # StreamStartEvent
        at_end = loader.check_event(yaml.events.StreamEndEvent)
        root = None if at_end else loader.compose_document()
    except (yaml.YAMLError, RecursionError, ValueError) as exc:
        return None, loader, yaml_error_finding(exc, rule, text), None
    second: tuple[int, int] | None = None
    try:
        if not loader.check_event(yaml.events.StreamEndEvent):
            second = pos(loader.peek_event())
    except (yaml.YAMLError, RecursionError, ValueError) as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        second = pos(mark) if mark is not None else (1, 1)
    return root, loader, None, second


def value(loader: Any, node: Node) -> Any:
    """The Python value of a node (deep), or BAD when it cannot be constructed."""
    loader.constructed_objects = {}
    loader.recursive_objects = {}
    loader.state_generators = []
    try:
        return loader.construct_object(node, deep=True)
    except Exception:
        return BAD
    finally:
        loader.constructed_objects = {}
        loader.recursive_objects = {}
        loader.state_generators = []


def key_text(loader: Any, node: Node) -> str:
    """A mapping key as text (`on` stays "on" under Yaml12Loader; True becomes "True")."""
    if isinstance(node, ScalarNode):
        v = value(loader, node)
        if v is BAD:
            return str(node.value)
        if isinstance(v, str):
            return v
        if isinstance(v, bool):
            return str(node.value)  # keep what the user typed, e.g. `on`
        return str(v) if v is not None else str(node.value)
    return "<complex key>"


def items(loader: Any, node: Node) -> list[tuple[str, Node, Node]]:
    """(key text, key node, value node) of a mapping node, merge keys resolved where possible."""
    if not isinstance(node, MappingNode):
        return []
    if any(k.tag == MERGE_TAG for k, _ in node.value):
        try:
            loader.flatten_mapping(node)
        except Exception:
            pass
    return [(key_text(loader, k), k, v) for k, v in node.value if k.tag != MERGE_TAG]


def duplicate_keys(loader: Any, root: Node | None, rule: str) -> list[Finding]:
    """Every mapping key that appears twice in the same mapping (the earlier value is lost)."""
    findings: list[Finding] = []
    if root is None:
        return findings
    seen_nodes: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen_nodes:
            continue
        seen_nodes.add(id(node))
        if isinstance(node, MappingNode):
            first: dict[str, Node] = {}
            for k, v in node.value:
                stack.append(v)
                if k.tag == MERGE_TAG or not isinstance(k, ScalarNode):
                    continue
                name = key_text(loader, k)
                if name in first:
                    line, col = pos(k)
                    fline, _ = pos(first[name])
                    findings.append(
                        Finding(
                            line,
                            col,
                            ERROR,
                            rule,
                            f"duplicate key '{name}' (also on line {fline}); "
                            "YAML keeps only the last one, the first is silently lost",
                        )
                    )
                else:
                    first[name] = k
        elif isinstance(node, SequenceNode):
            stack.extend(node.value)
    return findings


def type_name(node: Node, loader: Any = None) -> str:
    """What a node holds, in words, for messages."""
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    if loader is not None:
        v = value(loader, node)
        if v is None:
            return "empty"
        if isinstance(v, bool):
            return "a boolean"
        if isinstance(v, (int, float)):
            return "a number"
    return "text"


def is_null(loader: Any, node: Node | None) -> bool:
    return node is None or (isinstance(node, ScalarNode) and value(loader, node) is None)


def parse_document(
    text: str, prefix: str, loader_cls: type = Yaml12Loader
) -> tuple[Node | None, Any, Any, list[Finding]]:
    """(root node, loader, data, findings) for a whole file: syntax errors as `PREFIX.yaml`,
    duplicate keys as `PREFIX.duplicate-key`. `data` is None when the file cannot be read."""
    findings: list[Finding] = []
    root, loader, err = compose(text, loader_cls, f"{prefix}.yaml")
    if err is not None:
        return None, loader, None, [err]
    if root is None:
        return None, loader, None, findings
    findings += duplicate_keys(loader, root, f"{prefix}.duplicate-key")
    data = value(loader, root)
    if data is BAD:
        findings.append(Finding(*pos(root), ERROR, f"{prefix}.yaml", "a value cannot be read"))
        data = None
    return root, loader, data, findings
