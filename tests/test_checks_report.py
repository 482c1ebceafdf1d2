"""Reporters, interpretation and fixes without AWS: what a user reads and what --fix would do."""

from __future__ import annotations

import json

import pytest

from checks import interpret
from checks.fixes import affected_checks, plan_fixes
from checks.model import Fix, Result, Status
from checks.reporters import text
from checks.runner import Report, _rank, finalize


def res(cid: str, status: Status, summary: str, fix: Fix | None = None, **kw) -> Result:
    r = Result(status, summary, fix=fix, **kw)
    r.id, r.title = cid, cid.split(".")[1].replace("-", " ").title()
    return r


def sample_report() -> Report:
    auto = Fix(
        "Attach the instance profile app-ec2.",
        [
            "aws ec2 associate-iam-instance-profile --instance-id i-1 --iam-instance-profile Name=app-ec2"  # noqa: E501
        ],
        automatic=True,
        action="associate-profile",
        params={"profile": "app-ec2", "instances": ["i-1", "i-2"]},
    )
    results = [
        res(
            "deployment.status", Status.FAIL, "Failed (HEALTH_CONSTRAINTS): 2 of 3 instances failed"
        ),
        res(
            "group.instances-matched",
            Status.PASS,
            "3 running instance(s) match Name=app",
            evidence={"filters": "Name=app"},
        ),
        res(
            "iam.instance-profile",
            Status.FAIL,
            "2 of 3 instances: no instance profile",
            auto,
            instances=["i-1", "i-2"],
            evidence={"problems": {"no instance profile": ["i-1", "i-2"]}},
        ),
        res("s3.bundle-readable", Status.SKIP, "skipped: iam.instance-profile failed"),
        res(
            "agent.running",
            Status.WARN,
            "could not look inside 2 of 3 instances",
            Fix("Look by hand.", ["aws ssm send-command ..."]),
        ),
    ]
    finalize(results, ["iam.instance-profile"])
    return Report(
        results=results,
        deployment={
            "id": "d-ABCDEFGH1",
            "status": "Failed",
            "error_code": "HEALTH_CONSTRAINTS",
            "error_message": "too many",
            "instances": {"Succeeded": 1, "Failed": 2},
        },
        root_causes=["iam.instance-profile"],
        application="app",
        deployment_group="app-group",
        region="us-east-1",
        seconds=1.25,
    )


def test_plain_text_reads_like_flutter_doctor():
    out = text.render(sample_report())
    lines = out.splitlines()
    assert (
        lines[0]
        == "Diagnosis of d-ABCDEFGH1 (app / app-group, us-east-1): Failed (HEALTH_CONSTRAINTS)"
    )
    assert "  instances: 1 Succeeded, 2 Failed" in lines
    assert "[✓] Instances Matched: 3 running instance(s) match Name=app" in lines
    i = lines.index("[✗] Instance Profile: 2 of 3 instances: no instance profile")
    assert lines[i + 1].startswith("    → Attach the instance profile app-ec2.")
    assert "(automatic: wizard diagnose --fix)" in lines[i + 1]
    assert lines[i + 2].startswith("      $ aws ec2 associate-iam-instance-profile")
    assert "[-] Bundle Readable: skipped: iam.instance-profile failed" in lines
    assert "[!] Running: could not look inside 2 of 3 instances" in lines
    # the outcome points at its cause in words, and is not counted as a second problem
    d = lines.index("[✗] Status: Failed (HEALTH_CONSTRAINTS): 2 of 3 instances failed")
    assert lines[d + 1] == "    → caused by: Instance Profile (below)"
    root = (
        "Root cause: Instance Profile (iam.instance-profile) — "
        "2 of 3 instances: no instance profile"
    )
    fix = lines[lines.index(root) + 1]
    assert fix == "Fix: Attach the instance profile app-ec2. (automatic: wizard diagnose --fix)"
    assert "iam.instance-profile" not in out.split("Root cause")[1].split("\n", 1)[1]
    assert "then:" not in out
    assert lines[-1] == (
        "✗ Deployment Failed: 1 problem, 1 warning (5 checks in 1.2 s). "
        "1 automatic fix: wizard diagnose --fix"
    )
    assert "\x1b[" not in out
    assert "evidence" not in out and "i-2" not in out.split("Root cause")[0].split("$")[0]


