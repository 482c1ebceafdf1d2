"""local.*: with `--local`, look at this machine (run diagnose on the instance itself).

These checks run only with `--local` (or when selected with --check); they read the agent's state
and logs directly, which works even when SSM is offline.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from checks import interpret
from checks.inside import AGENT_LOG, VERSION_FILE
from checks.model import Fix, Result, fail, info, passed, skip, warn
from checks.registry import check


def _run(*cmd: str) -> tuple[int, str]:
    if not shutil.which(cmd[0]):
        return 127, f"{cmd[0]}: command not found"
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return 1, str(exc)
    return proc.returncode, (proc.stdout or proc.stderr).strip()


@check("local.agent", "Agent on this machine", priority=24)
def agent(ctx) -> Result:
    """The CodeDeploy agent installed and running here (systemctl, version file)."""
    if not ctx.local:
        return skip("run on the instance with --local")
    version = Path(VERSION_FILE)
    rc, out = _run("systemctl", "is-active", "codedeploy-agent")
    evidence = {
        "systemctl": out,
        "rc": rc,
        "version": version.read_text().strip() if version.exists() else None,
    }
    if rc == 0 and out == "active":
        return passed(
            f"codedeploy-agent is active ({evidence['version'] or 'version unknown'})",
            evidence=evidence,
        )
    if not version.exists():
        region = ctx.ev.region
        return fail(
            "the CodeDeploy agent is not installed on this machine",
            evidence=evidence,
            fix=Fix(
                "Install the agent for this region.",
                [
                    "sudo yum install -y ruby wget || sudo apt-get install -y ruby-full wget",
                    f"wget https://aws-codedeploy-{region}.s3.{region}.amazonaws.com/latest/install",
                    "chmod +x install && sudo ./install auto",
                ],
            ),
        )
    if rc == 127:
        return warn("no systemctl here: cannot tell whether the agent runs", evidence=evidence)
    return fail(
        f"codedeploy-agent is {out or 'not running'}",
        evidence=evidence,
        fix=Fix("Start the agent.", ["sudo systemctl enable --now codedeploy-agent"]),
    )


@check("local.logs", "Agent log on this machine", priority=29)
def logs(ctx) -> Result:
    """Known failure fragments in the last lines of the agent log."""
    if not ctx.local:
        return skip("run on the instance with --local")
    log = Path(AGENT_LOG)
    try:
        lines = log.read_text(errors="replace").splitlines()[-400:]
    except OSError as exc:
        return info(
            f"cannot read {AGENT_LOG}: {exc.strerror}",
            fix=Fix("Read it as root.", [f"sudo tail -n 100 {AGENT_LOG}"]),
        )
    hits: dict[str, list[str]] = {}
    for line in lines:
        if "ERROR" not in line and "error" not in line:
            continue
        cause = interpret.classify(line, "UnknownError")
        if cause.key != "unknown":
            hits.setdefault(cause.label, []).append(line[-300:])
    if not hits:
        return passed(f"no known failure in the last {len(lines)} lines of the agent log")
    label, sample = max(hits.items(), key=lambda kv: len(kv[1]))
    return fail(
        f"agent log: {label} ({len(sample)} line(s))",
        evidence={k: v[-3:] for k, v in hits.items()},
        fix=Fix(
            "See the matching check in a full diagnose; the log lines are in the evidence.",
            [f"sudo tail -n 100 {AGENT_LOG}"],
        ),
    )
