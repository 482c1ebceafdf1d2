"""The vocabulary of diagnose: a Check, the Result it returns, and the Fix it proposes.

A check is a catalogue entry (id, title, requires, run) in the spirit of `flutter doctor` or
Homebrew's diagnostic checks: it looks at evidence, returns one Result with a one-line summary, the
API values it saw, the instances concerned, and the fix a person (or `--fix`) can apply.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


class Status(str, enum.Enum):
    """How a check ended. ERROR means the check itself broke, not that something is wrong."""

    PASS = "pass"
    INFO = "info"
    WARN = "warn"
    SKIP = "skip"
    FAIL = "fail"
    ERROR = "error"

    @property
    def symbol(self) -> str:
        return _SYMBOLS[self]

    @property
    def problem(self) -> bool:
        """FAIL and ERROR make `wizard diagnose` exit 1."""
        return self in (Status.FAIL, Status.ERROR)


_SYMBOLS = {
    Status.PASS: "✓",
    Status.INFO: "•",
    Status.WARN: "!",
    Status.SKIP: "-",
    Status.FAIL: "✗",
    Status.ERROR: "☠",
}


@dataclass
class Fix:
    """What to do about a result.

    `summary` is prose, `commands` are copy-pasteable shell lines. `automatic` says `--fix` can
    apply it; then `action` names the routine in `checks.fixes` and `params` holds its arguments
    (resolved names and ids, never secrets). Nothing destructive is ever automatic.
    """

    summary: str
    commands: list[str] = field(default_factory=list)
    automatic: bool = False
    action: str | None = None
    params: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "summary": self.summary,
            "commands": list(self.commands),
            "automatic": self.automatic,
        }


@dataclass
class Result:
    """One check's verdict. `id` and `title` are filled in by the runner."""

    status: Status
    summary: str
    evidence: dict[str, Any] = field(default_factory=dict)
    instances: list[str] = field(default_factory=list)
    fix: Fix | None = None
    id: str = ""
    title: str = ""
    seconds: float = 0.0
    # the check's own fix, kept when the runner points a symptom's fix at its root cause (so a
    # re-rank after --fix can restore it); never in the JSON document
    own_fix: Fix | None = field(default=None, repr=False, compare=False)

    @property
    def has_automatic_fix(self) -> bool:
        """A problem `wizard diagnose --fix` (or the TUI's Fix…) can act on."""
        return bool(self.status.problem and self.fix and self.fix.automatic and self.fix.action)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "status": self.status.value,
            "summary": self.summary,
            "evidence": self.evidence,
            "instances": list(self.instances),
            "fix": self.fix.to_json() if self.fix else None,
        }


def passed(summary: str, **kw: Any) -> Result:
    return Result(Status.PASS, summary, **kw)


def info(summary: str, **kw: Any) -> Result:
    return Result(Status.INFO, summary, **kw)


def warn(summary: str, **kw: Any) -> Result:
    return Result(Status.WARN, summary, **kw)


def skip(summary: str, **kw: Any) -> Result:
    return Result(Status.SKIP, summary, **kw)


def fail(summary: str, **kw: Any) -> Result:
    return Result(Status.FAIL, summary, **kw)


@dataclass(frozen=True)
class Check:
    """A catalogue entry. `priority` orders root causes that tie (lower = more upstream)."""

    id: str
    title: str
    run: Callable[[Any], Result]
    requires: tuple[str, ...] = ()
    after: tuple[str, ...] = ()  # run after these (their results inform this one) but never SKIP
    timeout: float = 120.0
    priority: int = 50
    doc: str = ""
