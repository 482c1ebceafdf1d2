"""The catalogue: every check registers itself here with `@check(...)`.

Ids are a public contract (users select and script on them), so the registry refuses
duplicates and keeps catalogue order: the order of `AREAS`, then the order of definition within
a module. That order is the output order whatever order checks finish in.
"""

from __future__ import annotations

import fnmatch
import importlib
from collections.abc import Callable, Iterable
from typing import Any

from checks.model import Check, Result

AREAS = (
    "deployment",
    "group",
    "asg",
    "iam",
    "s3",
    "bundle",
    "agent",
    "dest",
    "hooks",
    "lb",
    "rollback",
    "local",
)

_CHECKS: dict[str, Check] = {}
_loaded = False


def check(
    id: str,
    title: str,
    *,
    requires: Iterable[str] = (),
    after: Iterable[str] = (),
    timeout: float = 120.0,
    priority: int = 50,
) -> Callable[[Callable[[Any], Result]], Callable[[Any], Result]]:
    """Register `fn(ctx) -> Result` as the check `id`."""

    def deco(fn: Callable[[Any], Result]) -> Callable[[Any], Result]:
        if id in _CHECKS:
            raise ValueError(f"duplicate check id {id!r}")
        _CHECKS[id] = Check(
            id=id,
            title=title,
            run=fn,
            requires=tuple(requires),
            after=tuple(after),
            timeout=timeout,
            priority=priority,
            doc=(fn.__doc__ or "").strip().split("\n")[0],
        )
        return fn

    return deco


def _load() -> None:
    global _loaded
    if not _loaded:
        for area in AREAS:
            importlib.import_module(f"checks.{area}")
        _loaded = True


def all_checks() -> list[Check]:
    """Every registered check, in catalogue order."""
    _load()
    order = {area: i for i, area in enumerate(AREAS)}
    indexed = list(enumerate(_CHECKS.values()))
    indexed.sort(key=lambda p: (order.get(p[1].id.split(".")[0], 99), p[0]))
    return [c for _, c in indexed]


def get(check_id: str) -> Check:
    _load()
    return _CHECKS[check_id]


def select(patterns: Iterable[str] | None) -> list[Check]:
    """Checks matching any of the fnmatch `patterns` (all when None), in catalogue order.

    Raises KeyError naming the first pattern that matches nothing.
    """
    checks = all_checks()
    if not patterns:
        return checks
    patterns = list(patterns)
    for pat in patterns:
        if not any(fnmatch.fnmatchcase(c.id, pat) for c in checks):
            raise KeyError(pat)
    return [c for c in checks if any(fnmatch.fnmatchcase(c.id, p) for p in patterns)]


def with_prerequisites(selected: Iterable[Check]) -> list[Check]:
    """`selected` plus everything they require or run after, transitively, in catalogue order."""
    wanted: set[str] = set()
    stack = [c.id for c in selected]
    while stack:
        cid = stack.pop()
        if cid in wanted:
            continue
        wanted.add(cid)
        stack.extend(get(cid).requires)
        stack.extend(get(cid).after)
    return [c for c in all_checks() if c.id in wanted]


def dependents(ids: Iterable[str]) -> list[str]:
    """`ids` plus every check that requires or runs after one of them, transitively, in
    catalogue order (what must run again when the verdicts of `ids` may have changed)."""
    wanted = set(ids)
    changed = True
    checks = all_checks()
    while changed:
        changed = False
        for c in checks:
            if c.id not in wanted and (set(c.requires) | set(c.after)) & wanted:
                wanted.add(c.id)
                changed = True
    return [c.id for c in checks if c.id in wanted]
