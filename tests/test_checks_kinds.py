"""Issue 13 kinds no emulator produces yet, on moto worlds with the deployment outcome, SSM and
Run Command output in the shapes AWS documents (tests/checks_world.py): the first root cause and
the words of its fix. The sandbox end-to-end tests (tests/e2e/test_diagnose_kinds.py) cover what
the sandbox can build."""

from __future__ import annotations

import pytest

from checks.model import Status
from checks.runner import diagnose
from tests.checks_world import FakeEvidence, build, probes, target

moto = pytest.importorskip("moto")

NOT_RECEIVED = (
    "CodeDeploy agent was not able to receive the lifecycle event. Check the CodeDeploy agent "
    "logs on your host and make sure the agent is running and can connect to the CodeDeploy "
    "server."
)
APPSPEC = """version: 0.0
os: linux
files:
  - source: /
    destination: /var/www/app
hooks:
  ApplicationStart:
    - location: scripts/start.sh
      timeout: 60
"""


@pytest.fixture(scope="module")
def _mocked():
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


def allow_all(role_arn, actions, resources, resource_policy):
    return {a: "allowed" for a in actions}


def agent_never_ran(ctx, w, *, ssm="Online", **kw):
    targets = [target(i, "ApplicationStop", message=NOT_RECEIVED) for i in w.instance_ids]
    return FakeEvidence(
        ctx,
        w,
        error={"code": "HEALTH_CONSTRAINTS"},
        targets=targets,
        ssm={i: ssm for i in w.instance_ids} if ssm else {},
        simulate=allow_all,
        **kw,
    )


def run(ctx, ev):
    return diagnose(ctx, deployment_id=ev.world.deployment_id, evidence=ev)


# ---- kind 2: the agent is there but wrong -------------------------------------------------
def test_agent_too_old_for_imdsv2_names_httptokens_and_the_version(ctx):
    w = build(ctx, n=2, http_tokens="required")
    out = probes(agent=("active", 0), version=("agent_version: OFFICIAL_1.0-1.1597_rpm", 0))
    report = run(ctx, agent_never_ran(ctx, w, probes={"*": out}))
    assert report.root_causes[0] == "agent.imds", report.root_causes
    res = report.result("agent.imds")
    assert "HttpTokens=required" in res.summary and "agent 1.0.1" in res.summary
    assert res.fix.summary.startswith("Update the agent")
    assert "HttpTokens optional" in res.fix.summary
    assert res.fix.commands[0].startswith(
        "aws ssm send-command --document-name AWS-ConfigureAWSPackage"
    )
    assert "--http-tokens optional" in res.fix.commands[1]
    assert report.result("agent.running").status is Status.PASS  # it runs: it just cannot work


def test_imdsv2_with_ssm_offline_reads_the_version_pinned_in_user_data(ctx):
    ud = (
        "#!/bin/bash\nyum install -y ruby wget\nwget https://aws-codedeploy-us-east-1.s3."
        "us-east-1.amazonaws.com/latest/install\nchmod +x install\n"
        "./install auto -v releases/codedeploy-agent-1.0-1.1597.noarch.rpm\n"
    )
    w = build(ctx, n=1, http_tokens="required", user_data=ud)
    report = run(ctx, agent_never_ran(ctx, w, ssm=None))
    assert report.root_causes[0] == "agent.imds", report.root_causes
    res = report.result("agent.imds")
    assert "pinned in the user data" in res.summary
    assert "drop any version pin" in res.fix.summary


def test_agent_that_cannot_run_on_its_os_is_updated_not_started(ctx):
    w = build(ctx, n=1)
    out = probes(
        agent=("failed", 3),
        version=("OFFICIAL_1.4.0-2218_deb", 0),
        agent_log=("LoadError: cannot load such file -- webrick", 0),
    )
    report = run(ctx, agent_never_ran(ctx, w, probes={"*": out}, platform=("Ubuntu", "24.04")))
    assert report.root_causes[0] == "agent.running"
    res = report.result("agent.running")
    assert "cannot run on this OS" in res.summary
    assert "Ubuntu 24.04 ships Ruby 3.2" in res.summary and "1.7.0" in res.summary
    assert res.fix.summary.startswith("Update the agent to the current release")
    assert res.fix.action == "install-agent"


