"""The failures people hit (issue 13), each built in the sandbox through AWS calls, with what
`wizard diagnose` must answer: the first root cause and the words of its fix.

Used by tests/e2e/test_diagnose_kinds.py (one test per world) and bench/diagnose_accuracy.py
(the count of right first root causes and right first fix lines). Every world is built only with
ordinary API calls (`wizard.sandbox.world.World`, `scenarios.build`); diagnose sees it only through
the AWS APIs. `Expect` holds fragments a user would read: the root cause's summary, the first line
of its fix, and its first command.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from wizard.sandbox import scenarios
from wizard.sandbox.world import START_SH, TAG_KEY, World, agent_user_data, appspec, zip_bundle


@dataclass(frozen=True)
class Expect:
    """What the first root cause must say, and the first words of its fix."""

    root: str
    summary: tuple[str, ...] = ()
    fix: tuple[str, ...] = ()  # fragments of fix.summary (the line people act on)
    command: tuple[str, ...] = ()  # fragments of the first command
    automatic: bool | None = None
    not_in_summary: tuple[str, ...] = ()


@dataclass
class Built:
    deployment_id: str
    facts: dict[str, Any] = field(default_factory=dict)


def _hooks(*pairs: tuple[str, str]) -> dict[str, list[dict[str, Any]]]:
    return {event: [{"location": loc, "timeout": 60}] for event, loc in pairs}


STOP_SH = "#!/bin/bash\nset -euo pipefail\necho stopping the app\n"


def _bundle(w: World, hooks: dict[str, list[dict[str, Any]]] | None = None, **extra: Any) -> dict:
    files: dict[str, Any] = {
        "appspec.yml": appspec(f"/var/www/{w.name}", hooks),
        "index.html": "<h1>hello</h1>\n",
        "scripts/start.sh": START_SH,
        "scripts/app_stop.sh": STOP_SH,
    }
    files.update(extra)
    return files


def _redeploy(w: World, seeded: dict[str, Any], files: dict[str, Any], key: str) -> str:
    etag = w.put_bundle(seeded["bucket"], key, zip_bundle(files))
    dep = w.deploy(seeded["deployment_group"], seeded["bucket"], key, etag=etag)
    info = w.wait(dep)
    assert info["status"] in ("Failed", "Succeeded", "Stopped"), info["status"]
    return dep


# ---- 1. ApplicationStop fails because of the previous revision ---------------------------
def previous_stop_typo(w: World) -> Built:
    """v1 lists `scripts/cdap_stop.sh` (a typo) and succeeds (nothing ran before it); v2 fixes
    the typo and fails at ApplicationStop, which runs v1's script."""
    v1 = _bundle(w, _hooks(("ApplicationStop", "scripts/cdap_stop.sh")))
    seeded = scenarios.build(w, files=v1)
    assert seeded["status"] == "Succeeded", seeded
    v2 = _bundle(w, _hooks(("ApplicationStop", "scripts/app_stop.sh")))
    dep = _redeploy(w, seeded, v2, "releases/app-v2.zip")
    return Built(dep, {**seeded, "previous": seeded["deployment_id"], "v2": dep})


def previous_stop_fails(w: World) -> Built:
    """The sibling: v1's stop script exists but exits 1 (the app it stops is not running)."""
    tags = {"sandbox:hook:ApplicationStop": "exit=1;log=pm2: process or namespace app not found"}
    v1 = _bundle(w, _hooks(("ApplicationStop", "scripts/app_stop.sh")))
    seeded = scenarios.build(w, files=v1, tags=tags)
    assert seeded["status"] == "Succeeded", seeded
    dep = _redeploy(w, seeded, v1, "releases/app-v2.zip")
    return Built(dep, {**seeded, "previous": seeded["deployment_id"]})


HOLDING_STOP_SH = "#!/bin/bash\necho draining\nnohup /srv/app/drain.sh &\n"


