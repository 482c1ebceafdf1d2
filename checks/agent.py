"""agent.*: the CodeDeploy agent on each instance: installed, running, and able to work.

The lifecycle is evidence first: an instance where the agent ran an event needs no look inside. The
others are looked at through SSM Run Command; where SSM is offline the check says it could not see
and gives the command to look by hand.
"""

from __future__ import annotations

import re
from typing import Any

from checks import agentinfo, inside
from checks.interpret import count_phrase, group_by, id_list
from checks.model import Fix, Result, Status, fail, info, passed, skip, warn
from checks.registry import check

INSTALL_DOC = "AWS-ConfigureAWSPackage"


def _suffix(region: str) -> str:
    return "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"


def install_fix(
    region: str, online: list[str], *, update: bool = False, ids: list[str] | None = None
) -> Fix:
    """Install (or update) the agent: through SSM when it can reach them (`online`), else on the
    instance; `ids` names the instances in the commands when SSM cannot reach them."""
    verb = "Update" if update else "Install"
    ids = " ".join((online or ids or [])[:5]) or "INSTANCE_ID"
    cmds = [
        f"aws ssm send-command --document-name {INSTALL_DOC} --instance-ids {ids} "
        "--parameters action=Install,name=AWSCodeDeployAgent",
        # the installer is a Ruby script: without ruby (and wget) it cannot run
        "(sudo dnf install -y ruby wget || sudo yum install -y ruby wget || sudo apt-get install "
        f"-y ruby-full wget) && wget https://aws-codedeploy-{region}.s3.{region}."
        f"{_suffix(region)}/latest/install && chmod +x install && sudo ./install auto && sudo "
        "systemctl start codedeploy-agent   # or on the instance",
    ]
    return Fix(
        f"{verb} the CodeDeploy agent ({INSTALL_DOC} through SSM, or the install script on the "
        "instance).",
        cmds,
        automatic=bool(online),
        action="install-agent" if online else None,
        params={"instances": online} if online else {},
    )


def start_fix(online: list[str], region: str) -> Fix:
    """Installed but stopped: start it first; reinstall only if it does not stay up."""
    ids = " ".join(online[:5]) or "INSTANCE_ID"
    return Fix(
        "Start the CodeDeploy agent (sudo systemctl start codedeploy-agent); only if it does not "
        "stay running, read its log and reinstall it.",
        [
            "sudo systemctl start codedeploy-agent   # on the instance",
            f"aws ssm send-command --document-name AWS-RunShellScript --instance-ids {ids} "
            "--parameters 'commands=[\"systemctl enable --now codedeploy-agent\"]'"
            "   # or through SSM (what --fix does)",
            f"sudo tail -n 50 {inside.AGENT_LOG}   # on the instance, if it stops again",
            install_fix(region, online).commands[0] + "   # reinstall, only if start fails",
        ],
        automatic=bool(online),
        action="start-agent" if online else None,
        params={"instances": online} if online else {},
    )


LOOK_IN_ORDER = [
    "systemctl status codedeploy-agent",
    f"cat {inside.VERSION_FILE}",
    f"sudo tail -n 50 {inside.AGENT_LOG}",
    "sudo journalctl -u codedeploy-agent -n 20 --no-pager   # why it died at start",
    f"sudo tail -n 30 {agentinfo.INSTALLER_LOG}",
    f"sudo grep -E -i 'error|failed|not found' {inside.CLOUD_INIT_LOG}   # the user data's run",
]


def _platform(ev, iid: str) -> tuple[str, str] | None:
    try:
        ssm = ev.ssm_info().get(iid)
    except Exception:  # SSM may be denied: the AMI still tells
        ssm = None
    try:
        image = ev.images().get((ev.instances().get(iid) or {}).get("ImageId", ""))
    except Exception:
        image = None
    return agentinfo.os_of(ssm, image)


def _last_error(text: str) -> str:
    lines = [ln.strip() for ln in (text or "").splitlines() if ln.strip()]
    errs = [ln for ln in lines if "ERROR" in ln or "rror" in ln or "LoadError" in ln]
    return (errs or lines or [""])[-1][-200:]


