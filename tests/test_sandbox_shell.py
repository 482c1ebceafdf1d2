"""Run Command like SSM (issue 12 item 4): status progression, real fields, a real shell grammar."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import WaiterError
from moto import mock_aws

from tests.e2e.sandbox_world import final_invocation
from tests.test_sandbox_api import validate
from wizard.sandbox import clock, extensions, scenarios
from wizard.sandbox import ssm as ssm_module
from wizard.sandbox.world import World


@pytest.fixture
def w(aws_credentials, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(clock, "CLOCK", clock.Clock(start_delay=0.03, event=0.01, slow_event=0.05))
    with mock_aws():
        extensions.install()
        yield World(None)


@pytest.fixture
def box(w: World) -> tuple[World, str, str]:
    """One deployed Amazon Linux 2023 instance: (world, instance id, destination)."""
    r = scenarios.build(w, count=1, tags={"sandbox:users": "deploy"})
    return w, r["instance_ids"][0], r["destination"]


def run(w: World, iid: str, *lines: str) -> dict[str, Any]:
    ssm = w.client("ssm")
    cid = ssm.send_command(
        InstanceIds=[iid], DocumentName="AWS-RunShellScript", Parameters={"commands": list(lines)}
    )["Command"]["CommandId"]
    return final_invocation(ssm, cid, iid)


def test_or_list_falls_back_and_succeeds(box: tuple[World, str, str]) -> None:
    w, iid, _ = box
    inv = run(w, iid, "cat /missing || echo fallback")
    assert inv["Status"] == "Success" and inv["ResponseCode"] == 0
    assert inv["StandardOutputContent"] == "fallback\n"
    assert inv["StandardErrorContent"] == "cat: /missing: No such file or directory\n"


def test_lists_pipes_status_quoting_and_redirections(box: tuple[World, str, str]) -> None:
    w, iid, dest = box
    inv = run(
        w,
        iid,
        "false; echo \"after false: $?\" && echo 'single $? stays'",
        "true && false || echo recovered",
        f"ls {dest} | grep -c html",
        "ls /nope 2>&1 | head -n 1",
        "echo hidden >/dev/null 2>&1; echo shown 2>/dev/null",
        "echo first > /tmp/out.txt; echo second >> /tmp/out.txt; wc -l /tmp/out.txt",
        "cat < /tmp/out.txt | tail -n 1",
        "X='a  b'; echo \"$X\" ${X}",
        "echo $(whoami)@$(echo box)",
        "! test -d /nope && echo negated",
        "for u in root deploy ghost; do id -u $u 2>/dev/null || echo no-$u; done",
        "if test -d /tmp; then echo tmp-is-dir; else echo no-tmp; fi",
    )
    assert inv["StandardOutputContent"].splitlines()[:11] == [
        "after false: 1",
        "single $? stays",
        "recovered",
        "1",
        "ls: cannot access '/nope': No such file or directory",
        "shown",
        "2 /tmp/out.txt",
        "second",
        "a  b a b",
        "root@box",
        "negated",
    ]
    assert inv["StandardOutputContent"].splitlines()[11:] == [
        "0",
        "1001",
        "no-ghost",
        "tmp-is-dir",
    ]


def test_ls_ld_describes_the_directory_itself(box: tuple[World, str, str]) -> None:
    w, iid, dest = box
    inv = run(w, iid, f"ls -ld {dest}", "ls -ld /tmp")
    lines = inv["StandardOutputContent"].splitlines()
    assert lines[0].startswith("drwxr-xr-x ") and lines[0].endswith(f" {dest}")
    assert lines[1].startswith("drwxrwxrwx") and lines[1].endswith(" /tmp")


def test_syntax_errors_and_unknown_commands_as_sh_reports_them(box: tuple[World, str, str]) -> None:
    w, iid, _ = box
    bad = run(w, iid, "if true; then echo x")
    assert bad["Status"] == "Failed" and bad["ResponseCode"] == 2
    assert "_script.sh: line" in bad["StandardErrorContent"]
    unknown = run(w, iid, "frobnicate")
    assert unknown["ResponseCode"] == 127
    assert unknown["StandardErrorContent"].endswith("line 1: frobnicate: command not found\n")


def test_dash_wording_on_ubuntu(w: World) -> None:
    r = scenarios.build(w, count=1, ami="ubuntu-24.04")
    inv = run(w, r["instance_ids"][0], "frobnicate")
    assert inv["StandardErrorContent"].endswith("_script.sh: 1: frobnicate: not found\n")


class _Time:
    """A monotonic clock the test moves by hand (Run Command reads time.monotonic)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


def test_command_moves_pending_in_progress_final(box: tuple[World, str, str], monkeypatch) -> None:
    w, iid, _ = box
    fake = _Time()
    monkeypatch.setattr(ssm_module, "time", fake)
    ssm = w.client("ssm")
    sent = ssm.send_command(
        InstanceIds=[iid], DocumentName="AWS-RunShellScript", Parameters={"commands": ["true"]}
    )
    validate("ssm", "SendCommand", sent)
    command = sent["Command"]
    assert command["Status"] == "Pending"
    assert command["NotificationConfig"] == {
        "NotificationArn": "",
        "NotificationEvents": [],
        "NotificationType": "",
    }
    assert command["CloudWatchOutputConfig"] == {
        "CloudWatchLogGroupName": "",
        "CloudWatchOutputEnabled": False,
    }
    seen = []
    for _ in range(3):  # one clock event in each state
        inv = ssm.get_command_invocation(CommandId=command["CommandId"], InstanceId=iid)
        validate("ssm", "GetCommandInvocation", inv)
        seen.append((inv["Status"], inv["ResponseCode"], bool(inv["ExecutionStartDateTime"])))
        fake.now += clock.CLOCK.event * 1.01
    assert seen == [("Pending", -1, False), ("InProgress", -1, True), ("Success", 0, True)]
    listed = ssm.list_commands(CommandId=command["CommandId"])["Commands"][0]
    assert listed["Status"] == "Success" and listed["CompletedCount"] == 1


def test_botocore_command_executed_waiter(box: tuple[World, str, str]) -> None:
    w, iid, _ = box
    ssm = w.client("ssm")
    ok = ssm.send_command(
        InstanceIds=[iid], DocumentName="AWS-RunShellScript", Parameters={"commands": ["true"]}
    )["Command"]["CommandId"]
    waiter = ssm.get_waiter("command_executed")
    waiter.wait(CommandId=ok, InstanceId=iid, WaiterConfig={"Delay": 1, "MaxAttempts": 10})
    bad = ssm.send_command(
        InstanceIds=[iid], DocumentName="AWS-RunShellScript", Parameters={"commands": ["false"]}
    )["Command"]["CommandId"]
    with pytest.raises(WaiterError, match="Failed"):
        waiter.wait(CommandId=bad, InstanceId=iid, WaiterConfig={"Delay": 1, "MaxAttempts": 10})