def previous_stop_holds_pipe(w: World, *, v2_holds: bool = False) -> Built:
    """The sibling decided by bytes alone: v1's stop script backgrounds a drain job without
    redirecting its output, so v2's ApplicationStop (v1's script) waits out its timeout. v2's
    copy lets go (or, `v2_holds`, still holds: the next deployment would time out again)."""
    stop = {"scripts/app_stop.sh": HOLDING_STOP_SH}
    v1 = _bundle(w, _hooks(("ApplicationStop", "scripts/app_stop.sh")), **stop)
    seeded = scenarios.build(w, files=v1)
    assert seeded["status"] == "Succeeded", seeded
    v2 = _bundle(
        w, _hooks(("ApplicationStop", "scripts/app_stop.sh")), **(stop if v2_holds else {})
    )
    dep = _redeploy(w, seeded, v2, "releases/app-v2.zip")
    return Built(dep, {**seeded, "previous": seeded["deployment_id"]})


# ---- 2. the agent is there but wrong (more worlds arrive with the sandbox's agent fidelity) --
def agent_stopped(w: World) -> Built:
    seeded = scenarios.build(w, tags={"sandbox:agent": "stopped"})
    return Built(seeded["deployment_id"], seeded)


def agent_absent(w: World) -> Built:
    seeded = scenarios.build(w, agent=False)
    return Built(seeded["deployment_id"], seeded)


def agent_too_old_for_imdsv2(w: World) -> Built:
    """Amazon Linux 2 with the agent pinned to 1.1.2 on an IMDSv2-only instance."""
    seeded = scenarios.build(
        w,
        ami="al2",
        user_data=agent_user_data(w.region, "al2", "1.1.2-1855"),
        metadata_options={"HttpTokens": "required", "HttpEndpoint": "enabled"},
    )
    return Built(seeded["deployment_id"], seeded)


def agent_deb_needs_old_ruby(w: World) -> Built:
    """Ubuntu 22.04 with the agent pinned to 1.3.2, whose .deb needs Ruby 2.x: no agent."""
    seeded = scenarios.build(
        w, ami="ubuntu-22.04", user_data=agent_user_data(w.region, "ubuntu-22.04", "1.3.2-1902")
    )
    return Built(seeded["deployment_id"], seeded)


def agent_too_old_for_the_os(w: World) -> Built:
    """Amazon Linux 2023 (Ruby 3.2) with the agent pinned to 1.5.0: installed, dies at start."""
    seeded = scenarios.build(w, user_data=agent_user_data(w.region, "al2023", "1.5.0-57"))
    return Built(seeded["deployment_id"], seeded)


def agent_without_ruby(w: World) -> Built:
    """The installer is run without installing Ruby first."""
    ud = agent_user_data(w.region, "al2023").replace(
        "dnf install -y ruby wget", "dnf install -y wget"
    )
    seeded = scenarios.build(w, user_data=ud)
    return Built(seeded["deployment_id"], seeded)


def agent_stopped_no_ssm(w: World) -> Built:
    """The user data leaves the agent stopped; the instance role has no SSM policy, so Run
    Command cannot look inside."""
    ud = agent_user_data(w.region) + "systemctl stop codedeploy-agent\n"
    seeded = scenarios.build(w, user_data=ud, ssm=False)
    return Built(seeded["deployment_id"], seeded)


def agent_too_old_for_the_os_no_ssm(w: World) -> Built:
    """agent-too-old-for-the-os where SSM cannot look: the user data's pin and the AMI tell."""
    ud = agent_user_data(w.region, "al2023", "1.5.0-57")
    seeded = scenarios.build(w, user_data=ud, ssm=False)
    return Built(seeded["deployment_id"], seeded)


def agent_without_ruby_no_ssm(w: World) -> Built:
    """agent-without-ruby where SSM cannot look: the user data shows no Ruby before the
    installer."""
    ud = agent_user_data(w.region, "al2023").replace(
        "dnf install -y ruby wget", "dnf install -y wget"
    )
    seeded = scenarios.build(w, user_data=ud, ssm=False)
    return Built(seeded["deployment_id"], seeded)


