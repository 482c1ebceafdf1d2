"""Looking inside the instances: one read-only probe script, run once per diagnose on every instance
that needs a look, through SSM Run Command (the contract both AWS and the sandbox follow).

Each probe is bracketed as `echo "@@probe NAME"` / PROBE / `echo "@@rc=$?"`, so one SendCommand
answers the agent checks and the destination checks together.
"""

from __future__ import annotations

import posixpath
import threading
from datetime import datetime, timedelta, timezone
from typing import Any

from checks import interpret
from checks.agentinfo import INSTALLER_LOG
from checks.evidence import Evidence, InstanceLook
from checks.model import Fix

AGENT_LOG = "/var/log/aws/codedeploy-agent/codedeploy-agent.log"
VERSION_FILE = "/opt/codedeploy-agent/.version"
CLOUD_INIT_LOG = "/var/log/cloud-init-output.log"


def _probe(name: str, command: str) -> list[str]:
    return [f'echo "@@probe {name}"', command, 'echo "@@rc=$?"']


def parents(path: str) -> list[str]:
    """The path and every parent up to / (the agent creates missing directories)."""
    out = []
    p = posixpath.normpath(path or "/")
    while True:
        out.append(p)
        if p == "/":
            return out
        p = posixpath.dirname(p)


def script_for(appspec: dict[str, Any] | None) -> list[str]:
    """The probe script: agent state, agent user, destinations and their parents, runas users."""
    lines: list[str] = []
    lines += _probe("agent", "systemctl is-active codedeploy-agent")
    lines += _probe("version", f"cat {VERSION_FILE}")
    lines += _probe("agent-user", "ps -o user= -C ruby")
    lines += _probe("selinux", "getenforce")
    # the 1.x agent and its installer are Ruby scripts: no Ruby, no agent; the version decides
    # which agent releases run (checks.agentinfo)
    lines += _probe("ruby", "ruby -v")
    dests: list[str] = []
    if appspec:
        # short answers first: Run Command keeps only the first 2,500 characters of output
        seen: set[str] = set()
        dests = sorted((appspec.get("destinations") or {}).keys())
        for dest in dests:
            for p in parents(dest):
                if p not in seen:
                    seen.add(p)
                    lines += _probe(f"stat {p}", f"stat -c '%U:%G %a' {p}")
        for user in appspec.get("runas") or []:
            lines += _probe(f"id {user}", f"id -u {user}")
    # a service that dies at start writes why to the journal, not to its own log; cloud-init's
    # output shows a user-data installer that never ran (no Ruby, no wget): only error lines,
    # the log is long
    lines += _probe(
        "journal",
        "journalctl -u codedeploy-agent -n 20 --no-pager | grep -E 'rror|cannot' | tail -n 2",
    )
    lines += _probe(
        "cloud-init",
        f"grep -E -i 'no such file|not found|error|failed' {CLOUD_INIT_LOG} | tail -n 3",
    )
    lines += _probe("installer-log", f"tail -n 5 {INSTALLER_LOG}")
    for dest in dests:
        lines += _probe(f"ls {dest}", f"ls -A {dest}")
    lines += _probe("agent-log", f"tail -n 8 {AGENT_LOG}")
    return lines


def _appspec_or_none(ev: Evidence) -> dict[str, Any] | None:
    try:
        spec = ev.appspec()
    except Exception:  # Unavailable, denied, corrupt: probe the agent only
        return None
    return spec if spec and spec.get("appspec_path") else None


def waiting_ids(ev: Evidence) -> list[str]:
    """In-flight targets where the agent has shown no sign of life yet (no event of theirs
    succeeded): the API cannot tell an event the agent never picked up from one it runs, so the
    agent checks look inside those."""
    try:
        active = ev.active_targets()
    except Exception:  # a finished deployment, or targets we may not read: nothing waits
        return []
    out = set()
    for t in active:
        w = interpret.waiting(t)
        if w is not None and not interpret.agent_reached(t):
            out.add(w.instance_id)
    return sorted(out)


STUCK_AFTER = timedelta(minutes=5)  # an agent picks an event up within seconds of polling


def stuck_ids(ev: Evidence) -> list[str]:
    """Waiting instances (see `waiting_ids`) whose event has made no progress for minutes:
    evidence that the agent is not working there, as strong as a failed event."""
    now = datetime.now(timezone.utc)
    waiting = set(waiting_ids(ev))
    out = []
    for w in ev.waiting() if waiting else []:
        since = w.since
        if w.instance_id in waiting and isinstance(since, datetime):
            since = since if since.tzinfo else since.replace(tzinfo=timezone.utc)
            if now - since > STUCK_AFTER:
                out.append(w.instance_id)
    return sorted(set(out))