def test_agent_crashing_at_start_is_not_told_to_start(ctx):
    w = build(ctx, n=1)
    out = probes(
        agent=("failed", 3),
        version=("OFFICIAL_1.3.2-1902_rpm", 0),
        agent_log=(
            "/opt/codedeploy-agent/lib/codedeploy-agent.rb: LoadError: cannot load such file",
            0,
        ),
    )
    report = run(ctx, agent_never_ran(ctx, w, probes={"*": out}))
    res = report.result("agent.running")
    assert "it crashes at start" in res.summary
    assert not res.fix.summary.startswith("Start")


def test_installer_failure_is_shown(ctx):
    w = build(ctx, n=1)
    out = probes(
        agent=("inactive", 3),
        version=("cat: /opt/codedeploy-agent/.version: No such file or directory", 1),
        installer_log=(
            "E, [2026-11-20T10:00:00] ERROR -- : Current running Ruby version for root is 3.3.0, "
            "but Ruby version 2.x, 3.x needs to be installed.",
            0,
        ),
    )
    report = run(ctx, agent_never_ran(ctx, w, probes={"*": out}))
    res = report.result("agent.running")
    assert "agent not installed (the installer failed:" in res.summary
    assert "Ruby version 2.x, 3.x needs to be installed" in res.summary
    assert res.fix.summary.startswith("Install Ruby first")


def test_stopped_agent_is_started_first(ctx):
    w = build(ctx, n=2)
    out = probes(agent=("inactive", 3), version=("OFFICIAL_1.7.1-110_rpm", 0))
    report = run(ctx, agent_never_ran(ctx, w, probes={"*": out}))
    res = report.result("agent.running")
    assert res.summary == "all 2 instances: agent installed but not running"
    assert res.fix.summary.startswith("Start the CodeDeploy agent")
    assert res.fix.commands[0].startswith("sudo systemctl start codedeploy-agent")
    assert "reinstall, only if start fails" in res.fix.commands[-1]
    assert res.fix.action == "start-agent" and res.fix.params["instances"] == w.instance_ids


def test_without_ssm_the_agent_check_says_what_it_saw_and_how_to_look(ctx):
    w = build(
        ctx,
        n=1,
        user_data="#!/bin/bash\ndnf install -y ruby wget\n./install auto\n"
        "# aws-codedeploy-us-east-1\n",
    )
    report = run(ctx, agent_never_ran(ctx, w, ssm=None))
    res = report.result("agent.running")
    assert res.status is Status.FAIL
    assert "could not look inside (not registered with Systems Manager)" in res.summary
    assert "the user data installs the agent" in res.summary
    # Session Manager cannot reach an instance Systems Manager does not know
    assert res.fix.summary.startswith("Look on the instance (over SSH)")
    assert res.fix.commands[:3] == [
        "sudo systemctl status codedeploy-agent",
        "cat /opt/codedeploy-agent/.version",
        "sudo tail -n 50 /var/log/aws/codedeploy-agent/codedeploy-agent.log",
    ]


def test_without_ssm_the_reason_is_what_ssm_reports_for_a_registered_instance(ctx):
    w = build(
        ctx,
        n=1,
        user_data="#!/bin/bash\ndnf install -y ruby wget\n./install auto\n"
        "# aws-codedeploy-us-east-1\n",
    )
    report = run(ctx, agent_never_ran(ctx, w, ssm="ConnectionLost"))
    res = report.result("agent.running")
    assert res.status is Status.FAIL
    assert "could not look inside (SSM PingStatus ConnectionLost)" in res.summary
    assert res.fix.summary.startswith("Look on the instance (SSH or Session Manager)")


# ---- kind 9: hooks failing for environment reasons, confirmed from the bytes -------------
def _hook_world(ctx, script: bytes, message: str, log: str):
    bundle = {"appspec.yml": APPSPEC, "scripts/start.sh": script, "index.html": "hi"}
    w = build(ctx, n=1, bundle=bundle)
    targets = [
        target(
            i,
            "ApplicationStart",
            code="ScriptFailed",
            message=message,
            script="scripts/start.sh",
            log=log,
        )
        for i in w.instance_ids
    ]
    return run(
        ctx,
        FakeEvidence(
            ctx, w, error={"code": "HEALTH_CONSTRAINTS"}, targets=targets, simulate=allow_all
        ),
    )