# ---- 3. no appspec at the bundle root -----------------------------------------------------
def _no_appspec(w: World, rename: str) -> Built:
    files = _bundle(w)
    files[rename] = files.pop("appspec.yml")
    seeded = scenarios.build(w, files=files)
    return Built(seeded["deployment_id"], seeded)


def appspec_typo(w: World) -> Built:
    return _no_appspec(w, "appsepc.yml")


def appspec_capitalised(w: World) -> Built:
    return _no_appspec(w, "AppSpec.yml")


def appspec_txt(w: World) -> Built:
    return _no_appspec(w, "appspec.yml.txt")


def appspec_nested_deeper(w: World) -> Built:
    """The folder's parent was zipped: appspec.yml two levels down."""
    files = {f"build/{w.name}/{k}": v for k, v in _bundle(w).items()}
    files["build/README.txt"] = "build output\n"
    seeded = scenarios.build(w, files=files)
    return Built(seeded["deployment_id"], seeded)


def appspec_absent(w: World) -> Built:
    files = _bundle(w)
    files.pop("appspec.yml")
    seeded = scenarios.build(w, files=files)
    return Built(seeded["deployment_id"], seeded)


# ---- 4. a `files` source not in the bundle ------------------------------------------------
def files_source_missing(w: World) -> Built:
    """The appspec copies `dist` while the bundle was made from dist/ itself."""
    files = _bundle(w)
    files["appspec.yml"] = files["appspec.yml"].replace("source: /", "source: dist")
    seeded = scenarios.build(w, files=files)
    return Built(seeded["deployment_id"], seeded)


# ---- 5. the S3 key is missing, another name for the same build is there -------------------
def key_mismatch(w: World) -> Built:
    """CI uploaded springboot2-webservice.zip and deployed freelec-springboot2-webservice.zip."""
    seeded = scenarios.build(w, upload=False, wait=False)
    w.wait(seeded["deployment_id"])
    w.put_bundle(seeded["bucket"], "releases/springboot2-webservice.zip", zip_bundle(_bundle(w)))
    cd = w.client("codedeploy")
    dep = cd.create_deployment(
        applicationName=seeded["application"],
        deploymentGroupName=seeded["deployment_group"],
        revision={
            "revisionType": "S3",
            "s3Location": {
                "bucket": seeded["bucket"],
                "key": "releases/freelec-springboot2-webservice.zip",
                "bundleType": "zip",
            },
        },
    )["deploymentId"]
    w.wait(dep)
    return Built(dep, seeded)


# ---- 6. "file already exists" is not an appspec problem -----------------------------------
def file_exists_appspec_path(w: World) -> Built:
    """The clashing file is the appspec itself (`source: /` copies it too)."""
    tags = {f"sandbox:file:/var/www/{w.name}/appspec.yml": "root:root:644"}
    seeded = scenarios.build(w, tags=tags)
    return Built(seeded["deployment_id"], seeded)


# ---- 7. NO_INSTANCES for a setup the wizard made -------------------------------------------
def no_instances_hand_launched(w: World) -> Built:
    """The group filters on the wizard's tag; the instances meant carry only Name=<app>."""
    bucket = w.bucket()
    profile = w.instance_profile(bucket=bucket)
    ids = w.launch(2, profile=profile, tags={TAG_KEY: "someone-else"})
    w.client("ec2").delete_tags(Resources=ids, Tags=[{"Key": TAG_KEY}])
    app, group = w.application(w.service_role())
    etag = w.put_bundle(bucket, scenarios.KEY, zip_bundle(_bundle(w)))
    dep = w.deploy(group, bucket, scenarios.KEY, etag=etag)
    w.wait(dep)
    return Built(dep, {"instance_ids": ids, "application": app})


def no_instances_none_launched(w: World) -> Built:
    """Adopt mode with nothing to adopt: no instance at all."""
    bucket = w.bucket()
    app, group = w.application(w.service_role())
    etag = w.put_bundle(bucket, scenarios.KEY, zip_bundle(_bundle(w)))
    dep = w.deploy(group, bucket, scenarios.KEY, etag=etag)
    w.wait(dep)
    return Built(dep, {"application": app})


