"""The simulated agent's version, OS and metadata access come from what was built (issue 12 item 2).

Each world is built through boto3 only (AMI from its public SSM parameter, user data, instance
MetadataOptions); the assertions are what a user reads from the APIs and, through Run Command,
on the instance.
"""

from __future__ import annotations

from typing import Any

import pytest
from moto import mock_aws

from tests.e2e.sandbox_world import final_invocation
from wizard.sandbox import clock, extensions, scenarios
from wizard.sandbox.world import World, agent_user_data, first_failure

AGENT_MSG = "CodeDeploy agent was not able to receive the lifecycle event"


@pytest.fixture
def w(aws_credentials, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(clock, "CLOCK", clock.Clock(start_delay=0.03, event=0.01, slow_event=0.05))
    with mock_aws():
        extensions.install()
        yield World(None)


def shell(w: World, instance_id: str, *lines: str) -> dict[str, Any]:
    ssm = w.client("ssm")
    cid = ssm.send_command(
        InstanceIds=[instance_id],
        DocumentName="AWS-RunShellScript",
        Parameters={"commands": list(lines)},
    )["Command"]["CommandId"]
    return final_invocation(ssm, cid, instance_id)


def first_event(w: World, deployment_id: str) -> dict[str, Any]:
    (target,) = w.targets(deployment_id)
    event = first_failure(target)
    assert event is not None, target
    return event


def build(w: World, ami: str, version: str | None = None, **kwargs: Any) -> dict[str, Any]:
    return scenarios.build(
        w, count=1, ami=ami, user_data=agent_user_data(w.region, ami, version), **kwargs
    )


def test_agent_without_imdsv2_support_cannot_read_required_metadata(w: World) -> None:
    """1.1.2 predates IMDSv2 (v1.2.1): with HttpTokens=required it never gets the event."""
    r = build(w, "al2", "1.1.2-1855", metadata_options={"HttpTokens": "required"})
    assert r["status"] == "Failed"
    event = first_event(w, r["deployment_id"])
    assert event["lifecycleEventName"] == "ApplicationStop"
    assert event["diagnostics"]["errorCode"] == "UnknownError"
    assert AGENT_MSG in event["diagnostics"]["message"]
    (iid,) = r["instance_ids"]
    out = shell(
        w,
        iid,
        "cat /opt/codedeploy-agent/.version",
        "systemctl is-active codedeploy-agent",
        "grep 'metadata service' /var/log/aws/codedeploy-agent/codedeploy-agent.log | tail -n 1",
    )
    lines = out["StandardOutputContent"].splitlines()
    assert lines[:2] == ["OFFICIAL_1.1.2-1855_rpm", "active"]
    assert "HTTP error from metadata service, code 401" in lines[2]
    described = w.client("ec2").describe_instances(InstanceIds=[iid])
    assert described["Reservations"][0]["Instances"][0]["MetadataOptions"]["HttpTokens"] == (
        "required"
    )


@pytest.mark.parametrize(
    ("version", "options"),
    [
        ("1.1.2-1855", {"HttpTokens": "optional"}),  # IMDSv1 still answers the old agent
        ("1.2.1-1868", {"HttpTokens": "required"}),  # the first release with IMDSv2
    ],
)
def test_metadata_siblings_that_work(w: World, version: str, options: dict[str, str]) -> None:
    r = build(w, "al2", version, metadata_options=options)
    assert r["status"] == "Succeeded"


def test_metadata_endpoint_disabled_stops_every_agent(w: World) -> None:
    r = build(w, "al2023", metadata_options={"HttpEndpoint": "disabled"})
    assert r["status"] == "Failed"
    (iid,) = r["instance_ids"]
    log = shell(w, iid, "tail -n 1 /var/log/aws/codedeploy-agent/codedeploy-agent.log")
    assert "code 403" in log["StandardOutputContent"]


def test_al2023_amis_require_imdsv2_by_default(w: World) -> None:
    ec2 = w.client("ec2")
    default = w.launch(1, ami="al2023")[0]
    optional = w.launch(1, ami="al2023", metadata_options={"HttpTokens": "optional"})[0]
    al2 = w.launch(1, ami="al2")[0]
    tokens = {
        i["InstanceId"]: i["MetadataOptions"]["HttpTokens"]
        for r in ec2.describe_instances(InstanceIds=[default, optional, al2])["Reservations"]
        for i in r["Instances"]
    }
    assert tokens == {default: "required", optional: "optional", al2: "optional"}


def test_deb_of_a_release_without_the_ubuntu_ruby_does_not_install(w: World) -> None:
    """Ubuntu 22.04 ships Ruby 3.0; 1.3.2's .deb depends on ruby2.x: gdebi refuses it."""
    r = build(w, "ubuntu-22.04", "1.3.2-1902")
    assert r["status"] == "Failed"
    assert AGENT_MSG in first_event(w, r["deployment_id"])["diagnostics"]["message"]
    (iid,) = r["instance_ids"]
    out = shell(
        w,
        iid,
        "systemctl is-active codedeploy-agent; echo rc=$?",
        "dpkg -s codedeploy-agent || echo not-installed",
        "grep -A1 uninstallable /tmp/codedeploy-agent.update.log",
        "grep -c 'Failed running /var/lib/cloud/instance/scripts/part-001' "
        "/var/log/cloud-init-output.log",
    )
    assert out["StandardOutputContent"].splitlines() == [
        "inactive",
        "rc=3",
        "not-installed",
        "This package is uninstallable",
        "Dependency is not satisfiable: ruby2.0|ruby2.1|ruby2.2|ruby2.3|ruby2.4|ruby2.5|ruby2.6"
        "|ruby2.7",
        "1",
    ]
    assert "dpkg-query: package 'codedeploy-agent' is not installed" in out["StandardErrorContent"]


def test_rpm_of_a_release_without_ruby_32_installs_but_dies_at_start(w: World) -> None:
    """AL2023 ships Ruby 3.2, supported from 1.6.0 on: 1.5.0 installs, then cannot load."""
    r = build(w, "al2023", "1.5.0-57")
    assert r["status"] == "Failed"
    (iid,) = r["instance_ids"]
    out = shell(
        w,
        iid,
        "systemctl is-active codedeploy-agent",
        "rpm -q codedeploy-agent",
        "journalctl -u codedeploy-agent --no-pager | grep LoadError",
    )
    lines = out["StandardOutputContent"].splitlines()
    assert lines[:2] == ["failed", "codedeploy-agent-1.5.0-57.noarch"]
    assert "cannot load such file -- net/smtp (LoadError)" in lines[2]


@pytest.mark.parametrize(
    ("ami", "version"),
    [("ubuntu-20.04", "1.3.2-1902"), ("ubuntu-24.04", None), ("al2023", "1.6.0-49")],
)
def test_ruby_siblings_that_work(w: World, ami: str, version: str | None) -> None:
    assert build(w, ami, version)["status"] == "Succeeded"


def test_installer_without_ruby_never_runs(w: World) -> None:
    data = agent_user_data(w.region, "al2023").replace("dnf install -y ruby wget", "true")
    r = scenarios.build(w, count=1, user_data=data)
    assert r["status"] == "Failed"
    (iid,) = r["instance_ids"]
    out = shell(w, iid, "cat /var/log/cloud-init-output.log", "test -e /opt/codedeploy-agent")
    assert (
        "/usr/bin/env: \u2018ruby\u2019: No such file or directory"
        in (out["StandardOutputContent"])
    )
    assert out["ResponseCode"] == 1


def test_run_command_reports_the_agent_version_as_on_the_instance(w: World) -> None:
    r = build(w, "al2", "1.1.2-1855")
    (iid,) = r["instance_ids"]
    out = shell(
        w,
        iid,
        "/opt/codedeploy-agent/bin/codedeploy-agent --version; echo rc=$?",
        "rpm -q codedeploy-agent",
        "yum info codedeploy-agent | grep Version",
    )
    # 1.x has no --version (User Guide: "If that command is not recognized, you are running
    # version 1.8.x or earlier"); the package manager knows the version
    assert out["StandardOutputContent"].splitlines() == [
        "rc=64",
        "codedeploy-agent-1.1.2-1855.noarch",
        "Version      : 1.1.2",
    ]
    assert "error: Unknown option --version" in out["StandardErrorContent"]


def test_sandbox_agent_tag_still_overrides(w: World) -> None:
    r = build(w, "al2", "1.1.2-1855", tags={"sandbox:agent": "stopped"})
    (iid,) = r["instance_ids"]
    out = shell(
        w, iid, "systemctl is-active codedeploy-agent", "cat /opt/codedeploy-agent/.version"
    )
    assert out["StandardOutputContent"].splitlines() == ["inactive", "OFFICIAL_1.1.2-1855_rpm"]


def test_ssm_describes_the_os_of_the_ami(w: World) -> None:
    profile = w.instance_profile()
    ids = {ami: w.launch(1, ami=ami, profile=profile)[0] for ami in ("al2", "ubuntu-22.04")}
    infos = w.wait_ssm(list(ids.values()))
    seen = {i["InstanceId"]: (i["PlatformName"], i["PlatformVersion"]) for i in infos}
    assert seen == {ids["al2"]: ("Amazon Linux", "2"), ids["ubuntu-22.04"]: ("Ubuntu", "22.04")}