def test_verbose_adds_evidence_and_instances_and_colour_only_when_asked():
    out = text.render(sample_report(), verbose=True, color=True)
    assert "    instances: i-1, i-2" in out
    assert "    · filters: Name=app" in out
    assert "\x1b[31m[✗]\x1b[0m" in out


def test_json_document_shape():
    import jsonschema

    from checks.reporters.json import SCHEMA, validate

    doc = sample_report().to_json()
    json.dumps(doc)
    validate(doc)
    broken = json.loads(json.dumps(doc))
    broken["results"][0]["status"] = "FAIL"
    with pytest.raises(jsonschema.ValidationError):
        validate(broken)
    assert SCHEMA["properties"]["schema_version"] == {"const": 1}
    assert doc["schema_version"] == 1
    assert set(doc["deployment"]) >= {"id", "status", "error_code", "error_message", "instances"}
    for r in doc["results"]:
        assert set(r) >= {"id", "status", "summary", "evidence", "instances", "fix"}
        assert r["status"] in ("pass", "info", "warn", "skip", "fail", "error")
    prof = next(r for r in doc["results"] if r["id"] == "iam.instance-profile")
    assert prof["fix"] == {
        "summary": "Attach the instance profile app-ec2.",
        "commands": [
            "aws ec2 associate-iam-instance-profile --instance-id i-1 --iam-instance-profile Name=app-ec2"  # noqa: E501
        ],
        "automatic": True,
    }
    assert doc["root_causes"] == ["iam.instance-profile"]
    status = next(r for r in doc["results"] if r["id"] == "deployment.status")
    assert status["evidence"]["explained_by"] == "iam.instance-profile"
    assert status["fix"]["summary"] == "Attach the instance profile app-ec2, then deploy again."
    assert status["fix"]["automatic"] is False


def test_exit_codes():
    rep = sample_report()
    assert rep.exit_code == 1
    ok = Report(
        results=[res("group.health", Status.PASS, "fine")],
        deployment={"id": "d-X", "status": "Succeeded"},
        root_causes=[],
    )
    assert ok.exit_code == 0
    warn_only = Report(
        results=[res("agent.running", Status.WARN, "could not see")],
        deployment=None,
        root_causes=[],
    )
    assert warn_only.exit_code == 0
    broke = Report(
        results=[res("agent.running", Status.ERROR, "the check broke")],
        deployment={"id": "d-X", "status": "Succeeded"},
        root_causes=[],
    )
    assert broke.exit_code == 1


@pytest.mark.parametrize(
    ("message", "code", "log", "cause"),
    [
        (
            "CodeDeploy agent was not able to receive the lifecycle event.",
            "UnknownError",
            "",
            "agent-not-receiving",
        ),
        (
            "Missing credentials - please check if this instance was started with an IAM instance profile",  # noqa: E501
            "UnknownError",
            "",
            "no-credentials",
        ),
        ("Access Denied", "UnknownError", "", "s3-denied"),
        ("The specified key does not exist.", "UnknownError", "", "bundle-missing"),
        (
            "The bucket you are attempting to access must be addressed using the specified endpoint.",  # noqa: E501
            "UnknownError",
            "",
            "bucket-region",
        ),
        (
            'did not find an AppSpec file within the unpacked revision directory at revision-relative path "appspec.yml". The AppSpec file was expected but not found',  # noqa: E501
            "UnknownError",
            "",
            "appspec",
        ),
        (
            "The deployment failed because a specified file already exists at this location: /var/www/x",  # noqa: E501
            "UnknownError",
            "",
            "file-exists",
        ),
        # the clash is often the appspec itself (source: /): still a clash, not an appspec problem
        (
            "The deployment failed because a specified file already exists at this location: /var/www/app/appspec.yml",  # noqa: E501
            "UnknownError",
            "[appspec] AppSpec file parsed",
            "file-exists",
        ),
        # two appspec entries that collide is the appspec's fault (install_instruction.rb)
        (
            "The deployment failed because the application specification file calls for installing the file app, but a file with that name already exists at the location (/srv/app). Update your AppSpec file or directory structure, and then try again.",  # noqa: E501
            "UnknownError",
            "",
            "appspec",
        ),
        (
            "(<unknown>): did not find expected key while parsing a block mapping at line 3 column 1",  # noqa: E501
            "UnknownError",
            "",
            "appspec",
        ),
        ("Permission denied @ dir_s_mkdir - /var/www/app", "UnknownError", "", "dest-permission"),
        (
            "Script at specified location: start.sh run as user deploy failed with exit code 1",
            "ScriptFailed",
            "[stderr]su: user deploy does not exist",
            "runas",
        ),
        (
            "Script at specified location: start.sh failed with exit code 3",
            "ScriptFailed",
            "[stderr]Access Denied to port",
            "script-failed",
        ),
        (
            "Script does not exist at specified location: scripts/run.sh",
            "ScriptMissing",
            "",
            "script-missing",
        ),
        (
            "Script at specified location: v.sh failed to complete in 30 seconds",
            "ScriptTimedOut",
            "",
            "script-timeout",
        ),
        (
            "Expected deployment artifact bundle etag abc but was actually def",
            "UnknownError",
            "",
            "etag",
        ),
        ("Error extracting zip archive", "UnknownError", "", "bad-archive"),
        ("something nobody has seen", "UnknownError", "", "unknown"),
    ],
)
def test_lifecycle_messages_map_to_causes(message, code, log, cause):
    assert interpret.classify(message, code, log).key == cause


