"""The diagnose engine on worlds built in moto: verdicts, grouping, ranking, SKIP, ERROR, order."""

from __future__ import annotations

import json

import pytest

from checks import registry
from checks.model import Result, Status
from checks.runner import diagnose
from tests.checks_world import FakeEvidence, build, probes, target

moto = pytest.importorskip("moto")

NOT_RECEIVED = "CodeDeploy agent was not able to receive the lifecycle event. Check the CodeDeploy agent logs on your host and make sure the agent is running and can connect to the CodeDeploy server."  # noqa: E501


@pytest.fixture(scope="module")
def _mocked():
    """One moto world per module (fast); each test builds under its own names."""
    import os

    saved = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
    with moto.mock_aws():
        yield
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture
def ctx(_mocked, aws_credentials, request):
    from wizard.aws import AwsContext

    c = AwsContext(region="us-east-1")
    c.test_name = request.node.name.replace("_", "-")[5:40].strip("-")
    return c


def run(ctx, ev, **kw):
    return diagnose(ctx, deployment_id=ev.world.deployment_id, evidence=ev, **kw)


def allow_all(role_arn, actions, resources, resource_policy):
    return {a: "allowed" for a in actions}


def test_catalogue_has_the_public_ids_in_order():
    ids = [c.id for c in registry.all_checks()]
    for required in (
        "deployment.status",
        "group.instances-matched",
        "group.health",
        "iam.service-role",
        "iam.instance-profile",
        "s3.bundle-exists",
        "s3.bundle-region",
        "s3.bundle-readable",
        "bundle.appspec",
        "agent.running",
        "dest.writable",
        "dest.file-exists",
        "hooks.failed",
    ):
        assert required in ids
    assert (
        ids.index("deployment.status")
        < ids.index("group.instances-matched")
        < ids.index("hooks.failed")
    )


def test_missing_profile_on_some_instances_is_grouped_and_ranked_first(ctx):
    w = build(ctx, n=4, profile_on=1)
    targets = [target(w.instance_ids[0], None)] + [
        target(i, "ApplicationStop", message=NOT_RECEIVED) for i in w.instance_ids[1:]
    ]
    ev = FakeEvidence(
        ctx,
        w,
        error={"code": "HEALTH_CONSTRAINTS", "message": "too many failed"},
        targets=targets,
        simulate=allow_all,
    )
    report = run(ctx, ev)
    prof = report.result("iam.instance-profile")
    assert prof.status is Status.FAIL
    assert prof.summary.startswith("3 of 4 instances: no instance profile")
    assert sorted(prof.instances) == w.instance_ids[1:]
    assert prof.fix.automatic and prof.fix.params["profile"] == w.profile
    assert report.root_causes[0] == "iam.instance-profile"
    assert "deployment.status" not in report.root_causes  # the symptom, explained
    assert report.result("deployment.status").fix.summary.startswith(
        f"Attach the instance profile {w.profile} to"
    )
    # SSM is offline for them: agent.running says it could not see, never PASS
    agent = report.result("agent.running")
    assert agent.status is Status.WARN and "could not look inside" in agent.summary
    assert report.exit_code == 1
    doc = report.to_json()
    json.dumps(doc)
    assert doc["schema_version"] == 1
    assert doc["deployment"]["error_code"] == "HEALTH_CONSTRAINTS"
    assert doc["deployment"]["instances"] == {"Succeeded": 1, "Failed": 3}


def test_role_without_s3_read_is_the_root_cause_with_a_scoped_policy_fix(ctx):
    w = build(ctx, n=2, s3_read=False)
    targets = [
        target(i, "DownloadBundle", message="Access Denied (Service: Amazon S3; Status Code: 403)")
        for i in w.instance_ids
    ]

    def sim(role_arn, actions, resources, resource_policy):
        assert resources == [f"arn:aws:s3:::{w.bucket}/{w.key}"]
        return {a: "implicitDeny" for a in actions}

    ev = FakeEvidence(ctx, w, error={"code": "HEALTH_CONSTRAINTS"}, targets=targets, simulate=sim)
    report = run(ctx, ev)
    assert report.root_causes[0] == "s3.bundle-readable"
    res = report.result("s3.bundle-readable")
    assert "all 2 instances" in res.summary and w.instance_role in res.summary
    assert res.fix.action == "s3-read-policy"
    assert res.fix.params == {"role": w.instance_role, "bucket": w.bucket, "prefix": "releases"}
    assert report.result("agent.running").status is Status.PASS  # the agent ran DownloadBundle
    dep = report.result("deployment.status")
    assert "DownloadBundle" in dep.summary and "Access Denied" in dep.summary


