"""The plan model shared by every step, the CLI and the TUI."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from wizard import TAG_KEY
from wizard.aws import error_code as error_code  # one definition, re-exported
from wizard.errors import WizardError

Action = Literal["create", "update", "adopt", "noop", "conflict", "delete"]
# "delete" only appears in destroy plans.
ACTIONS: tuple[str, ...] = ("create", "update", "adopt", "noop", "conflict", "delete")


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
    warning: str | None = None  # something the user should know even though nothing conflicts
    # the setup this plan builds cannot deploy (the first deployment would fail): apply may still
    # run, but the plan says so as a problem, with `warning` saying why and what to do
    blocks_deploy: bool = False
    checks: list[str] = field(default_factory=list)  # diagnose check ids that verify this change

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
        if self.warning:
            doc["warning"] = self.warning
        if self.blocks_deploy:
            doc["problem"] = True
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
    def problems(self) -> list[Change]:
        """Changes that leave a setup unable to deploy (e.g. a group with no instances)."""
        return [c for c in self.changes if c.blocks_deploy]

    @property
    def mutating(self) -> list[Change]:
        return [c for c in self.changes if c.action in ("create", "update", "adopt", "delete")]

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


# --------------------------------------------------------------------------- running steps
@dataclass
class ApplyResult:
    """What an apply (or destroy) did: the changes carried out, and where it stopped, if it did."""

    plan: Plan
    done: list[Change] = field(default_factory=list)
    failed: Change | None = None
    error: Exception | None = None  # a WizardError (AccessDeniedError, …) when failed is set
    outputs: dict[str, Any] = field(default_factory=dict)  # ARNs, instance ids, access key …
    checks: list[str] = field(default_factory=list)  # check ids that verify the result

    @property
    def ok(self) -> bool:
        return self.error is None


Progress = Callable[[Change, str, str], None]  # (change, "start"|"done"|"failed", message)


@dataclass
class StepContext:
    """Everything a step needs: the AWS context, the project and the resolved names.

    `sleep` is injectable so tests of the IAM eventual-consistency retries run instantly.
    """

    ctx: Any  # wizard.aws.AwsContext
    project: Any  # wizard.config.Project
    region: str
    account: str
    partition: str
    sleep: Callable[[float], None] = time.sleep
    outputs: dict[str, Any] = field(default_factory=dict)
    cache: dict[str, Any] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        """IAM is global; everything else lives in the project's region."""
        if service in ("iam", "sts"):
            return self.ctx.client(service)
        return self.ctx.client(service, self.region)

    @property
    def application(self) -> str:
        return self.project.application

    @property
    def tags(self) -> dict[str, str]:
        return self.project.tags()

    def tag_list(self, key: str = "Key", value: str = "Value") -> list[dict[str, str]]:
        return [{key: k, value: v} for k, v in self.tags.items()]

    def owns(self, tags: Any) -> bool:
        """Does this tag set (list of Key/Value, or mapping) carry our ownership tag?"""
        found = tag_dict(tags)
        return found.get(TAG_KEY) == self.project.application

    def role_arn(self, name: str) -> str:
        return f"arn:{self.partition}:iam::{self.account}:role/{name}"

    @property
    def bucket(self) -> str:
        return self.project.bucket_name(self.account, self.region)


def tag_dict(tags: Any) -> dict[str, str]:
    """Tags from any AWS shape (list of Key/Value or key/value, or a mapping) as a dict."""
    if not tags:
        return {}
    if isinstance(tags, dict):
        return dict(tags)
    out: dict[str, str] = {}
    for t in tags:
        key = t.get("Key", t.get("key"))
        if key is not None:
            out[key] = t.get("Value", t.get("value", ""))
    return out


def error_message(exc: BaseException) -> str:
    resp = getattr(exc, "response", None)
    if isinstance(resp, dict):
        return str(resp.get("Error", {}).get("Message", ""))
    return str(exc)


def retry_fresh_iam(
    sc: StepContext,
    fn: Callable[[], Any],
    *,
    retry_if: Callable[[BaseException], bool],
    attempts: int = 10,
    first_delay: float = 2.0,
    max_delay: float = 20.0,
) -> Any:
    """Call `fn`, retrying with backoff while AWS has not yet seen a freshly created role/profile.

    IAM is eventually consistent: for some seconds after CreateRole / CreateInstanceProfile,
    CodeDeploy says InvalidRoleException and EC2 says "Invalid IAM Instance Profile".
    """
    delay = first_delay
    for attempt in range(1, attempts + 1):
        try:
            return fn()
        except Exception as exc:
            if attempt == attempts or not retry_if(exc):
                raise
            sc.sleep(delay)
            delay = min(delay * 2, max_delay)
    return None  # pragma: no cover - loop always returns or raises


class ConflictError(WizardError):
    """Apply met something it must not overwrite (exit 1). `fix` says how to resolve it."""

    def __init__(self, message: str, *, fix: str | None = None) -> None:
        super().__init__(message, hint=fix)
        self.fix = fix


def tag_hint(command: str) -> str:
    """The sentence every 'exists but not ours' conflict ends with."""
    return f"Choose another name in the project file, or hand it to the wizard: {command}"