def test_ranking_prefers_the_code_then_the_most_instances_then_upstream():
    a = res("iam.instance-profile", Status.FAIL, "x")
    b = res("agent.running", Status.FAIL, "y")
    c = res("deployment.status", Status.FAIL, "z")
    cause = interpret.Cause("agent-not-receiving", "l", ("iam.instance-profile", "agent.running"))
    failures = [
        interpret.Failure(
            f"i-{n}", "ApplicationStop", "UnknownError", None, "", "", "Failed", cause
        )
        for n in range(3)
    ]
    # the outcome is the symptom: explained by the causes, it is not ranked among them
    assert _rank([c, b, a], "HEALTH_CONSTRAINTS", failures) == [
        "iam.instance-profile",
        "agent.running",
    ]
    # nothing explains it: the outcome itself is the root cause (a stop, a throttle)
    assert _rank([c], "MANUAL_STOP", []) == ["deployment.status"]
    assert _rank([c, b], "MANUAL_STOP", [])[0] == "deployment.status"
    # AGENT_ISSUE names agent.running first
    assert _rank([c, b, a], "AGENT_ISSUE", [])[0] == "agent.running"


def test_grouping_phrases():
    assert interpret.count_phrase(37, 40) == "37 of 40 instances"
    assert interpret.count_phrase(3, 3) == "all 3 instances"
    assert interpret.count_phrase(1, 1) == "1 instance"
    assert interpret.id_list([f"i-{n}" for n in range(8)], 3) == "i-0, i-1, i-2, … (+5)"


def test_fix_plan_is_deduplicated_and_names_affected_checks():
    rep = sample_report()
    plan = plan_fixes(rep)
    assert [f.action for f in plan] == ["associate-profile"]
    assert (
        plan[0].description
        == "associate instance profile app-ec2 with 2 instance(s) that have none"
    )
    assert affected_checks(plan) == ["iam.instance-profile", "s3.bundle-readable", "agent.running"]
    rep.results.append(rep.results[2])
    assert len(plan_fixes(rep)) == 1


def test_deployment_create_time_is_iso_8601_in_json():
    import datetime as dt

    from checks.runner import _deployment_doc

    when = dt.datetime(2026, 11, 26, 5, 53, 40, 657000, tzinfo=dt.timezone.utc)
    doc = _deployment_doc({"deploymentId": "d-ABCDEFGHI", "status": "Failed", "createTime": when})
    assert doc["create_time"] == "2026-11-26T05:53:40.657000+00:00"
    assert dt.datetime.fromisoformat(doc["create_time"]) == when
    assert _deployment_doc({"deploymentId": "d-ABCDEFGHI"})["create_time"] is None
