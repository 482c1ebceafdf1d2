"""Following a deployment: one event per state change, failures carry the agent's diagnostics.

The snapshots are shaped like BatchGetDeploymentTargets / GetDeployment responses in the
CodeDeploy API reference; the polling itself runs against the sandbox in tests/e2e.
"""

from __future__ import annotations

import pytest

from wizard.deploy.follow import FollowEvent, Tracker, overview_text

EVENTS = ["ApplicationStop", "DownloadBundle", "BeforeInstall", "Install", "ApplicationStart"]


def target(tid: str, status: str, states: dict[str, str], diag: dict | None = None) -> dict:
    events = []
    for name in EVENTS:
        ev = {"lifecycleEventName": name, "status": states.get(name, "Pending")}
        if diag and ev["status"] == "Failed":
            ev["diagnostics"] = diag
        events.append(ev)
    return {
        "deploymentTargetType": "InstanceTarget",
        "instanceTarget": {
            "deploymentId": "d-TEST00001",
            "targetId": tid,
            "targetArn": f"arn:aws:ec2:us-east-1:123456789012:instance/{tid}",
            "status": status,
            "lifecycleEvents": events,
        },
    }


def test_pending_start_is_quiet_and_each_change_is_reported_once() -> None:
    t = Tracker("d-TEST00001")
    assert t.update_targets([target("i-1", "Pending", {})]) == []
    evs = t.update_targets(
        [
            target(
                "i-1",
                "InProgress",
                {"ApplicationStop": "Succeeded", "DownloadBundle": "InProgress"},
            )
        ]
    )
    assert [(e.kind, e.lifecycle_event, e.status) for e in evs] == [
        ("lifecycle", "ApplicationStop", "Succeeded"),
        ("lifecycle", "DownloadBundle", "InProgress"),
        ("target", None, "InProgress"),
    ]
    # the same snapshot again: nothing new
    again = t.update_targets(
        [
            target(
                "i-1",
                "InProgress",
                {"ApplicationStop": "Succeeded", "DownloadBundle": "InProgress"},
            )
        ]
    )
    assert again == []
    assert t.targets["i-1"].current.name == "DownloadBundle"
    assert t.pending_ids() == ["i-1"]


def test_a_failed_hook_carries_script_message_and_log_tail() -> None:
    t = Tracker("d-TEST00001")
    diag = {
        "errorCode": "ScriptFailed",
        "scriptName": "scripts/start.sh",
        "message": "Script at specified location: scripts/start.sh failed with exit code 3",
        "logTail": "[stdout]starting\n[stderr]boom\n",
    }
    states = {n: "Succeeded" for n in EVENTS[:4]} | {"ApplicationStart": "Failed"}
    evs = t.update_targets([target("i-2", "Failed", states, diag)])
    failed = [e for e in evs if e.status == "Failed" and e.kind == "lifecycle"]
    assert len(failed) == 1
    ev = failed[0]
    assert ev.lifecycle_event == "ApplicationStart" and ev.error_code == "ScriptFailed"
    assert "exit code 3" in ev.line() and "i-2" in ev.line()
    assert ev.log_lines() == ["[stdout]starting", "[stderr]boom"]
    assert evs[-1].kind == "target" and evs[-1].status == "Failed"
    assert t.targets["i-2"].failure.script_name == "scripts/start.sh"
    assert t.pending_ids() == []  # finished targets are not asked for again


def test_deployment_status_changes_and_error_information() -> None:
    t = Tracker("d-TEST00001")
    first = t.update_deployment({"status": "Created"})
    assert [e.status for e in first] == ["Created"]
    assert t.update_deployment({"status": "Created"}) == []
    end = t.update_deployment(
        {
            "status": "Failed",
            "errorInformation": {
                "code": "HEALTH_CONSTRAINTS",
                "message": "The overall deployment failed because too many individual "
                "instances failed deployment",
            },
            "deploymentOverview": {"Pending": 0, "InProgress": 0, "Succeeded": 1, "Failed": 2},
        }
    )
    assert len(end) == 1
    line = end[0].line()
    assert "d-TEST00001" in line and "Failed" in line and "HEALTH_CONSTRAINTS" in line
    assert "2 failed" in line and "of 3" in line