# ---- 8. an instance profile exists but is not attached ------------------------------------
def profile_not_attached(w: World) -> Built:
    """The wizard made `<app>-ec2` (tagged for the application); the instances have none."""
    bucket = w.bucket()
    profile = w.instance_profile(bucket=bucket)
    w.client("iam").tag_instance_profile(
        InstanceProfileName=profile, Tags=[{"Key": TAG_KEY, "Value": w.name}]
    )
    ids = w.launch(2)
    app, group = w.application(w.service_role())
    etag = w.put_bundle(bucket, scenarios.KEY, zip_bundle(_bundle(w)))
    dep = w.deploy(group, bucket, scenarios.KEY, etag=etag)
    w.wait(dep)
    return Built(dep, {"instance_ids": ids, "profile": profile, "application": app})


# ---- 9. hook scripts failing for environment reasons --------------------------------------
def hook_command_not_found(w: World) -> Built:
    tags = {
        "sandbox:hook:ApplicationStart": "exit=127;log=scripts/start.sh: line 3: npm: command "
        "not found"
    }
    seeded = scenarios.build(w, tags=tags)
    return Built(seeded["deployment_id"], seeded)


def hook_crlf(w: World) -> Built:
    """start.sh saved with Windows line endings (nothing but its bytes says so)."""
    files = _bundle(w, _hooks(("ApplicationStart", "scripts/start.sh")))
    files["scripts/start.sh"] = START_SH.replace("\n", "\r\n")
    seeded = scenarios.build(w, files=files)  # the sandbox decides from the script's bytes
    return Built(seeded["deployment_id"], seeded)


def hook_crlf_runas(w: World) -> Built:
    """The sibling with `runas`: bash runs the CRLF script itself and, on Amazon Linux 2's bash
    4.2, says "bad interpreter" and exits 126."""
    hooks = {
        "ApplicationStart": [{"location": "scripts/start.sh", "timeout": 60, "runas": "ec2-user"}]
    }
    files = _bundle(w, hooks)
    files["scripts/start.sh"] = START_SH.replace("\n", "\r\n")
    seeded = scenarios.build(w, files=files, ami="al2", user_data=agent_user_data(w.region, "al2"))
    return Built(seeded["deployment_id"], seeded)


# ---- 10. a deployment that is stuck ---------------------------------------------------------
# The sandbox's clock is compressed (an agent that never answers fails its event in 0.6 s); these
# worlds slow it down while they are built and diagnosed (`world_clock`), so the deployment is
# still InProgress when diagnose looks, as it would be for minutes on AWS.
SLOW_WORLDS = {
    "stuck-agent-stopped",
    "stuck-instance-stopped",
    "stuck-script-holds-pipe",
    "stuck-previous-stop-holds",
}
# per world: quick events up to the one that hangs, a timeout that does not come while diagnosed
_QUICK = {"event": 0.02, "slow_event": 600.0}
_CLOCKS = {"stuck-script-holds-pipe": _QUICK, "stuck-previous-stop-holds": _QUICK}


@contextlib.contextmanager
def world_clock(name: str) -> Iterator[None]:
    """A slow sandbox clock for the worlds that must still be running when diagnosed."""
    from wizard.sandbox import clock

    if name not in SLOW_WORLDS:
        yield
        return
    old = clock.CLOCK
    # slow events, but instances that boot and install their agent at once
    speeds = {"event": 20.0, "slow_event": 600.0, **_CLOCKS.get(name, {})}
    clock.CLOCK = clock.Clock(start_delay=0.05, boot=0.0, agent_install=0.0, **speeds)
    try:
        yield
    finally:
        clock.CLOCK = old


def _in_flight(w: World, dep: str) -> None:
    cd = w.client("codedeploy")
    for _ in range(100):
        info = cd.get_deployment(deploymentId=dep)["deploymentInfo"]
        if info["status"] == "InProgress":
            return
        time.sleep(0.05)
    raise AssertionError(f"{dep} never got InProgress: {info['status']}")


