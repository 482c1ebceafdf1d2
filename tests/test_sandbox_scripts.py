"""Hook scripts are judged from the bytes in the bundle, the way the agent starts them (issue 12
item 1). The agent runs a hook as its absolute path, or `su USER -c PATH` with `runas`
(hook_executor.rb, linux_util.rb); what fails then is the kernel's and the shell's verdict on
the first bytes, and the words are theirs."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest
from moto import mock_aws

from tests.e2e.sandbox_world import final_invocation
from wizard.sandbox import clock, extensions, scenarios
from wizard.sandbox.world import World, appspec, first_failure

AGENT_LOG = "/var/log/aws/codedeploy-agent/codedeploy-agent.log"
ENOENT = "failed with error Errno::ENOENT with message No such file or directory - /opt/"


@pytest.fixture
def w(aws_credentials, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(clock, "CLOCK", clock.Clock(start_delay=0.03, event=0.01, slow_event=0.05))
    with mock_aws():
        extensions.install()
        yield World(None)


def bundle(files: dict[str, bytes | None], mode: int = 0o755) -> bytes:
    """A zip made on Unix; a None value is a directory entry."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in files.items():
            info = zipfile.ZipInfo(name + ("/" if data is None else ""))
            info.create_system = 3
            info.external_attr = (0o40755 if data is None else 0o100000 | mode) << 16
            zf.writestr(info, b"" if data is None else data)
    return buf.getvalue()


def deploy_script(
    w: World,
    script: bytes | None,
    *,
    ami: str = "al2023",
    runas: str | None = None,
    event: str = "ApplicationStart",
    mode: int = 0o755,
) -> dict[str, Any]:
    """Deploy a bundle whose `scripts/deploy.sh` (at `event`) holds `script`, in a world of its
    own; the target."""
    w = World(w.endpoint_url)
    hook: dict[str, Any] = {"location": "scripts/deploy.sh", "timeout": 60}
    if runas:
        hook["runas"] = runas
    spec = appspec(f"/var/www/{w.name}", {event: [hook]}).encode()
    files = {"appspec.yml": spec, "index.html": b"<h1>hi</h1>\n", "scripts/deploy.sh": script}
    tags = {"sandbox:users": runas} if runas else None
    r = scenarios.build(w, count=1, ami=ami, tags=tags, archive=bundle(files, mode))
    (target,) = w.targets(r["deployment_id"])
    return {**r, "target": target, "world": w}


def failed(target: dict[str, Any]) -> dict[str, str]:
    event = first_failure(target)
    assert event is not None, target
    return event["diagnostics"]


def test_crlf_shebang_fails_the_way_the_agent_reports_it(w: World) -> None:
    """The issue's example: `#!/bin/bash\\r\\necho hi\\r\\n` at ApplicationStart."""
    r = deploy_script(w, b"#!/bin/bash\r\necho hi\r\n")
    assert r["target"]["status"] == "Failed"
    diag = failed(r["target"])
    assert diag["errorCode"] == "ScriptFailed"
    assert diag["scriptName"] == "scripts/deploy.sh"
    assert diag["message"].startswith("Script at specified location: scripts/deploy.sh " + ENOENT)
    assert diag["message"].endswith(f"/{r['deployment_id']}/deployment-archive/scripts/deploy.sh")
    assert diag["logTail"] == "LifecycleEvent - ApplicationStart\nScript - scripts/deploy.sh\n"


@pytest.mark.parametrize(
    ("ami", "code", "words"),
    [
        ("ubuntu-22.04", 126, "/bin/bash^M: bad interpreter: No such file or directory"),
        ("al2023", 127, "cannot execute: required file not found"),  # bash 5.2's wording
    ],
)
def test_crlf_shebang_under_runas_is_bash_s_verdict(w: World, ami: str, code: int, words: str):
    r = deploy_script(w, b"#!/bin/bash\r\necho hi\r\n", ami=ami, runas="deploy")
    diag = failed(r["target"])
    assert diag["errorCode"] == "ScriptFailed"
    assert diag["message"] == (
        f"Script at specified location: scripts/deploy.sh run as user deploy failed with exit "
        f"code {code}"
    )
    assert words in diag["logTail"]
    assert "[stderr]bash: /opt/codedeploy-agent/deployment-root/" in diag["logTail"]


