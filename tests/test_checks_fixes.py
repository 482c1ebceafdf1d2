"""--fix's automatic fixes applied in moto (with the sandbox's managed policies installed): each
only adds, the plan says what it will call, and the affected checks pass when re-run."""

from __future__ import annotations

import json

import pytest

from checks.fixes import PlannedFix, apply_fixes
from checks.model import Status
from checks.runner import diagnose
from tests.checks_world import CD_TRUST, FakeEvidence, build, target

moto = pytest.importorskip("moto")


@pytest.fixture
def ctx(aws_credentials, request):
    from wizard.aws import AwsContext
    from wizard.sandbox import extensions

    with moto.mock_aws():
        extensions.install()
        c = AwsContext(region="us-east-1")
        c.test_name = "fix-" + request.node.name[5:30].replace("_", "-").strip("-")
        yield c


def test_associate_profile_only_where_missing(ctx):
    w = build(ctx, n=3, profile_on=1)
    fix = PlannedFix(
        "iam.instance-profile",
        "associate-profile",
        {"profile": w.profile, "instances": w.instance_ids},
        "associate",
    )
    [out] = apply_fixes(ctx, [fix])
    assert out.ok, out.message
    assert "associated" in out.message and "1 already had one" in out.message
    assocs = ctx.client("ec2").describe_iam_instance_profile_associations()[
        "IamInstanceProfileAssociations"
    ]
    assert {a["InstanceId"] for a in assocs} >= set(w.instance_ids)


def test_scoped_read_policy_then_the_check_passes(ctx):
    w = build(ctx, n=1, s3_read=False)
    fix = PlannedFix(
        "s3.bundle-readable",
        "s3-read-policy",
        {"role": w.instance_role, "bucket": w.bucket, "prefix": "releases"},
        "read",
    )
    [out] = apply_fixes(ctx, [fix])
    assert out.ok, out.message
    doc = ctx.client("iam").get_role_policy(
        RoleName=w.instance_role, PolicyName="codedeploy-wizard-revision-read"
    )["PolicyDocument"]
    doc = doc if isinstance(doc, dict) else json.loads(doc)
    resources = [s["Resource"] for s in doc["Statement"]]
    assert f"arn:aws:s3:::{w.bucket}/releases/*" in resources
    assert "*" not in resources
    ev = FakeEvidence(ctx, w, status="Succeeded", targets=[target(w.instance_ids[0], None)])
    report = diagnose(
        ctx, deployment_id=w.deployment_id, evidence=ev, check_ids=["s3.bundle-readable"]
    )
    # moto under the sandbox extensions simulates; the fallback would still label it weaker
    assert report.result("s3.bundle-readable").status in (Status.PASS, Status.INFO)


def test_service_role_trust_is_added_not_replaced(ctx):
    from tests.checks_world import EC2_TRUST

    w = build(ctx, n=1, service_trust=EC2_TRUST)
    fix = PlannedFix(
        "iam.service-role",
        "service-role-trust",
        {"role": w.service_role, "application": w.app},
        "trust",
    )
    [out] = apply_fixes(ctx, [fix])
    assert out.ok, out.message
    doc = ctx.client("iam").get_role(RoleName=w.service_role)["Role"]["AssumeRolePolicyDocument"]
    doc = doc if isinstance(doc, dict) else json.loads(doc)
    principals = [s["Principal"]["Service"] for s in doc["Statement"]]
    assert principals == ["ec2.amazonaws.com", "codedeploy.amazonaws.com"]
    added = doc["Statement"][1]["Condition"]
    assert added["StringEquals"]["aws:SourceAccount"] == ctx.account
    assert added["ArnLike"]["aws:SourceArn"].endswith(f":deploymentgroup:{w.app}/*")
    # applying twice changes nothing
    [again] = apply_fixes(ctx, [fix])
    assert again.ok and "already trusts" in again.message


def test_attach_codedeploy_role_and_the_check_passes(ctx):
    w = build(ctx, n=1, attach_service_policy=False, service_trust=CD_TRUST)
    ev = FakeEvidence(ctx, w, error={"code": "IAM_ROLE_PERMISSIONS"}, targets=[])
    before = diagnose(
        ctx, deployment_id=w.deployment_id, evidence=ev, check_ids=["iam.service-role"]
    )
    res = before.result("iam.service-role")
    assert res.status is Status.FAIL and res.fix.action == "attach-codedeploy-role"
    fix = PlannedFix("iam.service-role", "attach-codedeploy-role", res.fix.params, "attach")
    [out] = apply_fixes(ctx, [fix])
    assert out.ok, out.message
    ev2 = FakeEvidence(ctx, w, error={"code": "IAM_ROLE_PERMISSIONS"}, targets=[])
    after = diagnose(
        ctx, deployment_id=w.deployment_id, evidence=ev2, check_ids=["iam.service-role"]
    )
    assert after.result("iam.service-role").status is Status.PASS


def test_a_failing_fix_does_not_stop_the_others(ctx):
    w = build(ctx, n=1)
    bad = PlannedFix("iam.service-role", "attach-codedeploy-role", {"role": "no-such-role"}, "x")
    good = PlannedFix(
        "s3.bundle-readable",
        "s3-read-policy",
        {"role": w.instance_role, "bucket": w.bucket, "prefix": ""},
        "y",
    )
    outs = apply_fixes(ctx, [bad, good])
    assert [o.ok for o in outs] == [False, True]
    assert "no-such-role" in outs[0].message or "NoSuchEntity" in outs[0].message


def test_by_hand_agent_install_brings_ruby_and_the_regions_installer():
    from checks.agent import install_fix

    (by_hand,) = [c for c in install_fix("eu-west-1", []).commands if "./install auto" in c]
    assert "dnf install -y ruby wget" in by_hand and "apt-get install -y ruby-full wget" in by_hand
    assert "https://aws-codedeploy-eu-west-1.s3.eu-west-1.amazonaws.com/latest/install" in by_hand
    (cn,) = [c for c in install_fix("cn-north-1", []).commands if "./install auto" in c]
    assert "aws-codedeploy-cn-north-1.s3.cn-north-1.amazonaws.com.cn/latest/install" in cn
