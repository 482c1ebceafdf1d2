"""A fleet that scales, end to end: `wizard plan/apply/deploy/diagnose/destroy` as subprocesses
against the sandbox server, with an Auto Scaling group behind a created load balancer: apply, a
deployment through BlockTraffic/AllowTraffic, a scale-out, a failed deployment that CodeDeploy
rolls back and its diagnosis, destroy; the emulated account is checked with boto3 after each
step."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import boto3
import pytest

from wizard import TAG_KEY

pytestmark = pytest.mark.e2e
REGION = "us-east-1"
APPSPEC = """version: 0.0
os: linux
files:
  - source: /
    destination: {dest}
hooks:
  ApplicationStart:
    - location: scripts/start.sh
      timeout: 60
"""


def _client(url: str, service: str):
    return boto3.client(
        service,
        endpoint_url=url,
        region_name=REGION,
        aws_access_key_id="sandbox",
        aws_secret_access_key="sandbox",
    )


def _project(tmp_path: Path, app: str, desired: int) -> None:
    (tmp_path / ".codedeploy-wizard.yml").write_text(
        f"application: {app}\n"
        "deployment_config: CodeDeployDefault.HalfAtATime\n"
        "instances:\n"
        f"  auto_scaling: {{min: 1, max: 4, desired: {desired}}}\n"
        "load_balancer:\n"
        "  create: true\n"
        "  health_check_path: /health\n"
        "bundle:\n"
        "  source: app\n"
        f"  destination: /var/www/{app}\n"
        "ci:\n"
        "  provider: none\n"
    )
    src = tmp_path / "app"
    (src / "scripts").mkdir(parents=True, exist_ok=True)
    (src / "appspec.yml").write_text(APPSPEC.format(dest=f"/var/www/{app}"))
    start = src / "scripts" / "start.sh"
    start.write_text("#!/bin/bash\nset -euo pipefail\necho started\n")
    start.chmod(0o755)
    (src / "index.html").write_text("<h1>hello</h1>\n")


def _group(url: str, name: str) -> dict | None:
    found = _client(url, "autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=[name])[
        "AutoScalingGroups"
    ]
    return found[0] if found else None


def test_plan_apply_deploy_scale_out_roll_back_and_destroy_an_auto_scaling_fleet(
    sandbox_url, sandbox_env, run_wizard, tmp_path
):
    app = f"fleet-{uuid.uuid4().hex[:8]}"
    asg_name, tg_name, alb_name = f"{app}-asg", f"{app}-tg", f"{app}-alb"
    _project(tmp_path, app, desired=2)
    common = ("--endpoint-url", sandbox_url, "--project-dir", str(tmp_path))
    elb, cd = _client(sandbox_url, "elbv2"), _client(sandbox_url, "codedeploy")
    ec2 = _client(sandbox_url, "ec2")

    def wizard(*args: str):
        return run_wizard(*args, *common, env=sandbox_env, timeout=240)

    # ---- plan: what would be made, nothing made
    proc = wizard("plan", "--json")
    assert proc.returncode == 0, proc.stderr
    changes = {(c["resource"], c["name"]): c for c in json.loads(proc.stdout)["changes"]}
    for key in (
        ("ec2:launch-template", f"{app}-codedeploy"),
        ("autoscaling:group", asg_name),
        ("elbv2:target-group", tg_name),
        ("elbv2:load-balancer", alb_name),
        ("elbv2:listener", f"{alb_name}:80"),
        ("codedeploy:deployment-group", f"{app}-group"),
    ):
        assert changes[key]["action"] == "create", key
    assert _group(sandbox_url, asg_name) is None

    # ---- apply: the fleet, in service, behind the target group
    proc = wizard("apply", "--yes")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"http://{alb_name}" in proc.stdout  # the next steps name the load balancer
    group = _group(sandbox_url, asg_name)
    in_service = [i["InstanceId"] for i in group["Instances"] if i["LifecycleState"] == "InService"]
    assert len(in_service) == 2
    tg = elb.describe_target_groups(Names=[tg_name])["TargetGroups"][0]
    assert tg["HealthCheckPath"] == "/health" and group["TargetGroupARNs"] == [tg["TargetGroupArn"]]
    reservations = ec2.describe_instances(InstanceIds=in_service)["Reservations"]
    for inst in (i for r in reservations for i in r["Instances"]):
        assert inst["IamInstanceProfile"]["Arn"].endswith(f"/{app}-codedeploy-ec2")
        assert inst["MetadataOptions"]["HttpTokens"] == "required"
        assert {"Key": TAG_KEY, "Value": app} in inst["Tags"]
        # no stated health: the sandbox decides from the security groups the wizard made (the
        # instances admit the load balancer's on the port) and from what is deployed
        assert not [t for t in inst["Tags"] if t["Key"] == "sandbox:target-health"]
    info = cd.get_deployment_group(applicationName=app, deploymentGroupName=f"{app}-group")[
        "deploymentGroupInfo"
    ]
    assert [g["name"] for g in info["autoScalingGroups"]] == [asg_name]
    assert info["deploymentStyle"]["deploymentOption"] == "WITH_TRAFFIC_CONTROL"
    assert info["loadBalancerInfo"]["targetGroupInfoList"] == [{"name": tg_name}]
    assert info["autoRollbackConfiguration"] == {"enabled": True, "events": ["DEPLOYMENT_FAILURE"]}
    # CodeDeploy put its launch hook on the group, so later instances get the revision
    hooks = _client(sandbox_url, "autoscaling").describe_lifecycle_hooks(
        AutoScalingGroupName=asg_name
    )["LifecycleHooks"]
    assert [h["LifecycleTransition"] for h in hooks] == ["autoscaling:EC2_INSTANCE_LAUNCHING"]

    # ---- apply again: nothing to do
    proc = wizard("plan", "--json")
    actions = {c["action"] for c in json.loads(proc.stdout)["changes"]}
    assert actions == {"noop"}, proc.stdout

    # ---- deploy: each instance leaves the target group and comes back healthy
    deployed = proc = wizard("deploy", "--wait")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for iid in in_service:
        assert f"{iid}  BlockTraffic      Succeeded  out of {tg_name}" in proc.stdout
        assert f"{iid}  AllowTraffic      Succeeded  healthy in {tg_name}" in proc.stdout
    health = elb.describe_target_health(TargetGroupArn=tg["TargetGroupArn"])
    states = {
        d["Target"]["Id"]: d["TargetHealth"]["State"] for d in health["TargetHealthDescriptions"]
    }
    assert states == dict.fromkeys(in_service, "healthy")

    # ---- scale out through apply: the new instance gets the last good revision
    _project(tmp_path, app, desired=3)
    proc = wizard("apply", "--yes")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "desired 2 → 3" in proc.stdout
    group = _group(sandbox_url, asg_name)
    assert len([i for i in group["Instances"] if i["LifecycleState"] == "InService"]) == 3
    deployments = cd.batch_get_deployments(
        deploymentIds=cd.list_deployments(applicationName=app, deploymentGroupName=f"{app}-group")[
            "deployments"
        ]
    )["deploymentsInfo"]
    assert "autoscaling" in {d["creator"] for d in deployments}

    # ---- a revision that clashes with a file already on the instances (DISALLOW): it fails
    # at Install, and automatic rollback redeploys the good one; deploy follows it to the end
    good_key = next(w for w in deployed.stderr.split() if w.startswith("s3://"))  # the upload
    (tmp_path / "app" / "new.html").write_text("<h1>new</h1>\n")
    group = _group(sandbox_url, asg_name)
    ec2.create_tags(
        Resources=[i["InstanceId"] for i in group["Instances"]],
        Tags=[{"Key": f"sandbox:file:/var/www/{app}/new.html", "Value": "root:root:644"}],
    )
    proc = wizard("deploy", "--wait")
    assert proc.returncode == 1, proc.stdout + proc.stderr  # the failed deployment decides
    failed = proc.stdout.split("deployment ", 1)[1].split()[0]
    rolled = cd.get_deployment(deploymentId=failed)["deploymentInfo"].get("rollbackInfo") or {}
    rb = rolled.get("rollbackDeploymentId")
    assert rb, rolled
    assert f"rolling back to {good_key} in {rb}" in proc.stdout
    assert f"rolled back to {good_key} in {rb}" in proc.stdout
    rollback = cd.get_deployment(deploymentId=rb)["deploymentInfo"]
    assert (rollback["status"], rollback["creator"]) == ("Succeeded", "codeDeployRollback")
    assert rollback["revision"]["s3Location"]["key"] in good_key

    # ---- diagnose: the group's latest deployment is the rollback; it points at the failure,
    # whose own root cause is the clash, with the fix
    proc = wizard("diagnose", "--json")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["deployment"]["id"] == rb
    assert doc["root_causes"][0] == "rollback.rolled-back", doc["root_causes"]
    result = next(r for r in doc["results"] if r["id"] == "rollback.rolled-back")
    assert f"automatic rollback of {failed}" in result["summary"]
    assert f"wizard diagnose {failed}" in result["fix"]["commands"]
    proc = wizard("diagnose", "--json", failed)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["root_causes"][0] == "dest.file-exists", doc["root_causes"]
    result = next(r for r in doc["results"] if r["id"] == "dest.file-exists")
    assert f"/var/www/{app}/new.html" in result["summary"]
    assert "--file-exists-behavior OVERWRITE" in "\n".join(result["fix"]["commands"])

    # ---- destroy: everything tagged, in dependency order
    proc = wizard("destroy", "--yes")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert _group(sandbox_url, asg_name) is None
    assert not ec2.describe_launch_templates(Filters=[{"Name": f"tag:{TAG_KEY}", "Values": [app]}])[
        "LaunchTemplates"
    ]
    assert not [
        t for t in elb.describe_target_groups()["TargetGroups"] if t["TargetGroupName"] == tg_name
    ]
    assert not [
        b
        for b in elb.describe_load_balancers()["LoadBalancers"]
        if b["LoadBalancerName"] == alb_name
    ]
    assert not ec2.describe_security_groups(Filters=[{"Name": f"tag:{TAG_KEY}", "Values": [app]}])[
        "SecurityGroups"
    ]
    assert app not in cd.list_applications()["applications"]
    proc = wizard("destroy", "--yes")
    assert proc.returncode == 0, proc.stdout + proc.stderr
