"""What the sandbox does at and after RunInstances, as AWS does it: ClientToken idempotency (the
ground the wizard's concurrent-apply guarantee stands on) and the boot of a new instance (SSM
registers, then the agent that user data installs starts; a deployment meanwhile waits)."""

from __future__ import annotations

import dataclasses
import threading

import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from tests.e2e.sandbox_world import final_invocation
from wizard.sandbox import clock, extensions, scenarios
from wizard.sandbox.world import World

BOOT, INSTALL = 0.3, 0.8


@pytest.fixture
def w(aws_credentials, monkeypatch: pytest.MonkeyPatch):
    fast = clock.Clock(
        start_delay=0.03, event=0.01, slow_event=0.05, boot=BOOT, agent_install=INSTALL
    )
    monkeypatch.setattr(clock, "CLOCK", fast)
    with mock_aws():
        extensions.install()
        yield World(None)


def _run(w: World, token: str, **extra):
    return w.client("ec2").run_instances(
        ImageId=w.ami(), MinCount=1, MaxCount=1, ClientToken=token, **extra
    )


def _live(w: World) -> list[str]:
    resp = w.client("ec2").describe_instances(
        Filters=[{"Name": "instance-state-name", "Values": ["pending", "running"]}]
    )
    return [i["InstanceId"] for r in resp["Reservations"] for i in r["Instances"]]


def test_a_repeated_client_token_launches_nothing_and_answers_the_first_launch(w):
    first = _run(w, "cdw-token-1")
    again = _run(w, "cdw-token-1")
    assert again["ReservationId"] == first["ReservationId"]
    assert [i["InstanceId"] for i in again["Instances"]] == [
        i["InstanceId"] for i in first["Instances"]
    ]
    assert len(_live(w)) == 1
    found = w.client("ec2").describe_instances(
        Filters=[{"Name": "client-token", "Values": ["cdw-token-1"]}]
    )
    (inst,) = [i for r in found["Reservations"] for i in r["Instances"]]
    assert inst["ClientToken"] == "cdw-token-1"
    # a new token is a new launch
    _run(w, "cdw-token-2")
    assert len(_live(w)) == 2


def test_the_same_token_with_other_parameters_is_a_mismatch(w):
    _run(w, "cdw-token-3")
    with pytest.raises(ClientError) as exc:
        _run(w, "cdw-token-3", InstanceType="t3.large")
    assert exc.value.response["Error"]["Code"] == "IdempotentParameterMismatch"
    assert len(_live(w)) == 1


def test_a_replayed_token_shows_the_instances_as_they_are_now(w):
    first = _run(w, "cdw-token-4")
    iid = first["Instances"][0]["InstanceId"]
    w.client("ec2").terminate_instances(InstanceIds=[iid])
    again = _run(w, "cdw-token-4")
    assert again["Instances"][0]["InstanceId"] == iid
    assert again["Instances"][0]["State"]["Name"] in ("shutting-down", "terminated")
    assert _live(w) == []


def test_concurrent_requests_with_one_token_launch_once(w):
    results: list[str] = []
    errors: list[BaseException] = []

    def go() -> None:
        try:
            results.append(_run(w, "cdw-token-5")["Instances"][0]["InstanceId"])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=go) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(set(results)) == 1 and len(_live(w)) == 1


def _ping(w: World, iid: str) -> str | None:
    infos = w.client("ssm").describe_instance_information(
        Filters=[{"Key": "InstanceIds", "Values": [iid]}]
    )["InstanceInformationList"]
    return infos[0]["PingStatus"] if infos else None


def _agent(w: World, iid: str) -> str:
    ssm = w.client("ssm")
    cmd = ssm.send_command(
        InstanceIds=[iid],
        DocumentName="AWS-RunShellScript",
        Parameters={"commands": ["systemctl is-active codedeploy-agent"]},
    )["Command"]["CommandId"]
    inv = final_invocation(ssm, cmd, iid)  # Pending, InProgress, then final
    return inv["StandardOutputContent"].strip()


def test_a_new_instance_registers_in_ssm_then_its_agent_starts(w, monkeypatch):
    # the instance's age is judged when read, against CLOCK.boot and CLOCK.agent_install: the
    # test moves time by ending each phase itself (an hour each until then), so no load on the
    # machine can skip a phase the way a wall-clock window could
    bucket = w.bucket()
    profile = w.instance_profile(bucket=bucket)
    hour = dataclasses.replace(clock.CLOCK, boot=3600.0, agent_install=3600.0)
    monkeypatch.setattr(clock, "CLOCK", hour)
    (iid,) = w.launch(1, profile=profile)
    assert _ping(w, iid) is None  # not registered before it has booted
    monkeypatch.setattr(clock, "CLOCK", dataclasses.replace(hour, boot=0.0))
    assert _ping(w, iid) == "Online"
    assert _agent(w, iid) == "inactive"  # booted, agent still installing
    monkeypatch.setattr(clock, "CLOCK", dataclasses.replace(hour, boot=0.0, agent_install=0.0))
    assert _agent(w, iid) == "active"


def test_a_deployment_right_after_launch_waits_for_the_agent_and_succeeds(w):
    r = scenarios.build(w, count=2, wait=True)
    dep = w.client("codedeploy").get_deployment(deploymentId=r["deployment_id"])
    assert dep["deploymentInfo"]["status"] == "Succeeded"
    targets = w.targets(r["deployment_id"])
    for t in targets:
        events = t["lifecycleEvents"]
        assert [e["status"] for e in events] == ["Succeeded"] * len(events)


def test_a_tag_still_decides_the_agent_of_a_new_instance(w):
    bucket = w.bucket()
    profile = w.instance_profile(bucket=bucket)
    (iid,) = w.launch(
        1, profile=profile, tags={"sandbox:agent": "running", "sandbox:ssm": "online"}
    )
    assert _ping(w, iid) == "Online" and _agent(w, iid) == "active"