def test_crlf_is_told_from_the_bytes_even_when_the_log_does_not_say_it(ctx):
    report = _hook_world(
        ctx,
        "#!/bin/bash\r\nset -e\r\necho hi\r\n",
        "Script at specified location: scripts/start.sh failed with exit code 2",
        "[stderr]scripts/start.sh: line 2: set: -\r: invalid option",
    )
    res = report.result("hooks.failed")
    assert "in the bundle has Windows line endings (3 of 3 lines end in CRLF)" in res.summary
    assert res.fix.summary.startswith("Convert scripts/start.sh to LF line endings")
    assert res.fix.commands[0] == "sed -i 's/\\r$//' scripts/start.sh"


def test_exit_126_without_a_shebang_adds_one(ctx):
    report = _hook_world(
        ctx,
        "echo starting\n",
        "Script at specified location: scripts/start.sh failed with exit code 126",
        "",
    )
    res = report.result("hooks.failed")
    assert "starts without #!" in res.summary
    assert res.fix.summary.startswith("Add #!/bin/bash as the first line of scripts/start.sh")


def test_a_tool_under_nvm_is_called_by_its_full_path(ctx):
    report = _hook_world(
        ctx,
        "#!/bin/bash\npm2 restart app\n",
        "Script at specified location: scripts/start.sh failed with exit code 127",
        "[stderr]scripts/start.sh: line 2: pm2: command not found",
    )
    res = report.result("hooks.failed")
    assert "`pm2` is not on the hook's PATH" in res.summary and "nvm" in res.summary
    assert res.fix.summary.startswith("Call pm2 by its full path in scripts/start.sh")
    assert "command -v pm2" in res.fix.commands[0]


# ---- kind 1: the previous revision, as the real agent words it -------------------------
def test_the_agents_archive_path_names_the_previous_deployment(ctx):
    w = build(ctx, n=1)
    cd = ctx.client("codedeploy")
    prev = w.deployment_id  # the last successful one; the one diagnosed comes after it
    # (in a second group: one active deployment per group, and the first one is still "active")
    group = cd.get_deployment_group(applicationName=w.app, deploymentGroupName=w.group)[
        "deploymentGroupInfo"
    ]
    w.group = f"{w.group}-2"
    cd.create_deployment_group(
        applicationName=w.app,
        deploymentGroupName=w.group,
        serviceRoleArn=group["serviceRoleArn"],
        deploymentConfigName="CodeDeployDefault.AllAtOnce",
        ec2TagFilters=group["ec2TagFilters"],
    )
    w.deployment_id = cd.create_deployment(
        applicationName=w.app,
        deploymentGroupName=w.group,
        revision={
            "revisionType": "S3",
            "s3Location": {"bucket": w.bucket, "key": w.key, "bundleType": "zip"},
        },
    )["deploymentId"]
    message = (
        "Script does not exist at specified location: /opt/codedeploy-agent/deployment-root/"
        f"a1b2c3d4-5678-90ab-cdef-11111EXAMPLE/{prev}/deployment-archive/scripts/cdap_stop.sh"
    )
    targets = [
        target(
            i,
            "ApplicationStop",
            code="ScriptMissing",
            message=message,
            script="scripts/cdap_stop.sh",
        )
        for i in w.instance_ids
    ]
    ev = FakeEvidence(
        ctx, w, error={"code": "HEALTH_CONSTRAINTS"}, targets=targets, simulate=allow_all
    )
    report = run(ctx, ev)
    assert report.root_causes[0] == "hooks.previous-revision", report.root_causes
    res = report.result("hooks.previous-revision")
    assert res.evidence["previous_deployment"] == prev
    assert res.evidence["found_by"] == "the agent's archive path in the message"
    assert prev in res.summary and f"s3://{w.bucket}/{w.key}" in res.summary
    assert res.fix.commands[0] == "wizard deploy --ignore-application-stop-failures"
    assert "--ignore-application-stop-failures" in res.fix.commands[1]
    assert report.result("bundle.appspec").status is Status.PASS  # the current bundle is fine


@pytest.mark.parametrize("event", ["BeforeBlockTraffic", "AfterBlockTraffic"])
def test_block_traffic_scripts_come_from_the_previous_revision_too(event):
    from checks import interpret

    t = target("i-0123456789abcdef0", None, status="Failed")
    t["instanceTarget"]["lifecycleEvents"].insert(
        0,
        {
            "lifecycleEventName": event,
            "status": "Failed",
            "diagnostics": {
                "errorCode": "ScriptFailed",
                "scriptName": "scripts/drain.sh",
                "message": "Script at specified location: scripts/drain.sh failed with exit code 1",
                "logTail": "",
            },
        },
    )
    f = interpret.first_failure(t)
    assert f is not None and f.cause.checks == ("hooks.previous-revision",)
