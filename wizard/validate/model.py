"""Findings and reports shared by every validator (stdlib only: the sandbox agent imports this)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

ERROR = "error"
WARNING = "warning"
# How the CodeDeploy agent takes an appspec a finding is about (`Finding.agent`)
REJECTS = "rejects"  # the agent refuses it: the deployment fails on every instance
ACCEPTS = "accepts"  # the agent takes the file (a warning, or an error stricter by design)


@dataclass(frozen=True)
class Finding:
    """One problem in a file, at a 1-based line and column, with a stable rule id."""

    line: int
    column: int
    severity: str  # "error" | "warning"
    rule: str
    message: str
    agent: str = ""  # appspec rules: REJECTS | ACCEPTS (how the CodeDeploy agent takes the file)
    file: str = ""  # inside a bundle: the file the line and column are in (posix, relative)

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of `validate --json` (`agent` and `file` only when set)."""
        out: dict[str, Any] = {
            "line": self.line,
            "column": self.column,
            "severity": self.severity,
            "rule": self.rule,
            "message": self.message,
        }
        if self.agent:
            out["agent"] = self.agent
        if self.file:
            out["file"] = self.file
        return out

    def where(self, path: str) -> str:
        """The path a linter line names: the file inside a bundle folder (`DIR/appspec.yml`,
        `appspec.yml` for `.`), `ARCHIVE!file` inside an archive, else `path` itself."""
        from wizard.errors import printable

        # a name with a newline or escape would break the one-line PATH:LINE:COL format (and
        # could move the cursor): control characters are shown escaped, as in error lines
        if not self.file:
            return printable(path)
        if os.path.isdir(path):
            return printable(os.path.normpath(os.path.join(path, self.file)))
        return printable(f"{path}!{self.file}")

    def format(self, path: str) -> str:
        """Linter style: `PATH:LINE:COL: severity RULE message`, PATH as `where` gives it."""
        return (
            f"{self.where(path)}:{self.line}:{self.column}: {self.severity} {self.rule} "
            f"{self.message}"
        )


@dataclass
class FileReport:
    """The findings for one path given to `wizard validate`."""

    path: str
    kind: str  # appspec | bundle | travis | workflow | unknown
    findings: list[Finding] = field(default_factory=list)
    unreadable: bool = False  # the path could not be read at all (exit 2)
    kind_reason: str = ""  # which rule decided the kind (the name, or the keys found)

    @property
    def ok(self) -> bool:
        return not any(f.severity == ERROR for f in self.findings)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path, "kind": self.kind}
        if self.kind_reason:
            out["kind_reason"] = self.kind_reason
        out["findings"] = [f.to_dict() for f in self.findings]
        return out


def sort_findings(findings: list[Finding]) -> list[Finding]:
    """Stable order: the bundle as a whole first, then by file, position and rule id."""
    return sorted(findings, key=lambda f: (f.file, f.line, f.column, f.rule, f.message))


def quote(value: object) -> str:
    """A value in single quotes for a message, backslashes shown as typed (no repr escaping)."""
    return f"'{value}'"