def test_crlf_after_env_is_env_s_verdict(w: World) -> None:
    diag = failed(deploy_script(w, b"#!/usr/bin/env bash\r\necho hi\r\n")["target"])
    assert diag["message"].endswith("failed with exit code 127")
    assert "[stderr]/usr/bin/env: \u2018bash\\r\u2019: No such file or directory" in diag["logTail"]


def test_interpreter_the_ami_lacks(w: World) -> None:
    python2 = b"#!/usr/bin/python\nprint 'hi'\n"
    diag = failed(deploy_script(w, python2, ami="al2023")["target"])
    assert ENOENT in diag["message"]
    assert deploy_script(w, python2, ami="al2")["target"]["status"] == "Succeeded"


def test_no_shebang_runs_under_sh(w: World) -> None:
    assert deploy_script(w, b"echo hi\n")["target"]["status"] == "Succeeded"


def test_bom_before_the_shebang(w: World) -> None:
    script = b"\xef\xbb\xbf#!/bin/bash\nset -euo pipefail\necho hi\n"
    # Amazon Linux: /bin/sh is bash, which reports line 1 and runs on
    ok = deploy_script(w, script, ami="al2023")["target"]
    assert ok["status"] == "Succeeded"
    start = [e for e in ok["lifecycleEvents"] if e["lifecycleEventName"] == "ApplicationStart"]
    assert (
        "line 1: \ufeff#!/bin/bash: No such file or directory"
        in (start[0]["diagnostics"]["logTail"])
    )
    # Ubuntu: /bin/sh is dash, which has no pipefail and stops
    diag = failed(deploy_script(w, script, ami="ubuntu-24.04")["target"])
    assert diag["message"].endswith("failed with exit code 2")
    assert "2: set: Illegal option -o pipefail" in diag["logTail"]


def test_a_directory_as_script(w: World) -> None:
    diag = failed(deploy_script(w, None)["target"])
    assert diag["errorCode"] == "ScriptFailed"
    assert (
        "failed with error Errno::EACCES with message Permission denied - /opt/"
        in (diag["message"])
    )


def test_a_script_without_the_executable_bit_is_made_executable(w: World) -> None:
    r = deploy_script(w, b"#!/bin/bash\necho hi\n", mode=0o644)
    assert r["target"]["status"] == "Succeeded"
    ssm = r["world"].client("ssm")
    (iid,) = r["instance_ids"]
    cid = ssm.send_command(
        InstanceIds=[iid],
        DocumentName="AWS-RunShellScript",
        Parameters={
            "commands": ["grep -c 'is not executable' /var/log/aws/codedeploy-agent/*.log"]
        },
    )["Command"]["CommandId"]
    assert final_invocation(ssm, cid, iid)["StandardOutputContent"].strip() == "1"


def test_broken_stop_script_of_the_last_success_fails_the_next_deployment(w: World) -> None:
    """ApplicationStop runs the last successful revision's script; ignoreApplicationStopFailures
    lets the next deployment through (CreateDeployment API reference)."""
    r = deploy_script(w, b"#!/bin/bash\r\necho stopping\r\n", event="ApplicationStop")
    assert r["target"]["status"] == "Succeeded"  # nothing to stop the first time
    w = r["world"]
    cd = w.client("codedeploy")
    location = {"bucket": r["bucket"], "key": r["key"], "bundleType": "zip"}
    revision = {"revisionType": "S3", "s3Location": location}
    again = cd.create_deployment(
        applicationName=r["application"],
        deploymentGroupName=r["deployment_group"],
        revision=revision,
    )["deploymentId"]
    assert w.wait(again)["status"] == "Failed"
    (target,) = w.targets(again)
    event = first_failure(target)
    assert event is not None and event["lifecycleEventName"] == "ApplicationStop"
    assert ENOENT in event["diagnostics"]["message"]
    past = cd.create_deployment(
        applicationName=r["application"],
        deploymentGroupName=r["deployment_group"],
        revision=revision,
        ignoreApplicationStopFailures=True,
    )["deploymentId"]
    assert w.wait(past)["status"] == "Succeeded"


