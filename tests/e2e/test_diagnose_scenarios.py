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

# scenario -> (first root cause, fragments of its summary, fragments of its fix, fix automatic)
EXPECTED: dict[str, tuple[str, list[str], list[str], bool]] = {
    "no-instances": (
        "group.instances-matched",
        ["no instance in us-east-1 matches", "near miss"],
        ["update-deployment-group", "--ec2-tag-filters"],
        False,
    ),
    "service-role-untrusted": (
        "iam.service-role",
        ["not trusted by codedeploy.amazonaws.com"],
        ["update-assume-role-policy"],
        True,
    ),
    "no-instance-profile": (
        "iam.instance-profile",
        ["all 2 instances: no instance profile"],
        ["associate-iam-instance-profile"],
        False,
    ),
    "profile-role-untrusted": (
        "iam.instance-profile",
        ["does not trust ec2.amazonaws.com"],
        ["update-assume-role-policy"],
        False,
    ),
    "role-no-s3-read": (
        "s3.bundle-readable",
        ["may not s3:GetObject"],
        ["put-role-policy", "s3:GetObject"],
        True,
    ),
    "bucket-policy-deny": (
        "s3.bundle-readable",
        ["explicit Deny in the bucket policy"],
        ["get-bucket-policy"],
        False,
    ),
    "bucket-other-region": ("s3.bundle-region", ["is in eu-west-1"], ["s3 mb"], False),
    "object-missing": ("s3.bundle-exists", ["does not exist"], ["wizard deploy"], False),
    "agent-absent": (
        "agent.running",
        ["agent not installed"],
        ["AWS-ConfigureAWSPackage"],
        True,
    ),
    "agent-stopped": (
        "agent.running",
        ["agent installed but not running"],
        ["AWS-ConfigureAWSPackage"],
        True,
    ),
    "appspec-missing": (
        "bundle.appspec",
        ["no appspec.yml at the root", "zip the folder's contents"],
        ["zip -r"],
        False,
    ),
    "appspec-invalid": ("bundle.appspec", ["ubuntu"], ["wizard validate"], False),
    "hook-misspelt": ("bundle.appspec", ["ApplicationStarts"], ["wizard validate"], False),
    "hook-script-missing": (
        "bundle.appspec",
        ["hook script missing", "scripts/run.sh"],
        ["wizard validate"],
        False,
    ),
    "hook-failed": (
        "hooks.failed",
        ["ApplicationStart scripts/start.sh failed with exit code 3", "port 8080 already in use"],
        ["scripts.log"],
        False,
    ),
    "hook-timeout": (
        "hooks.failed",
        ["ValidateService scripts/validate.sh timed out"],
        ["scripts.log"],
        False,
    ),
    "runas-missing": (
        "dest.writable",
        ["runas user deploy does not exist"],
        ["useradd", "deploy"],
        False,
    ),
    "destination-not-writable": (
        "dest.writable",
        ["/var/www is root:root 755", "not writable by the agent user cdagent"],
        ["install -d -o cdagent"],
        False,
    ),
    "file-exists": (
        "dest.file-exists",
        ["already exists at /var/www/", "DISALLOW"],
        ["--file-exists-behavior OVERWRITE"],
        False,
    ),
    "health-constraints-invalid": (
        "group.health",
        ["HalfAtATime", "fleet has 1"],
        ["CodeDeployDefault.AllAtOnce"],
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
    cause, summary_parts, fix_parts, automatic = EXPECTED[scenario]
    assert doc["root_causes"], [(r["id"], r["status"], r["summary"]) for r in doc["results"]]
    assert doc["root_causes"][0] == cause, doc["root_causes"]
    result = next(r for r in doc["results"] if r["id"] == cause)
    assert result["status"] == "fail"
    for part in summary_parts:
        assert part in result["summary"], result["summary"]
    fix_text = result["fix"]["summary"] + "\n" + "\n".join(result["fix"]["commands"])
    for part in fix_parts:
        assert part in fix_text, fix_text
    assert result["fix"]["automatic"] is automatic
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
    assert [r["id"] for r in doc["results"]] == ["hooks.failed"]


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
    assert "    → Install and start the CodeDeploy agent" in out
    assert "Root cause: agent.running" in out
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


def test_fix_installs_the_agent_through_ssm_and_the_check_passes(sandbox_url, run_wizard):
    world = seed(sandbox_url, "agent-stopped")
    code, doc, stderr = diagnose_json(
        run_wizard, sandbox_url, world["deployment_id"], "--fix", "--yes"
    )
    assert [f["action"] for f in doc["fixes"]] == ["install-agent"], stderr
    assert doc["fixes"][0]["ok"], doc["fixes"]
    agent = next(r for r in doc["results"] if r["id"] == "agent.running")
    assert agent["status"] == "pass", agent
    assert "re-ran after fixes: agent.running" in doc["notes"][-1]
    # the deployment itself stays failed until the next deploy
    assert code == 1 and doc["deployment"]["status"] == "Failed"