# the installer's lines that say why, before its generic "Error installing FILE" (bin/install
# runs gdebi / yum / zypper and logs their output, then the error)
_CAUSE_LINE = re.compile(
    r"not satisfiable|uninstallable|No package|Nothing to do|No match for|[Dd]ependenc|"
    r"Unable to locate|Could not resolve|Access Denied|403|404|certificate|No space left"
)
_NO_RUBY = re.compile(r"ruby\W{0,3}: (?:[Nn]o such file|command not found|not found)")


def _probe_text(look, *names: str) -> str:
    return "\n".join(p.output for k in names if (p := look.probes.get(k)) is not None and p.rc == 0)


def _installer_error(text: str) -> str:
    """The line of the installer's log that says why it failed (else its last error)."""
    lines = [ln.strip() for ln in (text or "").splitlines() if ln.strip()]
    cause = [ln for ln in lines if _CAUSE_LINE.search(ln)]
    return cause[-1][-200:] if cause else _last_error(text)


def _ruby(look) -> tuple[int, int] | bool | None:
    """The instance's Ruby (3, 2); False when there is none; None when not probed."""
    p = look.probes.get("ruby")
    if p is None:
        return None
    if p.rc == 0:
        m = re.search(r"ruby (\d+)\.(\d+)", p.output)
        return (int(m.group(1)), int(m.group(2))) if m else None
    return False if p.rc == 127 or _NO_RUBY.search(p.output) else None


def _state(ev, iid: str, look) -> dict[str, Any]:
    """One instance's agent, as the probes and the APIs show it.

    state: running | stopped | absent | incompatible | unknown; with version, os, the user
    data's pin, and `why`: the log, journal or installer line that explains it. Sources: the
    agent's version file and log, `journalctl -u codedeploy-agent` (a service that dies at start
    logs there), the installer's log (/tmp/codedeploy-agent.update.log, bin/install) and
    cloud-init's output (a user-data script that failed before the installer ran).
    """
    st = inside.agent_state(look)
    version_text = inside.agent_version(look)
    version = agentinfo.parse_version(version_text)
    os_ = _platform(ev, iid)
    ud = agentinfo.installer_in_user_data(ev.user_data(iid))
    ruby = _ruby(look)
    out: dict[str, Any] = {
        "state": st,
        "version": version,
        "os": os_,
        "pinned": ud.get("pinned"),
        "ruby": ruby,
    }
    log_text = _probe_text(look, "agent-log", "journal")
    need = agentinfo.min_agent_for(os_)
    crash = re.search(r"LoadError|cannot load such file|incompatible library version", log_text)
    if crash:
        out["log"] = _last_error(log_text)
    if st == "stopped" and version and need and version < need[0]:
        out["state"] = "incompatible"
        out["why"] = f"agent {agentinfo.show(version)} on {need[1]}"
        if crash:
            out["why"] += f"; it crashes at start: {_last_error(log_text)}"
    elif st == "stopped" and crash:
        out["state"] = "incompatible"
        out["why"] = f"it crashes at start: {_last_error(log_text)}"
    elif st == "absent":
        inst_text = _probe_text(look, "installer-log")
        ci_text = _probe_text(look, "cloud-init")
        pinned = ud.get("pinned")
        if inst_text and re.search(r"ERROR|rror|not satisfiable|[Ff]ailed", inst_text):
            out["why"] = f"the installer failed: {_installer_error(inst_text)}"
            # bin/install's Ruby check: "Current running Ruby version for root is 3.3.0, but
            # Ruby version 2.x, 3.x needs to be installed"
            out["no_ruby"] = bool(re.search(r"Ruby version .* needs to be installed", inst_text))
            if pinned and need and pinned < need[0]:
                out["why"] += f"; agent {agentinfo.show(pinned)} does not run on {need[1]}"
        elif ud.get("known") and not ud.get("installs"):
            out["why"] = "the instance's user data does not install it"
        elif _NO_RUBY.search(ci_text) or (ruby is False and ud.get("installs")):
            seen = next((ln for ln in ci_text.splitlines() if _NO_RUBY.search(ln)), "")
            out["why"] = "the installer is a Ruby script and Ruby is not installed" + (
                f" (cloud-init: {seen.strip()[-120:]})" if seen else ""
            )
            out["no_ruby"] = True
        elif ud.get("known"):
            out["why"] = "the user data installs it, but the installer left no log"
            if ci_text:
                out["why"] += f" (cloud-init: {_last_error(ci_text)[-120:]})"
    return out


