"""Helpers for the sandbox end-to-end tests: a fresh World per test and the assertions on what a
user of the real service would read (GetDeployment, targets, lifecycle diagnostics)."""

from __future__ import annotations

import time
from typing import Any

from wizard.sandbox.world import World, first_failure


def only_failure(w: World, deployment_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Every target failed the same way: (the first Failed event of the first target, targets)."""
    targets = w.targets(deployment_id)
    assert targets, "the deployment has no targets"
    failures = [first_failure(t) for t in targets]
    assert all(failures), [t["status"] for t in targets]
    names = {f["lifecycleEventName"] for f in failures if f}
    assert len(names) == 1, names
    return failures[0], targets  # type: ignore[return-value]


def assert_failed_event(
    w: World,
    deployment_id: str,
    *,
    event: str,
    code: str,
    fragment: str,
    script: str = "",
    log: str | None = None,
    deployment_code: str = "HEALTH_CONSTRAINTS",
) -> dict[str, Any]:
    """The deployment failed with `deployment_code` and each target on `event` as described."""
    info = w.client("codedeploy").get_deployment(deploymentId=deployment_id)["deploymentInfo"]
    assert info["status"] == "Failed"
    assert info["errorInformation"]["code"] == deployment_code
    failure, targets = only_failure(w, deployment_id)
    assert failure["lifecycleEventName"] == event
    diag = failure["diagnostics"]
    assert diag["errorCode"] == code
    assert diag["scriptName"] == script
    assert fragment in diag["message"], diag["message"]
    if log is not None:
        assert log in diag["logTail"], diag["logTail"]
    for target in targets:
        assert target["status"] == "Failed"
        after = False
        for ev in target["lifecycleEvents"]:
            if after:
                assert ev["status"] == "Skipped", (ev["lifecycleEventName"], ev["status"])
            if ev["lifecycleEventName"] == event:
                after = True
    return diag


def run_shell(w: World, instance_id: str, lines: list[str]) -> dict[str, Any]:
    """Run Command (AWS-RunShellScript) on one instance; the GetCommandInvocation result once
    it is final (it is Pending, then InProgress first, as on AWS)."""
    ssm = w.client("ssm")
    command = ssm.send_command(
        InstanceIds=[instance_id],
        DocumentName="AWS-RunShellScript",
        Parameters={"commands": lines},
    )["Command"]
    return final_invocation(ssm, command["CommandId"], instance_id)


def final_invocation(ssm: Any, command_id: str, instance_id: str, timeout: float = 30) -> dict:
    """Poll GetCommandInvocation until the invocation leaves Pending/InProgress."""
    deadline = time.monotonic() + timeout
    while True:
        inv = ssm.get_command_invocation(CommandId=command_id, InstanceId=instance_id)
        if inv["Status"] not in ("Pending", "InProgress", "Delayed"):
            return inv
        assert time.monotonic() < deadline, f"command {command_id} still {inv['Status']}"
        time.sleep(0.02)