def ids_to_look_at(ev: Evidence) -> list[str]:
    """Failed (or waiting) targets of a deployment, or every matched instance (preflight);
    running ones only."""
    insts = ev.instances()
    if ev.deployment():
        ids = [i for i in ev.failed_target_ids() if i in insts]
        ids += [i for i in waiting_ids(ev) if i in insts and i not in ids]
    else:
        ids = list(insts)
    return sorted(i for i in ids if insts[i].get("State", {}).get("Name") == "running")


def look(ev: Evidence) -> dict[str, InstanceLook]:
    """Run the probe script once on every instance that needs a look (cached in the evidence)."""
    ids = ids_to_look_at(ev)
    if not ids:
        return {}
    # the script needs the appspec (a download) and the call needs SSM's view: fetch both at once
    box: dict[str, Any] = {}
    t = threading.Thread(target=lambda: box.update(spec=_appspec_or_none(ev)), name="appspec")
    t.start()
    try:
        ev.ssm_status()
    except Exception:
        pass  # look_inside reports it per instance
    t.join()
    return ev.look_inside(ids, script_for(box.get("spec")))


def agent_state(look_: InstanceLook) -> str:
    """running | stopped | absent | unknown, from the probes."""
    agent = look_.probes.get("agent")
    version = look_.probes.get("version")
    if agent is None:
        return "unknown"
    if agent.rc == 0 and agent.output.strip() == "active":
        return "running"
    if version is not None and version.rc not in (0, None):
        return "absent"
    return "stopped"


def agent_version(look_: InstanceLook) -> str | None:
    v = look_.probes.get("version")
    if v is None or v.rc != 0:
        return None
    return v.output.strip() or None


def agent_reached_ids(ev: Evidence) -> set[str]:
    """Instances whose lifecycle shows the agent at work (no need to look inside for the agent)."""
    return {iid for iid, t in ev.failed_target_map().items() if interpret.agent_reached(t)}


def why_unseen(looks: dict[str, InstanceLook], ids: list[str]) -> str:
    """Why Run Command could not look inside `ids`, in SSM's own terms, most common first:
    e.g. "not registered with Systems Manager", "2 SSM PingStatus ConnectionLost, 1 not running".

    DescribeInstanceInformation lists only managed nodes, so an instance it does not know has no
    SSM Agent registered (no instance profile with AmazonSSMManagedInstanceCore, or no route to
    the ssm/ssmmessages/ec2messages endpoints); a known one reports PingStatus Online,
    ConnectionLost or Inactive (SSM API reference, InstanceInformation.PingStatus). Run Command
    reaches only Online nodes.
    """
    from collections import Counter

    reasons: Counter[str] = Counter()
    for iid in ids:
        look = looks.get(iid)
        if look is None:
            reasons["not running"] += 1
        elif _unregistered(look):
            reasons["not registered with Systems Manager"] += 1
        else:
            reasons[look.detail or f"Run Command {look.status}"] += 1
    ranked = reasons.most_common()
    if len(ranked) == 1:
        return ranked[0][0]
    return ", ".join(f"{n} {why}" for why, n in ranked)


def _unregistered(look: InstanceLook | None) -> bool:
    """Not listed by DescribeInstanceInformation (look_inside says "SSM PingStatus unknown")."""
    return look is not None and look.status == "offline" and look.detail.endswith("unknown")


def only_ssh(looks: dict[str, InstanceLook], ids: list[str]) -> bool:
    """True when none of `ids` is registered with Systems Manager: Session Manager cannot reach
    them either, so looking by hand means SSH."""
    return bool(ids) and all(_unregistered(looks.get(i)) for i in ids)


def how_to_look(ids: list[str], command: str) -> str:
    """A copy-pasteable Run Command line to look by hand (see `look_by_hand` for the Fix)."""
    first = ids[0] if ids else "INSTANCE_ID"
    return (
        f"aws ssm send-command --instance-ids {first} --document-name AWS-RunShellScript "
        f"--parameters 'commands=[\"{command}\"]'"
    )


def look_by_hand(ids: list[str], command: str, why: str = "") -> Fix:
    """The Fix of a check that could not see: the command, through SSM or over SSH."""
    return Fix(
        f"Look by hand{' (' + why + ')' if why else ''}: run `{command}` on the instance, "
        "through SSM Run Command or over SSH.",
        [how_to_look(ids, command), f"sudo {command}   # over SSH, on the instance"],
    )