@check(
    "agent.running",
    "CodeDeploy agent running",
    after=("iam.instance-profile",),
    priority=25,
    timeout=150,
)
def running(ctx) -> Result:
    """The CodeDeploy agent is installed and running on every instance, and fits its OS."""
    ev = ctx.ev
    insts = ev.instances()
    if not insts:
        return skip("nothing to look at: no instances")
    total = len(insts)
    dep = ev.deployment()
    evidence: dict[str, Any] = {}
    if dep:
        reached = inside.agent_reached_ids(ev)
        waiting = inside.waiting_ids(ev)
        failed = [i for i in ev.failed_target_ids() if i in insts]
        running_now = {i for i, d in insts.items() if d.get("State", {}).get("Name") == "running"}
        # a waiting instance that is not running has no agent to wait for: deployment.status
        # says so; a failed one whose lifecycle shows no agent still needs explaining
        need = sorted({i for i in failed if i not in reached} | (set(waiting) & running_now))
        evidence["agent_seen_in_lifecycle"] = len(reached) + int(
            (dep.get("deploymentOverview") or {}).get("Succeeded", 0)
        )
        if not need:
            return passed(
                f"the agent ran lifecycle events on every instance it was asked to ({len(failed)} "
                "failed later)"
                if failed
                else "the agent ran the deployment on every instance",
                evidence=evidence,
            )
    else:
        need = inside.ids_to_look_at(ev)
    looks = inside.look(ev)
    states: dict[str, dict[str, Any]] = {}
    unseen: list[str] = []
    for iid in need:
        look = looks.get(iid)
        if look is None or not look.seen:
            unseen.append(iid)
            continue
        states[iid] = _state(ev, iid, look)
    versions = sorted({agentinfo.show(s["version"]) for s in states.values() if s["version"]})
    evidence["agent_states"] = {
        k: len(v) for k, v in group_by(states.items(), lambda kv: kv[1]["state"])
    }
    evidence["versions"] = versions
    evidence["could_not_look"] = {
        i: (looks[i].detail if i in looks else "not running") for i in unseen[:20]
    }
    by_state: dict[str, list[str]] = {}
    for iid, st in sorted(states.items()):
        by_state.setdefault(st["state"], []).append(iid)
    for kind in ("incompatible", "absent", "stopped", "unknown"):
        ids = by_state.get(kind)
        if not ids:
            continue
        first = states[ids[0]]
        why = first.get("why")
        evidence["explanation"] = why
        words = {
            "absent": "agent not installed",
            "stopped": "agent installed but not running",
            "unknown": "agent state unknown",
            "incompatible": "agent installed but it cannot run on this OS",
        }[kind]
        others = [
            f"{count_phrase(len(v), total)}: {k}"
            for k, v in by_state.items()
            if k not in (kind, "running")
        ]
        summary = f"{count_phrase(len(ids), total)}: {words}" + (f" ({why})" if why else "")
        if others:
            summary += "; " + "; ".join(others)
        if kind == "stopped":
            fix = start_fix(ids, ev.region)
        elif kind == "incompatible":
            fix = install_fix(ev.region, ids, update=True)
            pin = first.get("pinned")
            fix.summary = (
                f"Update the agent to the current release ({why}): {INSTALL_DOC} through SSM "
                "installs the latest for this OS"
                + (
                    f"; drop the version pin ({agentinfo.show(pin)}) from the user data."
                    if pin
                    else "."
                )
            )
        elif kind == "absent" and first.get("no_ruby"):
            fix = install_fix(ev.region, ids)
            fix.summary = (
                "Install Ruby first (a version the agent supports), then the agent: the user data "
                f"must install ruby (and wget) before it runs the agent's installer ({why})."
            )
        elif kind == "absent" and first.get("pinned"):
            fix = install_fix(ev.region, ids)
            fix.summary = (
                "Install the current agent and drop the version pin "
                f"({agentinfo.show(first['pinned'])}) from the user data ({why})."
            )
        else:
            fix = install_fix(ev.region, ids)
            if why:
                fix.summary = fix.summary.rstrip(".") + f": {why}."
        return fail(summary, evidence=evidence, instances=ids, fix=fix)
    if unseen:
        return _unseen(ctx, unseen, total, evidence)
    vtext = f" ({', '.join(versions)})" if versions else ""
    cut_off = [f for f in ctx.pointed("agent.running") if f.cause.key == "no-network"]
    if cut_off:
        ids = sorted(f.instance_id for f in cut_off)
        region = ev.region
        evidence["message"] = cut_off[0].message[:500]
        subnet = (insts.get(ids[0]) or {}).get("SubnetId") or "SUBNET_ID"
        return fail(
            f"{count_phrase(len(ids), total)}: the agent runs{vtext} but cannot reach CodeDeploy "
            "or S3 (no network path)",
            evidence=evidence,
            instances=ids,
            fix=Fix(
                "Give the instances a path to HTTPS: a public IP and an internet gateway, or a NAT "
                f"gateway, or VPC endpoints (com.amazonaws.{region}.codedeploy-commands-secure and "
                "an S3 gateway endpoint); allow outbound 443 in the security group and NACLs.",
                [
                    f"curl -sS -o /dev/null -w '%{{http_code}}\\n' "
                    f"https://codedeploy-commands.{region}.amazonaws.com   # on the instance",
                    "aws ec2 describe-route-tables --filters Name=association.subnet-id,"
                    f"Values={subnet}",
                ],
            ),
        )
    return passed(
        f"the agent is running on {count_phrase(len(states), total)} looked at{vtext}",
        evidence=evidence,
    )


