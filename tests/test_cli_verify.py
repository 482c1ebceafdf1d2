"""`wizard apply` after the changes: the checks decide the exit code, a new instance's agent is
waited for (bounded, `--no-wait` to skip), and Ctrl-C prints what a failure prints. In-process on
moto with the sandbox's additions (SSM, the booting fleet), the clock injected."""

from __future__ import annotations

import argparse
import io
from typing import Any

import pytest

from tests.steps_support import make_project, moto_account
from wizard import cli
from wizard.commands import _verify
from wizard.sandbox import clock, extensions
from wizard.sandbox.fleet import instance as fleet_instance


class Boot:
    """The simulated instances' age, moved by hand: the fleet boots as the test says."""

    def __init__(self) -> None:
        self.age = 0.0

    def sleep(self, seconds: float) -> None:
        self.age += seconds


@pytest.fixture
def boot(monkeypatch: pytest.MonkeyPatch) -> Boot:
    b = Boot()
    monkeypatch.setattr(fleet_instance, "uptime", lambda instance: b.age)
    return b


@pytest.fixture
def aws(aws_credentials, monkeypatch: pytest.MonkeyPatch, boot: Boot):
    slow_boot = clock.Clock(
        start_delay=0.03, event=0.01, slow_event=0.05, boot=20, agent_install=90
    )
    monkeypatch.setattr(clock, "CLOCK", slow_boot)
    extensions.install()
    yield from moto_account()


def _apply_roles_and_launch(ctx: Any, project: Any) -> None:
    from wizard.steps import engine

    plan = engine.build_plan(ctx, project, sleep=lambda s: None)
    result = engine.apply_plan(ctx, project, plan, sleep=lambda s: None)
    assert result.ok, result.error


def _report(ctx, project):
    from checks.runner import diagnose

    return diagnose(
        ctx,
        application=project.application,
        deployment_group=project.deployment_group,
        check_ids=["group.instances-matched", "iam.instance-profile", "agent.running"],
        preflight=True,
    )


def test_an_agent_still_installing_is_waited_for_then_passes(aws, boot):
    project = make_project("vw", instances={"launch": 2})
    _apply_roles_and_launch(aws, project)
    report = _report(aws, project)
    young = _verify.young_instances(aws, project)
    assert len(young) == 2 and all(age < 60 for age in young.values())
    pending = _verify.settling(report, young, ssm=True)
    assert [r.id for r in pending] == ["agent.running"]  # not a verdict yet: it is booting
    lines: list[str] = []

    class Out:
        def write(self, text: str) -> None:
            lines.append(text)

        def flush(self) -> None:
            pass

    slept: list[float] = []
    now = [0.0]

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        boot.sleep(seconds)
        now[0] += seconds

    ok = _verify.wait_until_settled(
        aws,
        project,
        "us-east-1",
        pending,
        young,
        timeout=600,
        run_checks=lambda ids: _report(aws, project),
        sleep=sleep,
        monotonic=lambda: now[0],
        stream=Out(),
    )
    assert ok
    text = "".join(lines)
    assert "waiting for the CodeDeploy agent on 2 new instances (0/2 online in SSM)" in text
    assert "(booted, agent not running yet)" in text  # SSM first, then the agent
    assert "--no-wait skips this" in text
    assert "[✓] the CodeDeploy agent runs on 2 new instances" in text
    assert slept and slept == sorted(slept) and slept[-1] == 15.0  # backs off to 15 s
    assert 90 <= now[0] <= 90 + 15  # done within one poll of the agent coming up
    assert _verify.settling(_report(aws, project), young, ssm=True) == []


def test_the_wait_is_bounded_and_a_blind_result_then_fails(aws):
    project = make_project("vt", instances={"launch": 1})
    _apply_roles_and_launch(aws, project)
    report = _report(aws, project)
    young = _verify.young_instances(aws, project)
    pending = _verify.settling(report, young, ssm=True)
    assert pending
    now = [0.0]

    def fake_sleep(seconds: float) -> None:
        now[0] += seconds

    class Null:
        def write(self, text: str) -> None:
            pass

        def flush(self) -> None:
            pass

    ok = _verify.wait_until_settled(
        aws,
        project,
        "us-east-1",
        pending,
        young,
        timeout=30,
        run_checks=lambda ids: report,  # the agent never comes up
        sleep=fake_sleep,
        monotonic=lambda: now[0],
        stream=Null(),
    )
    assert not ok and now[0] <= 30
    _verify.timed_out(pending, 30)
    assert all(r.status.problem for r in pending)
    assert all(
        r.summary.startswith("after waiting 0:30") for r in pending if "could not" in r.summary
    )


def test_only_the_wizards_recent_instances_are_waited_for(aws):
    """An adopted instance without an agent will not grow one: that is a failure at once."""
    from checks.model import Result, Status

    report = argparse.Namespace(
        results=[
            Result(Status.FAIL, "agent not installed", instances=["i-old"], id="agent.running"),
            Result(Status.FAIL, "no profile", instances=["i-new"], id="iam.instance-profile"),
        ]
    )
    young = {"i-new": 5.0}
    assert _verify.settling(report, young, ssm=True) == []  # i-old is not young; profile ≠ time
    report.results[0].instances = ["i-new"]
    assert [r.id for r in _verify.settling(report, young, ssm=True)] == ["agent.running"]
    assert _verify.settling(report, young, ssm=False) == []  # without SSM nothing can look
    _verify.not_yet(_verify.settling(report, young, ssm=True), young)
    assert report.results[0].status is Status.INFO
    assert "not verified yet" in report.results[0].summary
    assert "wizard diagnose --preflight --check agent.running" in report.results[0].summary


