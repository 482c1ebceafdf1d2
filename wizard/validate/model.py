"""Findings and reports shared by every validator (stdlib only: the sandbox agent imports this)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Finding:
    """One problem in a file, at a 1-based line and column, with a stable rule id."""

    line: int
    column: int
    severity: str  # "error" | "warning"
    rule: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "column": self.column,
            "severity": self.severity,
            "rule": self.rule,
            "message": self.message,
        }

    def format(self, path: str) -> str:
        """Linter style: `PATH:LINE:COL: severity RULE message`."""
        return f"{path}:{self.line}:{self.column}: {self.severity} {self.rule} {self.message}"


@dataclass
class FileReport:
    """The findings for one path given to `wizard validate`."""

    path: str
    kind: str  # appspec | bundle | travis | workflow | unknown
    findings: list[Finding] = field(default_factory=list)
    unreadable: bool = False  # the path could not be read at all (exit 2)

    @property
    def ok(self) -> bool:
        return not any(f.severity == ERROR for f in self.findings)

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "kind": self.kind,
            "findings": [f.to_dict() for f in self.findings],
        }


def sort_findings(findings: list[Finding]) -> list[Finding]:
    """Stable order: by position, then rule id."""
    return sorted(findings, key=lambda f: (f.line, f.column, f.rule, f.message))


def quote(value: object) -> str:
    """A value in single quotes for a message, backslashes shown as typed (no repr escaping)."""
    return f"'{value}'"