def _unseen(ctx, unseen: list[str], total: int, evidence: dict[str, Any]) -> Result:
    """SSM could not look inside: say what the APIs showed, and how to look, in order."""
    ev = ctx.ev
    first = unseen[0]
    inst = ev.instances().get(first) or {}
    ud = agentinfo.installer_in_user_data(ev.user_data(first))
    os_ = _platform(ev, first)
    tokens = (inst.get("MetadataOptions") or {}).get("HttpTokens")
    seen: list[str] = []
    if ud.get("known"):
        seen.append(
            "the user data installs the agent"
            + (f" (pinned to {agentinfo.show(ud['pinned'])})" if ud.get("pinned") else "")
            if ud.get("installs")
            else "the user data does not install the agent"
        )
    if os_:
        seen.append(f"{os_[0]} {os_[1]}".strip())
    if tokens:
        seen.append(f"HttpTokens={tokens}")
    evidence["seen_from_apis"] = seen
    pointed = {f.instance_id for f in ctx.pointed("agent.running")}
    blind = [i for i in unseen if i in pointed or i in inside.stuck_ids(ev)]
    profile = ctx.result("iam.instance-profile")
    explained = set(profile.instances) if profile and profile.status is Status.FAIL else set()
    explained |= ctx.fixed_instances
    rest = [i for i in blind if i not in explained]
    seen_text = f"; the APIs show: {', '.join(seen)}" if seen else ""
    how = inside.how_to_look(unseen, "systemctl status codedeploy-agent")
    looks = inside.look(ev)
    why = inside.why_unseen(looks, unseen)
    # Session Manager reaches only instances registered with Systems Manager
    by = "over SSH" if inside.only_ssh(looks, unseen) else "SSH or Session Manager"
    if rest and ud.get("known") and not ud.get("installs"):
        return fail(
            f"{count_phrase(len(rest), total)}: the agent never picked up the lifecycle event, and "
            f"the instance's user data does not install it (could not look inside: {why})",
            evidence=evidence,
            instances=rest,
            fix=install_fix(ev.region, [], ids=rest),
        )
    look_cmds = [f"sudo {c}" if not c.startswith("sudo") else c for c in LOOK_IN_ORDER[:1]]
    look_cmds += LOOK_IN_ORDER[1:]
    need = agentinfo.min_agent_for(os_)
    pin = ud.get("pinned")
    likely = None
    if rest and ud.get("installs") and pin and need and pin < need[0]:
        likely = (
            f"the user data pins agent {agentinfo.show(pin)}, and {need[1]}",
            f"Update the agent and drop the version pin ({agentinfo.show(pin)}) from the user data",
        )
    elif rest and ud.get("installs") and ud.get("without_ruby"):
        likely = (
            "the user data runs the agent's installer (a Ruby script) without installing Ruby",
            "Install Ruby first (dnf/yum/apt-get install ruby in the user data), then the agent",
        )
    if likely:
        evidence["likely"] = likely[0]
        fix = install_fix(ev.region, [], ids=rest)
        return fail(
            f"{count_phrase(len(rest), total)}: the agent never picked up the lifecycle event; "
            f"could not look inside ({why}), but {likely[0]}",
            evidence=evidence,
            instances=rest,
            fix=Fix(
                f"{likely[1]}; to confirm first, look on the instance ({by}) "
                "in this order: is the agent running, which version, what its journal and the "
                "installer's log say.",
                [*look_cmds, *fix.commands[1:]],
            ),
        )
    if rest:
        return fail(
            f"{count_phrase(len(rest), total)}: the agent never picked up the lifecycle event; "
            f"could not look inside ({why}){seen_text}",
            evidence=evidence,
            instances=rest,
            fix=Fix(
                f"Look on the instance ({by}), in this order: is the agent "
                "running, which version, what its log and the installer's log say; then start, "
                "update or install it accordingly.",
                [*look_cmds, how],
            ),
        )
    note = (
        " (a fix just applied, or the instance profile problem, explains the failure)"
        if blind
        else ""
    )
    return warn(
        f"could not look inside {count_phrase(len(unseen), total)} ({why}){note}{seen_text}",
        evidence=evidence,
        instances=sorted(unseen),
        fix=Fix(
            f"Look on the instance, in this order ({by}):",
            [*LOOK_IN_ORDER, how],
        ),
    )


