"""Issue 13: each kind of failure people hit, built in the sandbox through AWS calls, diagnosed
over the wire: the first root cause and the words of its fix (tests/e2e/diagnose_worlds.py).

Where the fix is an action the sandbox can take, the test takes it and checks that it works: the
deployment that ignores the broken stop script succeeds, the key the fix names deploys, the
profile --fix attaches makes the check pass.
"""

from __future__ import annotations

from typing import Any

import pytest

from checks.runner import diagnose
from tests.e2e import diagnose_worlds as dw

pytestmark = pytest.mark.e2e


class _Worlds:
    """Each world built once per test process, on first use (an xdist worker builds only the
    worlds of the tests it runs)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.cache: dict[str, Any] = {}

    def __getitem__(self, name: str) -> tuple[Any, dw.Built]:
        from wizard.sandbox.world import World

        if name not in self.cache:
            w = World(self.url, name=f"k13-{name}"[:28].rstrip("-"))
            self.cache[name] = (w, dw.WORLDS[name][0](w))
        return self.cache[name]


@pytest.fixture(scope="module")
def built(sandbox_url) -> _Worlds:
    return _Worlds(sandbox_url)


def _diagnose(sandbox_ctx, deployment_id: str):
    report = diagnose(sandbox_ctx, deployment_id=deployment_id)
    return report, dw.as_json(report)


@pytest.mark.parametrize("name", sorted(dw.WORLDS))
def test_first_root_cause_and_the_words_of_its_fix(name, built, sandbox_ctx):
    with dw.world_clock(name):
        _w, b = built[name]
        report, doc = _diagnose(sandbox_ctx, b.deployment_id)
    expect = dw.WORLDS[name][1](b)
    root_ok, fix_ok, said = dw.check(doc, expect)
    assert root_ok, said
    assert fix_ok, said
    assert not [r for r in doc["results"] if r["status"] == "error"], doc["results"]
    # every fix line speaks of actions, not of check ids
    root = report.root_cause
    assert root is not None and root.fix is not None
    assert not any(c.id in root.fix.summary for c in _catalogue()), root.fix.summary
    symptom = report.result("deployment.status")
    assert symptom is not None and symptom.id not in (symptom.fix.summary if symptom.fix else "")
    if expect.root != "deployment.status":
        assert "deployment.status" not in report.root_causes


def _catalogue():
    from checks import registry

    return registry.all_checks()


def test_the_previous_revision_is_named_and_ignoring_it_once_gets_past(built, sandbox_ctx):
    w, b = built["previous-stop-typo"]
    report, _ = _diagnose(sandbox_ctx, b.deployment_id)
    res = report.result("hooks.previous-revision")
    assert res.evidence["previous_deployment"] == b.facts["previous"]
    assert res.evidence["previous_hooks"] == ["scripts/cdap_stop.sh"]
    # the current bundle is fine: nothing blames it
    assert report.result("bundle.appspec").status.value == "pass"
    # the fix, as CreateDeployment's flag (what `wizard deploy --ignore-application-stop-failures`
    # sends): this deployment gets past the old script, and the next one runs the fixed script
    cd = w.client("codedeploy")
    info = cd.get_deployment(deploymentId=b.deployment_id)["deploymentInfo"]
    again = cd.create_deployment(
        applicationName=info["applicationName"],
        deploymentGroupName=info["deploymentGroupName"],
        revision=info["revision"],
        ignoreApplicationStopFailures=True,
    )["deploymentId"]
    assert w.wait(again)["status"] == "Succeeded"
    after = cd.create_deployment(
        applicationName=info["applicationName"],
        deploymentGroupName=info["deploymentGroupName"],
        revision=info["revision"],
    )["deploymentId"]
    assert w.wait(after)["status"] == "Succeeded"


def test_file_exists_is_not_called_an_appspec_problem(built, sandbox_ctx):
    _w, b = built["file-exists-appspec-path"]
    report, _ = _diagnose(sandbox_ctx, b.deployment_id)
    symptom = report.result("deployment.status")
    assert "AppSpec" not in symptom.summary, symptom.summary
    assert "not put there by this deployment group" in symptom.summary
    assert report.result("bundle.appspec").status.value == "pass"


def test_crlf_is_confirmed_from_the_bundles_bytes(built, sandbox_ctx):
    _w, b = built["hook-crlf"]
    report, _ = _diagnose(sandbox_ctx, b.deployment_id)
    res = report.result("hooks.failed")
    row = res.evidence["failures"][0]
    assert row["bundle_bytes"]["crlf_lines"] == 3
    assert row["confirmed"].startswith("scripts/start.sh in the bundle has Windows line endings")


def test_the_key_the_fix_names_deploys(built, sandbox_ctx):
    w, b = built["key-mismatch"]
    report, _ = _diagnose(sandbox_ctx, b.deployment_id)
    assert report.result("s3.bundle-exists").evidence["closest_keys"] == [
        "releases/springboot2-webservice.zip"
    ]
    cd = w.client("codedeploy")
    info = cd.get_deployment(deploymentId=b.deployment_id)["deploymentInfo"]
    loc = dict(info["revision"]["s3Location"], key="releases/springboot2-webservice.zip")
    dep = cd.create_deployment(
        applicationName=info["applicationName"],
        deploymentGroupName=info["deploymentGroupName"],
        revision={"revisionType": "S3", "s3Location": loc},
    )["deploymentId"]
    assert w.wait(dep)["status"] == "Succeeded"


def test_fix_attaches_the_profile_that_fits(built, sandbox_ctx):
    from checks import fixes

    _w, b = built["profile-not-attached"]
    report, _ = _diagnose(sandbox_ctx, b.deployment_id)
    plan = fixes.plan_fixes(report)
    assert [(f.action, f.params["profile"]) for f in plan] == [
        ("associate-profile", b.facts["profile"])
    ]
    outcomes = fixes.apply_fixes(sandbox_ctx, plan)
    assert all(o.ok for o in outcomes), outcomes
    after = fixes.rerun(sandbox_ctx, report, plan, outcomes=outcomes)
    assert after.result("iam.instance-profile").status.value == "pass"
    assert "iam.instance-profile" not in after.root_causes


def test_a_stuck_deployment_names_the_event_and_instances_it_waits_on(built, sandbox_ctx):
    with dw.world_clock("stuck-agent-stopped"):
        _w, b = built["stuck-agent-stopped"]
        report, _ = _diagnose(sandbox_ctx, b.deployment_id)
    symptom = report.result("deployment.status")
    assert symptom.status.value == "info"  # minutes have not passed: not called stuck yet
    assert (
        "is InProgress" in symptom.summary
        and "all 2 instances at ApplicationStop" in symptom.summary
    )
    assert symptom.evidence["waiting"][0]["instances"] == sorted(b.facts["instance_ids"])
    # nothing that only reads failed events claims a pass
    for cid in ("hooks.failed", "agent.clock", "agent.restart"):
        assert report.result(cid).status.value == "info", report.result(cid)


def test_checks_with_no_instance_to_look_at_say_so(built, sandbox_ctx):
    """NO_INSTANCES: nothing that looks at instances or their lifecycle may claim a ✓."""
    _w, b = built["no-instances-none-launched"]
    report, _ = _diagnose(sandbox_ctx, b.deployment_id)
    scoped = [
        r
        for r in report.results
        if r.id.split(".")[0] in ("agent", "dest", "hooks")
        or r.id in ("iam.instance-profile", "group.health", "s3.bundle-readable")
    ]
    assert len(scoped) >= 10
    for r in scoped:
        assert r.status.value in ("skip", "info"), (r.id, r.status, r.summary)
        assert (
            r.status.value == "info"
            or "nothing to look at" in r.summary
            or (r.summary.startswith("skipped:"))
        ), (r.id, r.summary)


def test_world_names_stay_apart_when_cut_to_a_world_name():
    # World names are cut to 28 characters (IAM and S3 names derive from them): two worlds that
    # cut to the same name would share roles and buckets and fail on EntityAlreadyExists
    for prefix in ("k13-", "bench-"):
        names = [f"{prefix}{name}"[:28].rstrip("-") for name in dw.WORLDS]
        assert len(set(names)) == len(names), prefix


def test_a_detached_server_does_not_hang_and_nothing_is_blamed(sandbox_url, sandbox_ctx):
    """The control of the pipe worlds: `node server.js > /dev/null 2>&1 < /dev/null &`."""
    from wizard.sandbox.world import World

    b = dw.hook_detached(World(sandbox_url, name="k13-hook-detached"))
    report, doc = _diagnose(sandbox_ctx, b.deployment_id)
    assert report.result("deployment.status").status == "pass", doc["results"]
    assert not doc.get("root_causes"), doc["root_causes"]