# ---- a process left holding the agent's output pipes (fleet.holds) -------------------------
HOLDS = [
    (b"#!/bin/bash\nnode server.js &\n", (2, "node server.js &")),
    (b"#!/bin/bash\ncd /app\nnohup java -jar app.jar &\necho started\n", (3, "nohup")),
    (b"#!/bin/bash\nnode server.js > /var/log/app.log &\n", (2, "node")),  # stderr still ours
    (b"#!/bin/bash\nnode server.js 2>&1 > /dev/null &\n", (2, "node")),  # 2 dup'd to the pipe
    (b"#!/bin/bash\nset -e\ncd /srv\nexec node server.js\n", (4, "exec node server.js")),
    (b"#!/bin/bash\nnpm start\n", (2, "npm start")),
    (b"#!/bin/sh\nsudo -u app gunicorn app:app -b :8000\n", (2, "gunicorn")),
    (b"#!/bin/bash\nif true; then\n  python3 -m http.server 80 &\nfi\n", (3, "http.server")),
    (b"#!/bin/bash\nsleep 999 | tee out.log &\n", (2, "tee")),
    # a foreground server anywhere: the script never gets past it
    (b"#!/bin/bash\nnpm start\necho started\n", (2, "npm start")),
    (b"#!/bin/bash\ncd /app && java -jar app.jar\necho up\n", (2, "java -jar")),
]
FREE = [
    b"#!/bin/bash\nnode server.js > /dev/null 2>&1 &\n",
    b"#!/bin/bash\nnohup node server.js > /var/log/app.log 2>&1 < /dev/null &\n",
    b"#!/bin/bash\nmyapp > /dev/null 2> /dev/null < /dev/null &\n",
    b"#!/bin/bash\nnode server.js &> /dev/null &\n",
    b"#!/bin/bash\nexec > /var/log/deploy.log 2>&1\nnode server.js &\n",
    b"#!/bin/bash\ngunicorn --daemon app:app\n",
    b"#!/bin/bash\nnode --version\nsystemctl start app\n",
    b"#!/bin/bash\nnpm install\nnpm test\necho done\n",
    b"#!/usr/bin/python3\nnode server.js &\n",  # not a shell script
    b"#!/bin/bash\nif then fi (\n",  # unparsable: the bytes say nothing certain
]


@pytest.mark.parametrize(("script", "expected"), HOLDS)
def test_holding_line_names_the_command(script: bytes, expected: tuple[int, str]) -> None:
    from wizard.sandbox.fleet.holds import holding_line

    found = holding_line(script)
    assert found is not None and found[0] == expected[0] and expected[1] in found[1]


@pytest.mark.parametrize("script", FREE)
def test_holding_line_lets_detached_processes_go(script: bytes) -> None:
    from wizard.sandbox.fleet.holds import holding_line

    assert holding_line(script) is None


def test_a_backgrounded_server_holds_the_event_until_its_timeout(w: World) -> None:
    """No tag: the bytes alone make ApplicationStart ScriptTimedOut (hook timeout 60 s)."""
    diag = failed(deploy_script(w, b"#!/bin/bash\nnode server.js &\n")["target"])
    assert diag["errorCode"] == "ScriptTimedOut"
    assert diag["message"].endswith("failed to complete in 60 seconds")
    ok = deploy_script(w, b"#!/bin/bash\nnode server.js > /dev/null 2>&1 < /dev/null &\n")
    assert ok["target"]["status"] == "Succeeded"
