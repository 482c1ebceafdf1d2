"""JSON Schema checks for YAML files, reported at the line and column of the offending node.

The schemas ship with the package (`schemas/`, see SOURCES.md there). Schemas full of `anyOf`
(Travis: one branch per deploy provider) give useless top-level errors ("not valid under any of the
given schemas"), so each error is resolved to the branch the document most plausibly meant (the one
whose type and `provider` match, with the fewest problems) and reported from there.
"""

from __future__ import annotations

import functools
import json
from collections import defaultdict
from importlib import resources
from typing import Any

from yaml.nodes import MappingNode, Node, SequenceNode

from wizard.validate import yamlnodes as yn
from wizard.validate.model import ERROR, Finding

TRAVIS = "travis-yml.schema.json"
WORKFLOW = "github-workflow.schema.json"


def with_aliases(schema: Any) -> Any:
    """The schema with every `aliases` name of a property added as a property of its own.

    travis-yml's schema marks alternative key names with the non-standard keyword `aliases`
    (pages: `token` is also `github_token`), which Travis CI honours and JSON Schema validators
    ignore; without this, `additionalProperties: false` refuses a valid file."""
    if isinstance(schema, list):
        return [with_aliases(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: with_aliases(v) for k, v in schema.items()}
    props = out.get("properties")
    if isinstance(props, dict):
        extra = {}
        for sub in props.values():
            for alias in sub.get("aliases", []) if isinstance(sub, dict) else []:
                if isinstance(alias, str) and alias not in props:
                    extra[alias] = sub
        out["properties"] = {**props, **extra}
    return out


@functools.lru_cache(maxsize=4)
def validator(name: str) -> Any:
    """A compiled validator for one of the bundled schemas (aliases honoured)."""
    import jsonschema

    text = resources.files("wizard.validate").joinpath("schemas", name).read_text("utf-8")
    schema = with_aliases(json.loads(text))
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema)


def _discriminator_failed(err: Any, base: int) -> bool:
    """Did this error rule the branch out (wrong type of the value itself, wrong provider)?"""
    if err.validator == "type":
        return len(err.absolute_path) <= base
    if err.validator in ("enum", "const"):
        path = list(err.absolute_path)
        return bool(path and path[-1] in ("provider", "uses")) or bool(
            isinstance(err.schema, dict) and err.schema.get("strict")
        )
    return False


def _resolve(err: Any, depth: int = 0, base: int | None = None) -> tuple[bool, list[Any]]:
    """(a discriminating check failed, the leaf errors of the most plausible branch)."""
    if base is None:
        base = len(err.absolute_path)
    if not err.context or depth > 25:
        return _discriminator_failed(err, base), [err]
    branches: dict[Any, list[Any]] = defaultdict(list)
    for sub in err.context:
        key = sub.relative_schema_path[0] if sub.relative_schema_path else None
        branches[key].append(sub)
    best: tuple[tuple, list[Any]] | None = None
    for subs in branches.values():
        disc = False
        leaves: list[Any] = []
        for sub in subs:
            d, ls = _resolve(sub, depth + 1, len(err.absolute_path))
            disc = disc or d
            leaves.extend(ls)
        deepest = max((len(e.absolute_path) for e in leaves), default=0)
        rank = (disc, -deepest, len(leaves))
        if best is None or rank < best[0]:
            best = (rank, leaves)
    assert best is not None
    # a nested alternative that failed entirely rules out the outer branch only when it is about
    # the very same value (not a deeper one)
    return best[0][0] and len(err.absolute_path) <= base, best[1]


def node_at(loader: Any, root: Node, path: list[Any]) -> tuple[Node, Node | None]:
    """(value node, key node) at a JSON path; stops at the deepest node that exists."""
    node, key_node = root, None
    for step in path:
        if isinstance(node, MappingNode) and isinstance(step, str):
            hit = next(((k, v) for name, k, v in yn.items(loader, node) if name == step), None)
            if hit is None:
                break
            key_node, node = hit
        elif isinstance(node, SequenceNode) and isinstance(step, int) and step < len(node.value):
            node, key_node = node.value[step], None
        else:
            break
    return node, key_node


def _message(err: Any) -> tuple[str, list[Any]]:
    """A short message and an extra path step (the unexpected key) where useful."""
    if err.validator == "additionalProperties" and isinstance(err.instance, dict):
        allowed = set((err.schema or {}).get("properties", {}))
        extra = [k for k in err.instance if k not in allowed]
        if extra:
            return (
                f"unknown key '{extra[0]}' here"
                + (f" (allowed: {', '.join(sorted(allowed)[:12])})" if allowed else ""),
                [extra[0]],
            )
    if err.validator == "required":
        return err.message.replace("is a required property", "is required"), []
    if err.validator == "enum":
        return f"{err.instance!r} is not one of {err.validator_value!r}"[:300], []
    msg = err.message
    if len(msg) > 300:
        msg = msg[:297] + "..."
    return msg, []


def schema_findings(
    data: Any, loader: Any, root: Node, schema_name: str, rule: str, label: str
) -> list[Finding]:
    """Validate `data` against a bundled schema; findings point at the YAML nodes."""
    try:
        v = validator(schema_name)
        errors = list(v.iter_errors(data))
    except Exception as exc:  # a broken schema or exotic data must not crash validation
        return [Finding(1, 1, ERROR, rule, f"could not check against the {label} schema: {exc}")]
    out: list[Finding] = []
    seen: set[tuple[int, int, str]] = set()
    for err in errors:
        _, leaves = _resolve(err)
        for leaf in leaves[:5]:
            message, extra = _message(leaf)
            path = list(leaf.absolute_path) + extra
            node, key_node = node_at(loader, root, path)
            where = key_node if extra and key_node is not None else node
            line, col = yn.pos(where)
            sig = (line, col, message)
            if sig in seen:
                continue
            seen.add(sig)
            shown = ".".join(str(p) for p in leaf.absolute_path) or "(top)"
            out.append(Finding(line, col, ERROR, rule, f"{label} schema: {shown}: {message}"))
    return out