def _pointed_result(ctx, check_id: str, what: str, fix: Fix) -> Result | None:
    pointed = ctx.pointed(check_id)
    if not pointed:
        return None
    overview = (ctx.ev.deployment() or {}).get("deploymentOverview") or {}
    total = sum(int(v or 0) for v in overview.values()) or None
    first = pointed[0]
    ev = {"message": first.message[:500], "event": first.event, "log_tail": first.log_tail[-1500:]}
    ids = sorted(f.instance_id for f in pointed)
    return fail(
        f"{count_phrase(len(ids), total)}: {what} ({id_list(ids, 3)})",
        evidence=ev,
        instances=ids,
        fix=fix,
    )


def _no_sign(ctx, what: str) -> Result:
    empty = ctx.nothing_to_read()
    if empty is not None:
        return empty
    if ctx.ev.deployment():
        return passed(f"no lifecycle event failed with {what}")
    return info(f"nothing to read before a deployment ({what} shows in lifecycle messages)")


@check("agent.clock", "Instance clock in sync", priority=26)
def clock(ctx) -> Result:
    """A skewed clock makes every signed request fail with 'Signature expired'."""
    res = _pointed_result(
        ctx,
        "agent.clock",
        "the instance clock is off and AWS rejects the agent's requests (Signature expired)",
        Fix(
            "Sync the clock (chrony / Amazon Time Sync Service at 169.254.169.123), then restart "
            "the agent.",
            ["sudo chronyc makestep", "sudo systemctl restart codedeploy-agent"],
        ),
    )
    return res or _no_sign(ctx, "'Signature expired'")


_VERSION = re.compile(r"(\d+)\.(\d+)\.(\d+)")