def _project_dir(tmp_path, body: str):
    (tmp_path / ".codedeploy-wizard.yml").write_text(body)
    return str(tmp_path)


def test_apply_exits_1_when_a_check_after_apply_fails(aws, tmp_path, capsys):
    d = _project_dir(tmp_path, "application: vf\nci:\n  provider: none\n")  # nothing to target
    assert cli.main(["apply", "--yes", "--project-dir", d]) == 1
    out, err = capsys.readouterr()
    assert "Applied" in out and "✗ 1 problem" in out
    assert "The setup is applied, but 1 check failed (group.instances-matched)" in err
    assert "Traceback" not in err


def test_apply_no_wait_reports_not_verified_yet_and_exits_0(aws, tmp_path, capsys):
    d = _project_dir(tmp_path, "application: vn\ninstances:\n  launch: 1\nci:\n  provider: none\n")
    assert cli.main(["apply", "--yes", "--no-wait", "--project-dir", d]) == 0
    out = capsys.readouterr().out
    assert "not verified yet" in out and "(--no-wait)" in out
    assert "waiting for the CodeDeploy agent" not in out


@pytest.mark.parametrize("value", ["-1", "nan", "1e9"])
def test_a_bad_wait_timeout_is_one_line_exit_2_and_nothing_changed(aws, tmp_path, capsys, value):
    import boto3

    d = _project_dir(tmp_path, "application: vb\nci:\n  provider: none\n")
    assert cli.main(["apply", "--yes", f"--wait-timeout={value}", "--project-dir", d]) == 2
    _, err = capsys.readouterr()
    assert err.count("\n") == 1 and "--wait-timeout" in err and "Traceback" not in err
    assert boto3.client("iam").list_roles()["Roles"] == []


def test_ctrl_c_during_apply_prints_what_a_failure_prints(aws, tmp_path, capsys, monkeypatch):
    """The same 'already done … run apply again' summary for Ctrl-C and for a network error."""
    from botocore.exceptions import EndpointConnectionError

    from wizard.steps import application

    def summary(err: str, app: str) -> list[str]:
        return [ln.replace(app, "APP") for ln in err.splitlines() if not ln.startswith("error:")]

    def network(sc, change):
        raise EndpointConnectionError(endpoint_url="https://codedeploy.us-east-1.amazonaws.com")

    def ctrl_c(sc, change):
        raise KeyboardInterrupt

    errors = {}
    for app, fault, code in (("vcnet", network, 2), ("vcint", ctrl_c, 130)):
        d = tmp_path / app
        d.mkdir()
        monkeypatch.setattr(application, "apply", fault)
        body = f"application: {app}\nci:\n  provider: none\n"
        assert cli.main(["apply", "--yes", "--project-dir", _project_dir(d, body)]) == code
        errors[app] = capsys.readouterr().err
    assert "cannot reach" in errors["vcnet"]
    first = [ln for ln in errors["vcint"].splitlines() if ln.startswith("error:")]
    assert len(first) == 1
    assert "interrupted (Ctrl-C) during create codedeploy:application vcint" in first[0]
    assert summary(errors["vcint"], "vcint") == summary(errors["vcnet"], "vcnet")
    assert "Already done before it stopped:" in errors["vcint"]
    assert "Run `wizard apply` again to finish" in errors["vcint"]
    assert "Traceback" not in errors["vcint"]


def test_not_verified_yet_counts_every_new_instance_the_check_could_not_verify():
    """agent.running names the instances of its first failing kind only ("1 of 2 instances: agent
    not installed"); the other one, still booting, is in its evidence. The line counts both, and
    the wait asks SSM about both."""
    from checks.model import Result, Status

    young = {"i-a": 1.0, "i-b": 1.0, "i-c": 900.0}
    r = Result(
        Status.FAIL,
        "1 of 3 instances: agent not installed",
        instances=["i-a"],
        evidence={"could_not_look": {"i-b": "not online in SSM"}},
        id="agent.running",
    )
    report = argparse.Namespace(results=[r])
    pending = _verify.settling(report, young, ssm=True)
    assert _verify.unverified(r, young) == ["i-a", "i-b"]  # i-c runs its agent: verified
    asked: list[list[str]] = []
    monkey_ctx = argparse.Namespace(
        sandbox=True,
        client=lambda *a: argparse.Namespace(
            get_paginator=lambda name: argparse.Namespace(
                paginate=lambda Filters: asked.append(Filters[0]["Values"]) or []
            )
        ),
    )
    now = [0.0]
    _verify.wait_until_settled(
        monkey_ctx, None, "us-east-1", pending, young, timeout=0.1,
        run_checks=lambda ids: report, sleep=lambda s: None, monotonic=lambda: now[0],
        stream=io.StringIO(),
    )  # fmt: skip
    assert asked[0] == ["i-a", "i-b"]
    _verify.not_yet(pending, young)
    assert r.summary.startswith("not verified yet: 2 instances launched 0:01 ago")
    assert r.instances == ["i-a", "i-b"]
