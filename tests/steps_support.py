"""Helpers for the setup-engine tests: a moto account with AWS managed policies, projects, and a
recorder of every AWS call the engine makes (through botocore's `before-call` event)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

MUTATING = re.compile(
    r"^(Create|Put|Attach|Update|Associate|RunInstances|Tag|Add|Delete|Detach|Remove|Terminate|"
    r"Disassociate|Replace|Modify|Authorize|Revoke|Register|Deregister)"
)
SERVICES = ("iam", "s3", "ec2", "codedeploy", "ssm", "sts", "autoscaling", "elbv2")


def make_project(application: str = "shop", **sections: Any) -> Any:
    from wizard.config import from_dict

    data: dict[str, Any] = {"application": application, "ci": {"provider": "none"}}
    for key, value in sections.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return from_dict(data)


class CallRecorder:
    """Every operation called on the context's clients, as 'service:Operation'."""

    def __init__(self, ctx: Any, regions: tuple[str, ...] = ("us-east-1",)) -> None:
        self.calls: list[str] = []
        for region in regions:
            for svc in SERVICES:
                client = ctx.client(svc, region)
                client.meta.events.register("before-call", self._hook)
        # IAM/STS are also asked for without a region
        for svc in ("iam", "sts"):
            ctx.client(svc).meta.events.register("before-call", self._hook)

    def _hook(self, model: Any, **_: Any) -> None:
        self.calls.append(f"{model.service_model.endpoint_prefix}:{model.name}")

    def mutating(self) -> list[str]:
        return [c for c in self.calls if MUTATING.match(c.split(":", 1)[1])]

    def clear(self) -> None:
        self.calls.clear()


NEEDED_MANAGED = ("AWSCodeDeployRole", "AmazonSSMManagedInstanceCore")
_MANAGED_DATA: dict[str, Any] = {}


def add_managed_policies(account: str = "123456789012") -> None:
    """Give moto's IAM the two AWS managed policies setup attaches.

    Loading all of them (moto's `load_aws_managed_policies`) costs a second per test; these two
    are all the engine needs.
    """
    import json

    from moto.iam.models import AWSManagedPolicy, iam_backends

    if not _MANAGED_DATA:
        from moto.iam.aws_managed_policies import aws_managed_policies_data

        data = json.loads(aws_managed_policies_data)
        _MANAGED_DATA.update({n: data[n] for n in NEEDED_MANAGED})
    for partition_backends in [iam_backends[account]]:
        backend = partition_backends["global"]
        for name, doc in _MANAGED_DATA.items():
            pol = AWSManagedPolicy.from_data(name, account, "us-east-1", doc)
            backend.managed_policies.setdefault(pol.arn, pol)


def moto_account() -> Iterator[Any]:
    """An AwsContext on a fresh moto account that knows the AWS managed policies setup needs.

    Use as `yield from moto_account()` in a fixture that depends on `aws_credentials`.
    """
    import moto

    from wizard.aws import AwsContext

    with moto.mock_aws():
        add_managed_policies()
        yield AwsContext(region="us-east-1")


def sc_for(ctx: Any, project: Any) -> Any:
    from wizard.steps.engine import step_context

    return step_context(ctx, project, sleep=lambda s: None)


def no_sleep(_: float) -> None:
    """Injected in place of time.sleep so retry tests run instantly."""
    return None