def stuck_agent_stopped(w: World) -> Built:
    """The agent is stopped; CodeDeploy waits on ApplicationStop (for up to an hour on AWS)."""
    seeded = scenarios.build(w, tags={"sandbox:agent": "stopped"}, wait=False)
    _in_flight(w, seeded["deployment_id"])
    return Built(seeded["deployment_id"], seeded)


def stuck_instance_stopped(w: World) -> Built:
    """One instance was stopped while the deployment ran on it."""
    seeded = scenarios.build(w, wait=False)
    _in_flight(w, seeded["deployment_id"])
    stopped = seeded["instance_ids"][:1]
    w.client("ec2").stop_instances(InstanceIds=stopped)
    return Built(seeded["deployment_id"], {**seeded, "stopped": stopped})


# a start script that leaves `node server.js` on the agent's output pipes: the agent waits until
# the hook's timeout (CodeDeploy User Guide, "Long-running processes can cause deployments to
# fail"); nothing but the script's bytes says so
HOLDS_PIPE_SH = "#!/bin/bash\nnode server.js &\n"
DETACHED_SH = "#!/bin/bash\nnode server.js > /dev/null 2>&1 < /dev/null &\n"


def _start_script(w: World, script: str, timeout: int | None = None) -> dict[str, Any]:
    hook: dict[str, Any] = {"location": "scripts/start.sh"}
    if timeout:
        hook["timeout"] = timeout
    return _bundle(w, {"ApplicationStart": [hook]}, **{"scripts/start.sh": script})


def _at_event(w: World, dep: str, event: str) -> None:
    """Wait until every target of `dep` runs `event` (InProgress)."""
    cd = w.client("codedeploy")
    _in_flight(w, dep)
    for _ in range(200):
        ids = cd.list_deployment_targets(deploymentId=dep).get("targetIds") or []
        targets = cd.batch_get_deployment_targets(deploymentId=dep, targetIds=ids)
        running = [
            e
            for t in targets.get("deploymentTargets") or []
            for e in (t.get("instanceTarget") or {}).get("lifecycleEvents") or []
            if e["lifecycleEventName"] == event and e["status"] == "InProgress"
        ]
        if ids and len(running) == len(ids):
            return
        time.sleep(0.05)
    raise AssertionError(f"{dep} never reached {event}")


def stuck_script_holds_pipe(w: World) -> Built:
    """ApplicationStart runs `node server.js &`: InProgress until the hook's timeout (3600 s)."""
    files = _start_script(w, HOLDS_PIPE_SH)
    seeded = scenarios.build(w, count=1, files=files, wait=False)
    _at_event(w, seeded["deployment_id"], "ApplicationStart")
    return Built(seeded["deployment_id"], seeded)


def stuck_previous_stop_holds(w: World) -> Built:
    """v2's ApplicationStop runs v1's stop script, which leaves a drain job on the agent's pipes:
    InProgress until that script's timeout; v2's own copy still does the same."""
    stop = {"scripts/app_stop.sh": HOLDING_STOP_SH}
    v1 = _bundle(w, _hooks(("ApplicationStop", "scripts/app_stop.sh")), **stop)
    seeded = scenarios.build(w, count=1, files=v1)
    assert seeded["status"] == "Succeeded", seeded
    key = "releases/app-v2.zip"
    etag = w.put_bundle(seeded["bucket"], key, zip_bundle(v1))
    dep = w.deploy(seeded["deployment_group"], seeded["bucket"], key, etag=etag)
    _at_event(w, dep, "ApplicationStop")
    return Built(dep, {**seeded, "previous": seeded["deployment_id"]})


def hook_holds_pipe(w: World) -> Built:
    """The same script, the deployment already failed: ScriptTimedOut after 60 s."""
    seeded = scenarios.build(w, count=1, files=_start_script(w, HOLDS_PIPE_SH, 60))
    return Built(seeded["deployment_id"], seeded)


def hook_detached(w: World) -> Built:
    """The control: the server's output redirected and detached; the deployment succeeds."""
    seeded = scenarios.build(w, count=1, files=_start_script(w, DETACHED_SH, 60))
    return Built(seeded["deployment_id"], seeded)