def test_simulation_denied_falls_back_to_policies_and_says_weaker(ctx):
    w = build(ctx, n=1, s3_read=False)
    targets = [target(w.instance_ids[0], "DownloadBundle", message="Access Denied")]
    ev = FakeEvidence(ctx, w, error={"code": "HEALTH_CONSTRAINTS"}, targets=targets, simulate=None)
    res = run(ctx, ev).result("s3.bundle-readable")
    assert res.status is Status.FAIL
    assert "weaker" in res.summary
    assert "weaker" in res.evidence["roles"][w.instance_role]["method"]


def test_simulation_fallback_never_claims_pass(ctx):
    w = build(ctx, n=1, s3_read=True)
    ev = FakeEvidence(ctx, w, status="Succeeded", targets=[target(w.instance_ids[0], None)])
    res = run(ctx, ev).result("s3.bundle-readable")
    assert res.status is Status.INFO and "weaker" in res.summary


def test_prerequisite_failure_skips_with_reason(ctx):
    w = build(ctx, n=2, profile_on=0)
    targets = [target(i, "ApplicationStop", message=NOT_RECEIVED) for i in w.instance_ids]
    ev = FakeEvidence(
        ctx, w, error={"code": "HEALTH_CONSTRAINTS"}, targets=targets, simulate=allow_all
    )
    res = run(ctx, ev).result("s3.bundle-readable")
    assert res.status is Status.SKIP
    assert res.summary == "skipped: iam.instance-profile failed"


def test_service_role_trusting_ec2_only(ctx):
    from tests.checks_world import EC2_TRUST

    w = build(ctx, n=1, service_trust=EC2_TRUST)
    ev = FakeEvidence(
        ctx,
        w,
        error={
            "code": "IAM_ROLE_PERMISSIONS",
            "message": "CodeDeploy does not have the permissions required to assume the role",
        },
        targets=[],
    )
    report = run(ctx, ev)
    res = report.result("iam.service-role")
    assert res.status is Status.FAIL
    assert (
        "not trusted by codedeploy.amazonaws.com" in res.summary and "instance role" in res.summary
    )
    assert res.fix.automatic and res.fix.action == "service-role-trust"
    assert report.root_causes[0] == "iam.service-role"


def test_no_instances_matched_reports_the_filter_and_near_miss(ctx):
    w = build(ctx, n=2, tag_value="App", filter_value="app")
    ev = FakeEvidence(
        ctx, w, error={"code": "NO_INSTANCES", "message": "no instances found"}, targets=[]
    )
    report = run(ctx, ev)
    res = report.result("group.instances-matched")
    assert res.status is Status.FAIL
    assert "Name=app" in res.summary and "near miss" in res.summary
    assert report.root_causes[0] == "group.instances-matched"
    assert report.result("group.health").status is Status.SKIP


def test_health_constraints_invalid(ctx):
    w = build(ctx, n=1, deployment_config="CodeDeployDefault.HalfAtATime")
    ev = FakeEvidence(
        ctx,
        w,
        error={"code": "HEALTH_CONSTRAINTS_INVALID"},
        targets=[target(w.instance_ids[0], None, status="Skipped")],
    )
    report = run(ctx, ev)
    assert report.root_causes[0] == "group.health"
    assert "HalfAtATime" in report.result("group.health").summary


def test_bucket_in_another_region(ctx):
    w = build(ctx, n=1, bucket_region="eu-west-1")
    targets = [
        target(
            w.instance_ids[0],
            "DownloadBundle",
            message="The bucket you are attempting to access must be addressed using the specified endpoint.",  # noqa: E501
        )
    ]
    ev = FakeEvidence(
        ctx, w, error={"code": "HEALTH_CONSTRAINTS"}, targets=targets, simulate=allow_all
    )
    report = run(ctx, ev)
    assert report.root_causes[0] == "s3.bundle-region"
    assert "eu-west-1" in report.result("s3.bundle-region").summary


def test_appspec_missing_at_root_names_the_nested_one(ctx):
    w = build(ctx, n=1, bundle={"app/appspec.yml": "version: 0.0\nos: linux\n", "other/x": "y"})
    msg = 'The CodeDeploy agent did not find an AppSpec file within the unpacked revision directory at revision-relative path "appspec.yml".'  # noqa: E501
    ev = FakeEvidence(
        ctx,
        w,
        error={"code": "HEALTH_CONSTRAINTS"},
        targets=[target(w.instance_ids[0], "Install", message=msg)],
        simulate=allow_all,
    )
    report = run(ctx, ev)
    res = report.result("bundle.appspec")
    assert res.status is Status.FAIL and "app/appspec.yml" in res.summary
    assert report.root_causes[0] == "bundle.appspec"
    assert report.result("dest.writable").status is Status.SKIP