@check("agent.imds", "Agent can read instance metadata", priority=27)
def imds(ctx) -> Result:
    """With IMDSv2 required (HttpTokens=required), an agent older than 1.2.1 gets HTTP 401 from
    the instance metadata service and never polls (agentinfo.IMDSV2_MIN)."""
    ev = ctx.ev
    insts = ev.instances()
    if not insts:
        return skip("nothing to look at: no instances")
    required = sorted(
        i
        for i, inst in insts.items()
        if (inst.get("MetadataOptions") or {}).get("HttpTokens") == "required"
    )
    total = len(insts)
    pointed = ctx.pointed("agent.imds")
    log_401 = [f for f in pointed if f.cause.key == "imdsv2"]
    evidence: dict[str, Any] = {"imdsv2_required_on": len(required)}
    if not required and not log_401:
        return passed(
            f"IMDSv2 is optional on {count_phrase(total, total)}: any agent can read its metadata",
            evidence=evidence,
        )
    # the agent's version: from inside (Run Command) or, when SSM cannot see, the user data's pin
    old: dict[str, str] = {}
    unknown: list[str] = []
    try:
        looks = inside.look(ev)
    except Exception:  # SSM denied or unreachable: the user data may still tell the version
        looks = {}
    for iid in required:
        look = looks.get(iid)
        version = (
            agentinfo.parse_version(inside.agent_version(look)) if look and look.seen else None
        )
        source = "agent"
        if version is None:
            ud = agentinfo.installer_in_user_data(ev.user_data(iid))
            version, source = ud.get("pinned"), "pinned in the user data"
        if version is None:
            unknown.append(iid)
        elif version < agentinfo.IMDSV2_MIN:
            old[iid] = (
                f"{agentinfo.show(version)} ({source})"
                if source != "agent"
                else agentinfo.show(version)
            )
    evidence["old_agents"] = old
    ids = sorted(set(old) | {f.instance_id for f in log_401})
    if ids:
        ver = next(iter(old.values()), None)
        vtext = f"agent {ver}" if ver else "the agent"
        online = [i for i in ids if (looks.get(i) is not None and looks[i].seen)]
        fix = Fix(
            f"Update the agent (IMDSv2 needs {agentinfo.show(agentinfo.IMDSV2_MIN)} or later; "
            "drop any version pin in the user data), or set HttpTokens optional (IMDSv1 allowed) "
            "on these instances until it is updated.",
            [
                install_fix(ev.region, online or ids).commands[0],
                f"aws ec2 modify-instance-metadata-options --instance-id {ids[0]} "
                "--http-tokens optional --http-endpoint enabled   # meanwhile, IMDSv1 allowed",
            ],
            automatic=bool(online),
            action="install-agent" if online else None,
            params={"instances": online} if online else {},
        )
        return fail(
            f"{count_phrase(len(ids), total)}: HttpTokens=required (IMDSv2 only) and {vtext} "
            f"predates IMDSv2 support ({agentinfo.show(agentinfo.IMDSV2_MIN)}): it gets HTTP 401 "
            "from the metadata service and never polls",
            evidence=evidence,
            instances=ids,
            fix=fix,
        )
    waiting = set(inside.waiting_ids(ev)) | {
        f.instance_id for f in ctx.pointed("agent.running") if f.cause.key == "agent-not-receiving"
    }
    blind = [i for i in unknown if i in waiting]
    if blind:
        return warn(
            f"{count_phrase(len(blind), total)}: HttpTokens=required and the agent's version "
            f"could not be seen: an agent older than {agentinfo.show(agentinfo.IMDSV2_MIN)} "
            "cannot start there",
            evidence=evidence,
            instances=blind,
            fix=Fix(
                "Look at the agent's version and log on the instance (a 401 from the metadata "
                "service means it is too old).",
                [
                    f"cat {inside.VERSION_FILE}",
                    f"sudo grep -c 'metadata service, code 401' {inside.AGENT_LOG}",
                ],
            ),
        )
    if unknown and not ev.deployment():
        return info(
            f"IMDSv2 is required on {count_phrase(len(required), total)}; the agent's version "
            f"could not be seen on {len(unknown)} (it must be "
            f"{agentinfo.show(agentinfo.IMDSV2_MIN)} or later)",
            evidence=evidence,
        )
    return passed(
        f"IMDSv2 is required on {count_phrase(len(required), total)} and the agent there is new "
        "enough (it ran the deployment, or its version says so)",
        evidence=evidence,
    )


@check("agent.restart", "No agent restart mid-event", priority=28)
def restart(ctx) -> Result:
    """'Failing in-progress lifecycle event after an agent restart': the agent restarted."""
    res = _pointed_result(
        ctx,
        "agent.restart",
        "the agent restarted while a lifecycle event ran (update, reboot, or OOM?)",
        Fix(
            "Find why the agent restarted (agent log, reboots, memory), then deploy again.",
            [
                "sudo tail -n 100 /var/log/aws/codedeploy-agent/codedeploy-agent.log",
                "wizard deploy",
            ],
        ),
    )
    return res or _no_sign(ctx, "an agent restart")