WORLDS: dict[str, tuple[Callable[[World], Built], Callable[[Built], Expect]]] = {
    "previous-stop-typo": (
        previous_stop_typo,
        lambda b: Expect(
            "hooks.previous-revision",
            ("ApplicationStop", b.facts["previous"], "cdap_stop.sh"),
            ("Deploy once with --ignore-application-stop-failures",),
            ("wizard deploy --ignore-application-stop-failures",),
            False,
            ("AppSpec file",),
        ),
    ),
    "previous-stop-fails": (
        previous_stop_fails,
        lambda b: Expect(
            "hooks.previous-revision",
            ("ApplicationStop", b.facts["previous"], "failed"),
            ("Deploy once with --ignore-application-stop-failures",),
            ("wizard deploy --ignore-application-stop-failures",),
        ),
    ),
    "previous-stop-holds-pipe": (
        previous_stop_holds_pipe,
        lambda b: Expect(
            "hooks.previous-revision",
            (
                "ApplicationStop",
                b.facts["previous"],
                "timed out (its line 3 `nohup /srv/app/drain.sh &` keeps the agent's output pipe",
                "(60 s)",
            ),
            (
                "Deploy once with --ignore-application-stop-failures",
                "given up after its timeout, 60 s",
                "This revision's scripts/app_stop.sh lets go of the agent's pipe",
            ),
            ("wizard deploy --ignore-application-stop-failures",),
        ),
    ),
    "previous-stop-still-holds": (
        lambda w: previous_stop_holds_pipe(w, v2_holds=True),
        lambda b: Expect(
            "hooks.previous-revision",
            ("ApplicationStop", b.facts["previous"], "keeps the agent's output pipe open"),
            (
                "Deploy once with --ignore-application-stop-failures",
                "Fix the stop script (scripts/app_stop.sh's line 3",
                "in this revision's copy of it",
            ),
            ("wizard deploy --ignore-application-stop-failures",),
        ),
    ),
    "agent-stopped": (
        agent_stopped,
        lambda b: Expect(
            "agent.running",
            ("installed but not running",),
            ("Start the CodeDeploy agent",),
            ("systemctl start codedeploy-agent",),
            True,
        ),
    ),
    "agent-absent": (
        agent_absent,
        lambda b: Expect(
            "agent.running",
            ("not installed", "user data does not install it"),
            ("Install the CodeDeploy agent",),
            ("AWS-ConfigureAWSPackage",),
            True,
        ),
    ),
    "agent-too-old-for-imdsv2": (
        agent_too_old_for_imdsv2,
        lambda b: Expect(
            "agent.imds",
            ("HttpTokens=required", "1.1.2", "predates IMDSv2 support"),
            ("Update the agent", "HttpTokens optional"),
            ("AWS-ConfigureAWSPackage",),
            True,
        ),
    ),
    "agent-deb-needs-old-ruby": (
        agent_deb_needs_old_ruby,
        lambda b: Expect(
            "agent.running",
            ("agent not installed", "the installer failed", "ruby2"),
            ("Install the current agent and drop the version pin (1.3.2)",),
            ("AWS-ConfigureAWSPackage",),
            True,
        ),
    ),
    "agent-too-old-for-the-os": (
        agent_too_old_for_the_os,
        lambda b: Expect(
            "agent.running",
            ("cannot run on this OS", "1.5.0", "Ruby 3.2"),
            ("Update the agent to the current release", "drop the version pin (1.5.0)"),
            ("AWS-ConfigureAWSPackage",),
            True,
        ),
    ),
    "agent-without-ruby": (
        agent_without_ruby,
        lambda b: Expect(
            "agent.running",
            ("agent not installed", "Ruby is not installed"),
            ("Install Ruby first",),
            ("AWS-ConfigureAWSPackage",),
            True,
        ),
    ),
    "agent-stopped-no-ssm": (
        agent_stopped_no_ssm,
        lambda b: Expect(
            "agent.running",
            ("could not look inside",),
            ("Look on the instance",),
            ("systemctl status codedeploy-agent",),
        ),
    ),
    "agent-old-for-os-no-ssm": (
        agent_too_old_for_the_os_no_ssm,
        lambda b: Expect(
            "agent.running",
            ("could not look inside", "pins agent 1.5.0", "Ruby 3.2"),
            ("Update the agent and drop the version pin (1.5.0)", "look on the instance"),
            ("systemctl status codedeploy-agent",),
        ),
    ),
    "agent-no-ruby-no-ssm": (
        agent_without_ruby_no_ssm,
        lambda b: Expect(
            "agent.running",
            ("could not look inside", "without installing Ruby"),
            ("Install Ruby first",),
            ("systemctl status codedeploy-agent",),
        ),
    ),
    "appspec-typo": (
        appspec_typo,
        lambda b: Expect(
            "bundle.appspec",
            ("appsepc.yml",),
            ("Rename appsepc.yml to appspec.yml",),
            ("mv appsepc.yml appspec.yml",),
        ),
    ),
    "appspec-capitalised": (
        appspec_capitalised,
        lambda b: Expect(
            "bundle.appspec",
            ("AppSpec.yml",),
            ("Rename AppSpec.yml to appspec.yml",),
            ("mv AppSpec.yml appspec.yml",),
        ),
    ),
    "appspec-txt": (
        appspec_txt,
        lambda b: Expect(
            "bundle.appspec",
            ("appspec.yml.txt",),
            ("Rename appspec.yml.txt to appspec.yml",),
            ("mv appspec.yml.txt appspec.yml",),
        ),
    ),
    "appspec-nested-deeper": (
        appspec_nested_deeper,
        lambda b: Expect(
            "bundle.appspec",
            ("build/", "appspec.yml"),
            ("Zip the contents of build/",),
            ("cd build/",),
        ),
    ),
    "appspec-absent": (
        appspec_absent,
        lambda b: Expect(
            "bundle.appspec",
            ("no appspec.yml anywhere", "index.html"),
            ("Add an appspec.yml at the root",),
            ("wizard files",),
        ),
    ),
    "files-source-missing": (
        files_source_missing,
        lambda b: Expect(
            "bundle.appspec",
            ("'dist' is not in the bundle",),
            ("change `source: dist` to `source: /`",),
            ("wizard validate",),
        ),
    ),
    "key-mismatch": (
        key_mismatch,
        lambda b: Expect(
            "s3.bundle-exists",
            ("freelec-springboot2-webservice.zip", "springboot2-webservice.zip"),
            ("springboot2-webservice.zip",),
            ("springboot2-webservice.zip",),
        ),
    ),
    "file-exists-appspec-path": (
        file_exists_appspec_path,
        lambda b: Expect(
            "dest.file-exists",
            ("appspec.yml already exists", "not put there by this deployment group"),
            ("Deploy once with --file-exists-behavior OVERWRITE",),
            ("wizard deploy --file-exists-behavior OVERWRITE",),
            False,
        ),
    ),
    "no-instances-hand-launched": (
        no_instances_hand_launched,
        lambda b: Expect(
            "group.instances-matched",
            ("no instance", TAG_KEY),
            ("Tag",),
            ("aws ec2 create-tags --resources " + " ".join(sorted(b.facts["instance_ids"])),),
        ),
    ),
    "no-instances-none-launched": (
        no_instances_none_launched,
        lambda b: Expect(
            "group.instances-matched",
            ("no instance",),
            ("Launch instances",),
            ("wizard",),
        ),
    ),
    "profile-not-attached": (
        profile_not_attached,
        lambda b: Expect(
            "iam.instance-profile",
            ("no instance profile",),
            (f"Attach the instance profile {b.facts['profile']}",),
            ("aws ec2 associate-iam-instance-profile",),
            True,
        ),
    ),
    "hook-command-not-found": (
        hook_command_not_found,
        lambda b: Expect(
            "hooks.failed",
            ("exit code 127", "npm"),
            ("Call npm by its full path",),
            ("command -v npm",),
        ),
    ),
    "stuck-agent-stopped": (
        stuck_agent_stopped,
        lambda b: Expect(
            "agent.running",
            ("installed but not running",),
            ("Start the CodeDeploy agent",),
            ("sudo systemctl start codedeploy-agent",),
            True,
        ),
    ),
    "stuck-instance-stopped": (
        stuck_instance_stopped,
        lambda b: Expect(
            "deployment.status",
            ("InProgress", "at ApplicationStop", "is stopped", b.facts["stopped"][0]),
            ("Start the instance again, or stop this deployment",),
            ("aws ec2 start-instances --instance-ids " + b.facts["stopped"][0],),
        ),
    ),
    "stuck-script-holds-pipe": (
        stuck_script_holds_pipe,
        lambda b: Expect(
            "deployment.status",
            (
                "InProgress",
                "ApplicationStart runs scripts/start.sh's line 2 `node server.js &` keeps the "
                "agent's output pipe open",
                "the hook's timeout (3600 s)",
            ),
            (
                "Redirect the output of `node server.js` and detach it "
                "(`node server.js > /dev/null 2>&1 < /dev/null &`)",
                "stop this deployment and deploy again",
            ),
            ("aws deploy stop-deployment --deployment-id " + b.deployment_id,),
        ),
    ),
    "stuck-previous-stop-holds": (
        stuck_previous_stop_holds,
        lambda b: Expect(
            "deployment.status",
            (
                "InProgress",
                f"ApplicationStop runs the last successful revision's ({b.facts['previous']}) "
                "scripts/app_stop.sh's line 3 `nohup /srv/app/drain.sh &` keeps the agent's "
                "output pipe open",
                "(60 s)",
            ),
            (
                "Stop this deployment and deploy again with --ignore-application-stop-failures",
                "given up after its timeout, 60 s, once",
                "fix this revision's scripts/app_stop.sh too, or the next deployment waits",
                "redirect the output of `/srv/app/drain.sh` and detach it",
            ),
            ("aws deploy stop-deployment --deployment-id " + b.deployment_id,),
        ),
    ),
    "hook-holds-pipe": (
        hook_holds_pipe,
        lambda b: Expect(
            "hooks.failed",
            (
                "ApplicationStart scripts/start.sh timed out",
                "line 2 `node server.js &` keeps the agent's output pipe open",
                "the hook's timeout (60 s)",
            ),
            (
                "Redirect the output of `node server.js` and detach it "
                "(`node server.js > /dev/null 2>&1 < /dev/null &`)",
            ),
        ),
    ),
    "hook-crlf": (
        hook_crlf,
        lambda b: Expect(
            "hooks.failed",
            ("CRLF",),
            ("Convert scripts/start.sh to LF line endings",),
            ("sed -i 's/\\r$//' scripts/start.sh",),
        ),
    ),
    "hook-crlf-runas": (
        hook_crlf_runas,
        lambda b: Expect(
            "hooks.failed",
            ("exit code 126", "Windows line endings"),
            ("Convert scripts/start.sh to LF line endings",),
            ("sed -i 's/\\r$//' scripts/start.sh",),
        ),
    ),
}


def check(doc: dict[str, Any], expect: Expect) -> tuple[bool, bool, str]:
    """(right root cause, right first fix line, what was said) for a `diagnose --json` doc."""
    roots = doc.get("root_causes") or []
    said = roots[0] if roots else "(none)"
    if not roots or roots[0] != expect.root:
        return False, False, said
    res = next(r for r in doc["results"] if r["id"] == expect.root)
    fix = res.get("fix") or {}
    summary_ok = all(p in res["summary"] for p in expect.summary) and not any(
        p in res["summary"] for p in expect.not_in_summary
    )
    first_cmd = (fix.get("commands") or [""])[0]
    fix_ok = (
        all(p in fix.get("summary", "") for p in expect.fix)
        and all(p in first_cmd for p in expect.command)
        and (expect.automatic is None or fix.get("automatic") is expect.automatic)
    )
    return summary_ok, fix_ok and summary_ok, f"{said}: {res['summary']} | {fix.get('summary')}"


def as_json(report: Any) -> dict[str, Any]:
    return json.loads(json.dumps(report.to_json(), default=str))