def test_hook_failure_grouped_with_log_tail(ctx):
    w = build(ctx, n=3)
    targets = [
        target(
            i,
            "ApplicationStart",
            code="ScriptFailed",
            script="scripts/start.sh",
            message="Script at specified location: scripts/start.sh run as user root failed with exit code 1",  # noqa: E501
            log="[stderr]boom: port 80 in use",
        )
        for i in w.instance_ids
    ]
    ev = FakeEvidence(
        ctx, w, error={"code": "HEALTH_CONSTRAINTS"}, targets=targets, simulate=allow_all
    )
    report = run(ctx, ev)
    res = report.result("hooks.failed")
    assert res.status is Status.FAIL
    assert res.summary.startswith(
        "all 3 instances: ApplicationStart scripts/start.sh failed with exit code 1"
    )
    assert "port 80 in use" in res.summary
    assert report.root_causes[0] == "hooks.failed"


def test_agent_absent_seen_through_run_command(ctx):
    w = build(ctx, n=2)
    targets = [target(i, "ApplicationStop", message=NOT_RECEIVED) for i in w.instance_ids]
    out = probes(
        agent=("inactive", 3),
        version=("cat: /opt/codedeploy-agent/.version: No such file or directory", 1),
        agent_user=("", 1),
    )
    ev = FakeEvidence(
        ctx,
        w,
        error={"code": "HEALTH_CONSTRAINTS"},
        targets=targets,
        ssm={i: "Online" for i in w.instance_ids},
        probes={"*": out},
        simulate=allow_all,
    )
    report = run(ctx, ev)
    res = report.result("agent.running")
    assert res.status is Status.FAIL and "agent not installed" in res.summary
    assert res.fix.automatic and res.fix.params["instances"] == w.instance_ids
    assert report.root_causes[0] == "agent.running"
    assert (
        'echo "@@probe agent"' in ev.script and "systemctl is-active codedeploy-agent" in ev.script
    )


def test_destination_not_writable_and_runas_missing(ctx):
    appspec = "version: 0.0\nos: linux\nfiles:\n  - source: /\n    destination: /srv/app\nhooks:\n  ApplicationStart:\n    - location: start.sh\n      runas: deploy\n"  # noqa: E501
    w = build(ctx, n=1, bundle={"appspec.yml": appspec, "start.sh": "#!/bin/bash\n"})
    iid = w.instance_ids[0]
    msg = "Permission denied @ dir_s_mkdir - /srv/app"
    out = probes(
        {
            "agent": ("active", 0),
            "agent-user": ("codedeploy", 0),
            "stat /srv/app": ("stat: cannot statx '/srv/app': No such file or directory", 1),
            "stat /srv": ("root:root 755", 0),
            "id deploy": ("id: 'deploy': no such user", 1),
        }
    )
    ev = FakeEvidence(
        ctx,
        w,
        error={"code": "HEALTH_CONSTRAINTS"},
        targets=[target(iid, "Install", message=msg)],
        ssm={iid: "Online"},
        probes={iid: out},
        simulate=allow_all,
    )
    res = run(ctx, ev).result("dest.writable")
    assert res.status is Status.FAIL
    assert "/srv is root:root 755, not writable by the agent user codedeploy" in res.summary
    assert "runas user deploy does not exist" in res.summary


def test_file_exists_message(ctx):
    w = build(ctx, n=1)
    iid = w.instance_ids[0]
    msg = "The deployment failed because a specified file already exists at this location: /var/www/app/index.html"  # noqa: E501
    ev = FakeEvidence(
        ctx,
        w,
        error={"code": "HEALTH_CONSTRAINTS"},
        targets=[target(iid, "Install", message=msg)],
        simulate=allow_all,
    )
    report = run(ctx, ev)
    res = report.result("dest.file-exists")
    assert (
        res.status is Status.FAIL
        and "/var/www/app/index.html" in res.summary
        and "DISALLOW" in res.summary
    )
    assert report.root_causes[0] == "dest.file-exists"
    assert "OVERWRITE" in res.fix.commands[0]


def test_healthy_deployment_exits_zero(ctx):
    w = build(ctx, n=2)
    ev = FakeEvidence(
        ctx,
        w,
        status="Succeeded",
        targets=[target(i, None) for i in w.instance_ids],
        simulate=allow_all,
    )
    report = run(ctx, ev)
    assert report.exit_code == 0, [
        (r.id, r.status, r.summary) for r in report.results if r.status.problem
    ]
    assert report.root_causes == []
    assert report.result("deployment.status").status is Status.PASS


def test_check_selection_runs_prerequisites_but_reports_only_selected(ctx):
    w = build(ctx, n=1)
    ev = FakeEvidence(
        ctx, w, status="Succeeded", targets=[target(w.instance_ids[0], None)], simulate=allow_all
    )
    report = run(ctx, ev, check_ids=["s3.bundle-r*"])
    # iam.instance-profile ran (a prerequisite) but only the selected ones are reported, in order
    assert [r.id for r in report.results] == ["s3.bundle-region", "s3.bundle-readable"]
    assert report.result("s3.bundle-readable").status is Status.PASS