def test_overview_text() -> None:
    assert overview_text({"Pending": 0, "Succeeded": 3}) == "3 succeeded of 3"
    assert overview_text({}) == "no instances yet of 0"


def test_event_line_without_colour_is_plain_text() -> None:
    ev = FollowEvent("target", "d-1", "Succeeded", target_id="i-0abc")
    assert "\x1b" not in ev.line()
    assert ev.line().endswith("i-0abc  instance          Succeeded")


def test_follow_without_permission_to_read_targets_keeps_following_the_deployment() -> None:
    """A least-privilege CI principal may GetDeployment but not ListDeploymentTargets.

    No emulator enforces IAM on CodeDeploy calls, so the AccessDenied answer is stubbed (shapes
    from the CodeDeploy API reference; the Stubber checks them against the service model).
    """
    import boto3
    from botocore.stub import Stubber

    from wizard.deploy.follow import follow

    cd = boto3.client(
        "codedeploy", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )

    class Ctx:
        sandbox = False

        def client(self, service: str, region: str | None = None):
            return cd

    dep = {"deploymentId": "d-A1B2C3D4E", "applicationName": "app", "deploymentGroupName": "g"}
    with Stubber(cd) as stub:
        stub.add_response(
            "get_deployment",
            {"deploymentInfo": dep | {"status": "InProgress"}},
            {"deploymentId": dep["deploymentId"]},
        )
        stub.add_client_error(
            "list_deployment_targets",
            service_error_code="AccessDeniedException",
            service_message="User: arn:aws:iam::123456789012:user/ci is not authorized to "
            "perform: codedeploy:ListDeploymentTargets",
            http_status_code=400,
        )
        stub.add_response(
            "get_deployment",
            {"deploymentInfo": dep | {"status": "Succeeded"}},
            {"deploymentId": dep["deploymentId"]},
        )
        events: list[FollowEvent] = []
        status = follow(Ctx(), dep["deploymentId"], events.append, interval=0.01)
        stub.assert_no_pending_responses()
    assert status == "Succeeded"
    kinds = [(e.kind, e.status) for e in events]
    assert kinds == [("notice", ""), ("deployment", "InProgress"), ("deployment", "Succeeded")]
    assert "access denied for codedeploy:ListDeploymentTargets" in events[0].line()


TRAFFIC_EVENTS = [
    "BeforeBlockTraffic",
    "BlockTraffic",
    "AfterBlockTraffic",
    "ApplicationStop",
    "DownloadBundle",
    "Install",
    "ApplicationStart",
    "BeforeAllowTraffic",
    "AllowTraffic",
    "AfterAllowTraffic",
]


def traffic_target(tid: str, states: dict[str, str], status: str = "InProgress") -> dict:
    events = [{"lifecycleEventName": n, "status": states.get(n, "Pending")} for n in TRAFFIC_EVENTS]
    return {"instanceTarget": {"targetId": tid, "status": status, "lifecycleEvents": events}}


def test_traffic_events_name_the_target_group_and_each_instance_says_where_it_stands() -> None:
    t = Tracker("d-TEST00002")
    t.note_target_groups({"loadBalancerInfo": {"targetGroupInfoList": [{"name": "shop-tg"}]}})
    t.update_targets([traffic_target("i-1", {})])
    assert t.targets["i-1"].traffic == "in service"  # not taken out yet
    evs = t.update_targets(
        [traffic_target("i-1", {"BeforeBlockTraffic": "Succeeded", "BlockTraffic": "InProgress"})]
    )
    block = next(e for e in evs if e.lifecycle_event == "BlockTraffic")
    assert "deregistering from shop-tg" in block.line()
    assert t.targets["i-1"].traffic == "draining"
    done = {n: "Succeeded" for n in TRAFFIC_EVENTS[:7]}
    t.update_targets([traffic_target("i-1", done)])
    assert t.targets["i-1"].traffic == "out of service"
    evs = t.update_targets(
        [
            traffic_target(
                "i-1", done | {"BeforeAllowTraffic": "Succeeded", "AllowTraffic": "InProgress"}
            )
        ]
    )
    allow = next(e for e in evs if e.lifecycle_event == "AllowTraffic")
    assert "registering with shop-tg, waiting until healthy" in allow.line()
    assert t.targets["i-1"].traffic == "registering"
    evs = t.update_targets(
        [traffic_target("i-1", {n: "Succeeded" for n in TRAFFIC_EVENTS}, "Succeeded")]
    )
    assert (
        "healthy in shop-tg" in next(e for e in evs if e.lifecycle_event == "AllowTraffic").line()
    )
    assert t.targets["i-1"].traffic == "in service"
    # without traffic control there is nothing to say
    plain = Tracker("d-TEST00003")
    plain.update_targets([target("i-2", "InProgress", {"Install": "InProgress"})])
    assert plain.targets["i-2"].traffic == ""


