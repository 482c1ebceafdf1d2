"""The plan model shared by every step, the CLI and the TUI."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Action = Literal["create", "update", "adopt", "noop", "conflict"]
ACTIONS: tuple[str, ...] = ("create", "update", "adopt", "noop", "conflict")


@dataclass
class Change:
    """One thing apply would do (or refuse to do), in words a user understands."""

    step: str  # step module: roles, instances, bucket, application, ci
    resource: str  # e.g. "iam:role", "iam:instance-profile", "s3:bucket", "ec2:instance"
    name: str
    action: Action
    description: str
    calls: list[str] = field(default_factory=list)  # e.g. ["iam:CreateRole", "iam:TagRole"]
    fix: str | None = None  # for conflicts: how the user can resolve it
    data: dict[str, Any] = field(default_factory=dict)  # what apply needs; not shown

    def to_json(self) -> dict[str, Any]:
        doc = {
            "resource": self.resource,
            "name": self.name,
            "action": self.action,
            "description": self.description,
            "calls": list(self.calls),
        }
        if self.fix:
            doc["fix"] = self.fix
        return doc


@dataclass
class Plan:
    region: str
    account: str
    changes: list[Change] = field(default_factory=list)

    @property
    def conflicts(self) -> list[Change]:
        return [c for c in self.changes if c.action == "conflict"]

    @property
    def mutating(self) -> list[Change]:
        return [c for c in self.changes if c.action in ("create", "update", "adopt")]

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(ACTIONS, 0)
        for c in self.changes:
            out[c.action] += 1
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": 1,
            "region": self.region,
            "account": self.account,
            "changes": [c.to_json() for c in self.changes],
        }