def test_unknown_check_pattern_is_a_usage_error(ctx):
    from wizard.errors import UsageError

    w = build(ctx, n=1)
    with pytest.raises(UsageError):
        run(ctx, FakeEvidence(ctx, w, status="Succeeded"), check_ids=["nope.*"])


def test_crash_becomes_error_and_timeout_is_enforced(ctx, monkeypatch):
    from checks import runner
    from checks.model import Check

    def boom(c):
        raise RuntimeError("kaput")

    import threading

    release = threading.Event()  # set only after the run: the check is still stuck when it ends

    def slow(c):
        release.wait(60)
        return Result(Status.PASS, "late")

    checks = [
        Check("t.boom", "Boom", boom),
        Check("t.slow", "Slow", slow, timeout=0.3),
        Check("t.after", "After", lambda c: Result(Status.PASS, "ok"), requires=("t.slow",)),
    ]
    w = build(ctx, n=1)
    ev = FakeEvidence(ctx, w, status="Succeeded")
    seen = []
    try:
        results = runner._schedule(
            checks, runner.CheckContext(ctx, ev), seen.append, {"t.boom", "t.slow", "t.after"}, None
        )
    finally:
        release.set()
    by = {r.id: r for r in results}
    assert [r.id for r in results] == ["t.boom", "t.slow", "t.after"]
    assert by["t.boom"].status is Status.ERROR and "kaput" in by["t.boom"].summary
    assert by["t.slow"].status is Status.ERROR and "timed out" in by["t.slow"].summary
    assert by["t.after"].status is Status.SKIP
    assert len(seen) == 3


def test_preflight_checks_the_group_without_a_deployment(ctx):
    w = build(ctx, n=2)
    out = probes(agent=("active", 0), version=("OFFICIAL_1.7.1-110_rpm", 0))
    ev = FakeEvidence(
        ctx,
        w,
        preflight=True,
        ssm={i: "Online" for i in w.instance_ids},
        probes={"*": out},
        simulate=allow_all,
    )
    report = diagnose(ctx, application=w.app, deployment_group=w.group, preflight=True, evidence=ev)
    assert report.deployment is None and report.preflight
    assert report.result("deployment.status").status is Status.SKIP
    assert report.result("agent.running").status is Status.PASS
    assert "(1.7.1)" in report.result("agent.running").summary
    assert report.result("group.instances-matched").status is Status.PASS


def test_local_checks_run_only_with_local(ctx, tmp_path, monkeypatch):
    from checks import local as local_checks

    w = build(ctx, n=1)
    ev = FakeEvidence(ctx, w, status="Succeeded", targets=[target(w.instance_ids[0], None)])
    without = run(ctx, ev, check_ids=None)
    assert not [r for r in without.results if r.id.startswith("local.")]
    log = tmp_path / "codedeploy-agent.log"
    log.write_text(
        "2026-11-20T10:00:00 ERROR [codedeploy-agent(1)]: InstanceAgent::Plugins::"
        "CodeDeployPlugin::"
        "CommandPoller: Cannot reach InstanceService: Aws::CodeDeployCommand::Errors::"
        "InvalidSignatureException - Signature expired: 20261120T094219Z is now earlier than "
        "20261120T094723Z\n"
    )
    monkeypatch.setattr(local_checks, "AGENT_LOG", str(log))
    ev2 = FakeEvidence(ctx, w, status="Succeeded", targets=[target(w.instance_ids[0], None)])
    report = diagnose(ctx, deployment_id=w.deployment_id, evidence=ev2, local=True)
    logs = report.result("local.logs")
    assert logs.status is Status.FAIL and "clock" in logs.summary
    assert report.result("local.agent").status in (Status.FAIL, Status.WARN, Status.PASS)


def test_agent_running_but_cut_off_from_codedeploy(ctx):
    w = build(ctx, n=2)
    msg = (
        "CodeDeploy agent was not able to receive the lifecycle event. Cannot reach "
        "InstanceService: Net::OpenTimeout - execution expired"
    )
    targets = [target(i, "ApplicationStop", message=msg) for i in w.instance_ids]
    out = probes(agent=("active", 0), version=("OFFICIAL_1.7.1-110_rpm", 0))
    ev = FakeEvidence(
        ctx,
        w,
        error={"code": "HEALTH_CONSTRAINTS"},
        targets=targets,
        ssm={i: "Online" for i in w.instance_ids},
        probes={"*": out},
        simulate=allow_all,
    )
    report = run(ctx, ev)
    res = report.result("agent.running")
    assert res.status is Status.FAIL and "cannot reach CodeDeploy" in res.summary
    assert "codedeploy-commands-secure" in res.fix.summary
    assert report.root_causes[0] == "agent.running"