def test_a_failed_allow_traffic_keeps_the_instance_out() -> None:
    t = Tracker("d-TEST00004")
    states = {n: "Succeeded" for n in TRAFFIC_EVENTS[:8]} | {"AllowTraffic": "Failed"}
    t.update_targets([traffic_target("i-3", states, "Failed")])
    assert t.targets["i-3"].traffic == "AllowTraffic failed"


# ---- automatic rollback, against the sandbox's CodeDeploy in-process (it rolls back as AWS does)
@pytest.fixture
def w(aws_credentials, monkeypatch: pytest.MonkeyPatch):
    from moto import mock_aws

    from wizard.sandbox import clock, extensions
    from wizard.sandbox.world import World

    monkeypatch.setattr(clock, "CLOCK", clock.Clock(start_delay=0.03, event=0.01, slow_event=0.05))
    with mock_aws():
        extensions.install()
        yield World(None)


def _ctx(w):
    class Ctx:
        sandbox = True

        def client(self, service: str, region: str | None = None):
            return w.client(service)

    return Ctx()


def test_follow_goes_on_into_the_automatic_rollback_and_says_where_it_rolled_back_to(w) -> None:
    from tests.test_sandbox_deployments import broken, deploy, upload, with_rollback
    from wizard.deploy.follow import follow

    r = with_rollback(w)
    good = w.client("codedeploy").get_deployment(deploymentId=r["deployment_id"])
    s3 = good["deploymentInfo"]["revision"]["s3Location"]
    bad = deploy(w, r, upload(w, r, "releases/bad.zip", broken(w)))
    events: list[FollowEvent] = []
    status = follow(_ctx(w), bad, events.append, interval=0.01)
    assert status == "Failed"  # the original's outcome decides the exit status
    rollbacks = [e for e in events if e.kind == "rollback"]
    rb = rollbacks[0].rollback_id
    assert [e.line().split("  ", 1)[1] for e in rollbacks] == [
        f"deployment {bad}  rolling back to s3://{s3['bucket']}/{s3['key']} in {rb}",
        f"deployment {bad}  rolled back to s3://{s3['bucket']}/{s3['key']} in {rb}",
    ]
    between = events[events.index(rollbacks[0]) + 1 : events.index(rollbacks[1])]
    assert between and all(e.rollback_of == bad for e in between)
    assert between[-1].kind == "deployment" and between[-1].status == "Succeeded"
    assert f"deployment {rb} (rollback)  Succeeded" in between[-1].line()


def test_nothing_to_roll_back_to_is_said_and_no_rollback_means_no_waiting(w) -> None:
    import time

    from tests.test_sandbox_deployments import ROLLBACK, broken, deploy, upload
    from wizard.deploy.follow import follow
    from wizard.sandbox import scenarios

    r = scenarios.build(w, count=1, files=dict(scenarios._files(w)), upload=False)
    bad = deploy(w, r, upload(w, r, "releases/bad.zip", broken(w)))
    started = time.monotonic()
    events: list[FollowEvent] = []
    assert follow(_ctx(w), bad, events.append, interval=0.01) == "Failed"
    assert time.monotonic() - started < 2  # rollback off: no grace period spent waiting
    assert not [e for e in events if e.kind == "rollback"]

    w.client("codedeploy").update_deployment_group(
        applicationName=r["application"],
        currentDeploymentGroupName=r["deployment_group"],
        autoRollbackConfiguration=ROLLBACK,
    )
    again = deploy(w, r, upload(w, r, "releases/bad2.zip", broken(w)))
    events = []
    follow(_ctx(w), again, events.append, interval=0.01)
    assert events[-1].kind == "rollback" and not events[-1].rollback_id
    assert "not rolled back:" in events[-1].line()
    assert "no successful deployment to roll back to" in events[-1].line()
