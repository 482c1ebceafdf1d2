"""`wizard diagnose --json` against the sandbox, one test per failure the sandbox reproduces.

Each world is built through ordinary AWS API calls against the session's sandbox server (the
sandbox's scenario builders: IAM, EC2 with user data and tags, S3 with a real zip, CodeDeploy), one
deployment runs to its end on the simulated fleet, then diagnose runs as a user would run it: a
subprocess with --endpoint-url, reading only the AWS APIs. We assert the first root cause and
its fix.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import clean_env

pytestmark = pytest.mark.e2e

# scenario -> (first root cause, fragments of its summary, fragments of the first line of its
# fix (what people act on), fragments of its first command, fix automatic)
EXPECTED: dict[str, tuple[str, list[str], list[str], list[str], bool]] = {
    "no-instances": (
        "group.instances-matched",
        ["no instance in us-east-1 matches", "near miss"],
        [
            "Tag the instances meant for sbx-no-instances",
            "SBX-NO-INSTANCES",
            "or point the group's tag filter at the tag they carry",
            "=sbx-no-instances; filters are case-sensitive",
        ],
        ["aws ec2 create-tags --resources i-"],
        False,
    ),
    "service-role-untrusted": (
        "iam.service-role",
        ["not trusted by codedeploy.amazonaws.com", "is this the instance role?"],
        ["Let CodeDeploy assume", "the existing statements stay"],
        ["aws iam update-assume-role-policy", "codedeploy.amazonaws.com", "aws:SourceAccount"],
        True,
    ),
    "no-instance-profile": (
        "iam.instance-profile",
        ["all 2 instances: no instance profile"],
        ["No existing profile fits: create", "may only read s3://"],
        ["aws iam create-role", "ec2.amazonaws.com"],
        True,
    ),
    "profile-role-untrusted": (
        "iam.instance-profile",
        ["does not trust ec2.amazonaws.com"],
        ["Let EC2 assume"],
        ["aws iam update-assume-role-policy", '"Service":"ec2.amazonaws.com"'],
        False,
    ),
    "role-no-s3-read": (
        "s3.bundle-readable",
        ["may not s3:GetObject"],
        ["read the revisions", "releases/*"],
        ["aws iam put-role-policy", "s3:GetObject"],
        True,
    ),
    "bucket-policy-deny": (
        "s3.bundle-readable",
        ["explicit Deny in the bucket policy"],
        ["Remove or narrow the Deny statement in the bucket policy"],
        ["aws s3api get-bucket-policy"],
        False,
    ),
    "bucket-other-region": (
        "s3.bundle-region",
        ["is in eu-west-1", "the instances are in us-east-1"],
        ["Put the revision in a bucket in us-east-1"],
        ["aws s3 mb", "--region us-east-1", "aws s3 cp"],
        False,
    ),
    "object-missing": (
        "s3.bundle-exists",
        ["does not exist", "nothing is under"],
        ["Upload the bundle and deploy again"],
        ["wizard deploy"],
        False,
    ),
    "agent-absent": (
        "agent.running",
        ["agent not installed", "user data does not install it"],
        ["Install the CodeDeploy agent"],
        ["AWS-ConfigureAWSPackage", "action=Install,name=AWSCodeDeployAgent"],
        True,
    ),
    "agent-stopped": (
        "agent.running",
        ["agent installed but not running"],
        ["Start the CodeDeploy agent"],
        ["sudo systemctl start codedeploy-agent"],
        True,
    ),
    "appspec-missing": (
        "bundle.appspec",
        ["no appspec.yml at the root", "__MACOSX", "zipped instead of its contents"],
        ["Zip the contents of sbx-appspec-missing/", "without __MACOSX"],
        ["cd sbx-appspec-missing && zip -r"],
        False,
    ),
    "appspec-invalid": (
        "bundle.appspec",
        ["line 2", "ubuntu"],
        ["Fix appspec.yml line 2", "os must be linux or windows"],
        ["wizard validate"],
        False,
    ),
    "hook-misspelt": (
        "bundle.appspec",
        ["ApplicationStarts"],
        ["did you mean 'ApplicationStart'"],
        ["wizard validate"],
        False,
    ),
    "hook-script-missing": (
        "bundle.appspec",
        ["hook script missing", "scripts/run.sh", "the bundle has scripts/start.sh"],
        ["point ApplicationStart at scripts/start.sh"],
        ["wizard validate"],
        False,
    ),
    "hook-failed": (
        "hooks.failed",
        ["ApplicationStart scripts/start.sh failed with exit code 3", "port 8080 already in use"],
        ["Fix what scripts/start.sh reports (Error: port 8080 already in use)"],
        ["scripts.log"],
        False,
    ),
    "hook-timeout": (
        "hooks.failed",
        ["ValidateService scripts/validate.sh timed out"],
        ["Detach what scripts/validate.sh starts"],
        ["scripts.log"],
        False,
    ),
    "runas-missing": (
        "dest.writable",
        ["runas user deploy does not exist"],
        ["Create the user deploy"],
        ["useradd", "deploy"],
        False,
    ),
    "destination-not-writable": (
        "dest.writable",
        ["/var/www is root:root 755", "not writable by the agent user cdagent"],
        ["owned by the agent user cdagent"],
        ["install -d -o cdagent"],
        False,
    ),
    "file-exists": (
        "dest.file-exists",
        ["index.html already exists", "not put there by this deployment group", "DISALLOW"],
        ["Deploy once with --file-exists-behavior OVERWRITE"],
        ["wizard deploy --file-exists-behavior OVERWRITE"],
        False,
    ),
    "health-constraints-invalid": (
        "group.health",
        [
            "HalfAtATime must keep 1 of the 1 instance(s) healthy",
            "cannot take any instance offline",
        ],
        ["AllAtOnce for one instance"],
        ["--deployment-config-name CodeDeployDefault.AllAtOnce"],
        False,
    ),
}


def seed(sandbox_url: str, name: str) -> dict[str, Any]:
    from wizard.sandbox import scenarios

    return scenarios.seed(name, sandbox_url)


@pytest.fixture(scope="module")
def seeded(sandbox_url) -> dict[str, Any]:
    """Every failure world, built concurrently once for the module (the server is threaded)."""
    from concurrent.futures import ThreadPoolExecutor

    names = sorted(EXPECTED)
    with ThreadPoolExecutor(max_workers=6) as pool:
        worlds = list(pool.map(lambda n: seed(sandbox_url, n), names))
    return dict(zip(names, worlds, strict=True))


def diagnose_json(run_wizard, sandbox_url: str, *args: str) -> tuple[int, dict[str, Any], str]:
    env = clean_env(
        AWS_ACCESS_KEY_ID="sandbox", AWS_SECRET_ACCESS_KEY="sandbox", AWS_REGION="us-east-1"
    )
    proc = run_wizard("diagnose", "--json", "--endpoint-url", sandbox_url, *args, env=env)
    assert proc.stdout.strip(), proc.stderr
    doc = json.loads(proc.stdout)
    from checks.reporters.json import validate

    validate(doc)  # the published contract
    return proc.returncode, doc, proc.stderr


def test_every_failure_scenario_is_covered():
    from wizard.sandbox import scenarios

    names = {n for n, _ in scenarios.catalogue()} - {"healthy"}
    assert names <= set(EXPECTED), names - set(EXPECTED)


@pytest.mark.parametrize("scenario", sorted(EXPECTED))
def test_diagnose_names_the_root_cause_and_fix(scenario, seeded, sandbox_url, run_wizard):
    world = seeded[scenario]
    code, doc, stderr = diagnose_json(run_wizard, sandbox_url, world["deployment_id"])
    assert code == 1, stderr
    assert doc["schema_version"] == 1
    assert doc["deployment"]["id"] == world["deployment_id"]
    cause, summary_parts, fix_parts, command_parts, automatic = EXPECTED[scenario]
    assert doc["root_causes"], [(r["id"], r["status"], r["summary"]) for r in doc["results"]]
    assert doc["root_causes"][0] == cause, doc["root_causes"]
    result = next(r for r in doc["results"] if r["id"] == cause)
    assert result["status"] == "fail"
    for part in summary_parts:
        assert part in result["summary"], result["summary"]
    for part in fix_parts:  # the line people act on
        assert part in result["fix"]["summary"], result["fix"]["summary"]
    for part in command_parts:  # and its first copy-pasteable command
        assert part in result["fix"]["commands"][0], result["fix"]["commands"]
    assert result["fix"]["automatic"] is automatic
    # the outcome is the symptom: not a root cause, its fix speaks of the same action
    assert "deployment.status" not in doc["root_causes"]
    symptom = next(r for r in doc["results"] if r["id"] == "deployment.status")
    if symptom["status"] == "fail":
        assert symptom["fix"]["summary"].startswith(result["fix"]["summary"].rstrip(".")[:40])
        assert cause not in symptom["fix"]["summary"]
    assert not [r for r in doc["results"] if r["status"] == "error"], doc["results"]
    # no check claims to have seen what it could not: nothing passes that the failure contradicts
    assert next(r for r in doc["results"] if r["id"] == "deployment.status")["status"] in (
        "fail",
        "pass",
    )


def test_healthy_deployment_exits_zero_with_no_root_cause(sandbox_url, run_wizard):
    world = seed(sandbox_url, "healthy")
    code, doc, _stderr = diagnose_json(run_wizard, sandbox_url, world["deployment_id"])
    assert code == 0, [(r["id"], r["summary"]) for r in doc["results"] if r["status"] != "pass"]
    assert doc["deployment"]["status"] == "Succeeded"
    assert doc["root_causes"] == []
    statuses = {r["id"]: r["status"] for r in doc["results"]}
    assert statuses["agent.running"] == "pass"
    assert statuses["s3.bundle-readable"] == "pass"


def test_latest_deployment_of_a_group_by_name(sandbox_url, run_wizard):
    world = seed(sandbox_url, "hook-failed")
    code, doc, _ = diagnose_json(
        run_wizard,
        sandbox_url,
        "--application",
        world["application"],
        "--deployment-group",
        world["deployment_group"],
        "--check",
        "hooks.*",
    )
    assert code == 1
    assert doc["deployment"]["id"] == world["deployment_id"]
    assert [r["id"] for r in doc["results"]] == ["hooks.failed", "hooks.previous-revision"]


def test_fix_applies_the_scoped_read_policy_and_reruns(sandbox_url, run_wizard):
    world = seed(sandbox_url, "role-no-s3-read")
    code, doc, stderr = diagnose_json(
        run_wizard, sandbox_url, world["deployment_id"], "--fix", "--yes"
    )
    fixes = doc["fixes"]
    assert [f["action"] for f in fixes] == ["s3-read-policy"] and fixes[0]["ok"], stderr
    readable = next(r for r in doc["results"] if r["id"] == "s3.bundle-readable")
    # the policy now allows the read; the failed deployment stays failed until redeployed
    assert readable["status"] in ("pass", "warn"), readable
    assert "s3.bundle-readable" not in doc["root_causes"]
    assert code == 1


def test_fix_without_yes_and_without_a_terminal_exits_2(sandbox_url, run_wizard):
    world = seed(sandbox_url, "service-role-untrusted")
    env = clean_env(
        AWS_ACCESS_KEY_ID="sandbox", AWS_SECRET_ACCESS_KEY="sandbox", AWS_REGION="us-east-1"
    )
    proc = run_wizard(
        "diagnose",
        "--plain",
        "--fix",
        "--endpoint-url",
        sandbox_url,
        world["deployment_id"],
        env=env,
    )
    assert proc.returncode == 2
    assert "--yes" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_plain_output_reads_like_flutter_doctor(sandbox_url, run_wizard):
    world = seed(sandbox_url, "agent-stopped")
    env = clean_env(
        AWS_ACCESS_KEY_ID="sandbox", AWS_SECRET_ACCESS_KEY="sandbox", AWS_REGION="us-east-1"
    )
    proc = run_wizard(
        "diagnose", "--plain", "--endpoint-url", sandbox_url, world["deployment_id"], env=env
    )
    assert proc.returncode == 1, proc.stderr
    out = proc.stdout
    assert f"Diagnosis of {world['deployment_id']}" in out
    assert "[✓] Service role:" in out
    assert "[✗] CodeDeploy agent running: all 2 instances: agent installed but not running" in out
    assert "    → Start the CodeDeploy agent" in out
    assert "    → caused by: CodeDeploy agent running (below)" in out
    lines = out.splitlines()
    root = lines.index(
        "Root cause: CodeDeploy agent running (agent.running) — "
        "all 2 instances: agent installed but not running"
    )
    assert lines[root + 1].startswith("Fix: Start the CodeDeploy agent")
    assert lines[root + 2] == "  $ sudo systemctl start codedeploy-agent   # on the instance"
    assert "then:" not in out and "Fix the root cause" not in out
    assert lines[-1].startswith("✗ Deployment Failed: 1 problem")
    assert "\x1b[" not in out  # no colour when not a terminal
    assert out.rstrip().splitlines()[-1].startswith("✗ ")


def test_preflight_on_a_group_with_an_agentless_fleet(sandbox_url, run_wizard):
    world = seed(sandbox_url, "agent-absent")
    code, doc, _ = diagnose_json(
        run_wizard,
        sandbox_url,
        "--preflight",
        "--application",
        world["application"],
        "--deployment-group",
        world["deployment_group"],
    )
    assert doc["deployment"] is None and doc["preflight"] is True
    assert code == 1
    assert doc["root_causes"][0] == "agent.running"


def test_unknown_deployment_is_a_usage_error(sandbox_url, run_wizard):
    env = clean_env(
        AWS_ACCESS_KEY_ID="sandbox", AWS_SECRET_ACCESS_KEY="sandbox", AWS_REGION="us-east-1"
    )
    proc = run_wizard("diagnose", "--endpoint-url", sandbox_url, "d-AAAAAAAAA", env=env)
    assert proc.returncode == 2
    assert "d-AAAAAAAAA" in proc.stderr and "Traceback" not in proc.stderr


def test_sandbox_scenario_flag_diagnoses_the_seeded_deployment(run_wizard):
    proc = run_wizard("--sandbox", "--scenario", "object-missing", "diagnose", "--json")
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["sandbox"] is True
    assert doc["root_causes"][0] == "s3.bundle-exists"


def test_no_id_means_the_latest_deployment_of_the_project_group(sandbox_url, run_wizard, tmp_path):
    world = seed(sandbox_url, "hook-timeout")
    assert world["deployment_group"] == f"{world['application']}-group"  # the project default
    (tmp_path / ".codedeploy-wizard.yml").write_text(
        f"application: {world['application']}\nregion: us-east-1\n"
    )
    code, doc, stderr = diagnose_json(run_wizard, sandbox_url, "--project-dir", str(tmp_path))
    assert code == 1, stderr
    assert doc["deployment"]["id"] == world["deployment_id"]
    assert doc["root_causes"][0] == "hooks.failed"


def test_fix_starts_the_agent_through_ssm_and_the_screen_tells_the_truth(sandbox_url, run_wizard):
    """Issue 11.5 (CLI): after --fix the checks run again, the root cause is ranked again, and
    nothing says 'Fix the root cause, agent.running' while agent.running passes."""
    world = seed(sandbox_url, "agent-stopped")
    code, doc, stderr = diagnose_json(
        run_wizard, sandbox_url, world["deployment_id"], "--fix", "--yes"
    )
    assert [f["action"] for f in doc["fixes"]] == ["start-agent"], stderr
    assert doc["fixes"][0]["ok"], doc["fixes"]
    agent = next(r for r in doc["results"] if r["id"] == "agent.running")
    assert agent["status"] == "pass", agent
    assert "re-ran after fixes: agent.running" in doc["notes"][-1]
    assert doc["root_causes"] == []
    assert doc["applied"] and "start the CodeDeploy agent" in doc["applied"][0]
    symptom = next(r for r in doc["results"] if r["id"] == "deployment.status")
    assert symptom["status"] == "warn" and symptom["summary"].startswith("before the fixes:")
    assert symptom["fix"]["summary"].startswith("Deploy again")
    assert "agent.running" not in symptom["summary"] + json.dumps(symptom["fix"])
    # the deployment itself stays failed until the next deploy
    assert code == 1 and doc["deployment"]["status"] == "Failed"
    # and in words, on the plain report
    env = clean_env(
        AWS_ACCESS_KEY_ID="sandbox", AWS_SECRET_ACCESS_KEY="sandbox", AWS_REGION="us-east-1"
    )
    proc = run_wizard(
        "diagnose", "--plain", "--endpoint-url", sandbox_url, world["deployment_id"], env=env
    )
    assert "[✓] CodeDeploy agent running" in proc.stdout
    assert "Root cause" not in proc.stdout  # the deployment predates the fix: nothing fails now


def test_plain_fix_output_ends_with_the_next_step_not_a_stale_cause(sandbox_url, run_wizard):
    world = seed(sandbox_url, "agent-stopped")
    env = clean_env(
        AWS_ACCESS_KEY_ID="sandbox", AWS_SECRET_ACCESS_KEY="sandbox", AWS_REGION="us-east-1"
    )
    proc = run_wizard(
        "diagnose",
        "--plain",
        "--fix",
        "--yes",
        "--endpoint-url",
        sandbox_url,
        world["deployment_id"],
        env=env,
    )
    out = proc.stdout
    assert "Running the affected checks again" in out, proc.stderr
    report = out.split("Running the affected checks again…", 1)[1]
    assert "[✓] CodeDeploy agent running" in report
    assert "Root cause" not in report and "Fix the root cause" not in report
    assert "[!] Deployment outcome: before the fixes:" in report
    lines = report.rstrip().splitlines()
    assert lines[-3].startswith("Fixed: start the CodeDeploy agent on 2 instance(s)")
    assert lines[-2] == "Next: deploy again to see the fixes work: wizard deploy"
    assert proc.returncode == 1  # the deployment looked at still failed


def test_fix_reranks_to_the_next_cause(sandbox_url, run_wizard):
    """A fix that clears the first cause uncovers the next one, which becomes the root cause:
    no profile (fixed by creating the least-privilege one), then a bucket policy that denies
    exactly that role (found only once the profile exists)."""
    from wizard.sandbox import scenarios
    from wizard.sandbox.world import World

    w = World(sandbox_url, name="rerank-next")
    role = f"arn:aws:iam::{w.account}:role/{w.name}-codedeploy-ec2"

    def deny(bucket: str, _role: str) -> dict[str, Any]:
        return {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Deny",
                    "Principal": {"AWS": role},
                    "Action": "s3:GetObject",
                    "Resource": f"arn:aws:s3:::{bucket}/*",
                }
            ],
        }

    seeded = scenarios.build(w, profile=False, bucket_policy=deny)
    _, doc, _ = diagnose_json(run_wizard, sandbox_url, seeded["deployment_id"])
    assert doc["root_causes"][0] == "iam.instance-profile", doc["root_causes"]
    prof = next(r for r in doc["results"] if r["id"] == "iam.instance-profile")
    assert prof["fix"]["summary"].startswith("No existing profile fits: create"), prof["fix"]
    _, doc, stderr = diagnose_json(
        run_wizard, sandbox_url, seeded["deployment_id"], "--fix", "--yes"
    )
    assert [f["action"] for f in doc["fixes"]] == ["create-profile"], stderr
    assert doc["fixes"][0]["ok"], doc["fixes"]
    statuses = {r["id"]: r["status"] for r in doc["results"]}
    assert statuses["iam.instance-profile"] == "pass"
    # skipped before (its prerequisite failed), run again after the fix, and now the cause
    assert statuses["s3.bundle-readable"] == "fail"
    assert doc["root_causes"][0] == "s3.bundle-readable", doc["root_causes"]
    symptom = next(r for r in doc["results"] if r["id"] == "deployment.status")
    assert symptom["fix"]["summary"].startswith("Remove or narrow the Deny statement")
