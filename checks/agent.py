"""agent.*: the CodeDeploy agent on each instance: installed, running, and able to work.

The lifecycle is evidence first: an instance where the agent ran an event needs no look inside. The
others are looked at through SSM Run Command; where SSM is offline the check says it could not see
and gives the command to look by hand.
"""

from __future__ import annotations

import re
from typing import Any

from checks import inside
from checks.interpret import count_phrase, group_by, id_list
from checks.model import Fix, Result, Status, fail, info, passed, skip, warn
from checks.registry import check

INSTALL_DOC = "AWS-ConfigureAWSPackage"


def _suffix(region: str) -> str:
    return "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"


def install_fix(region: str, online: list[str]) -> Fix:
    cmds = [
        f"aws ssm send-command --document-name {INSTALL_DOC} --instance-ids "
        f"{' '.join(online[:5]) or 'INSTANCE_ID'} "
        "--parameters action=Install,name=AWSCodeDeployAgent",
        # the installer is a Ruby script: without ruby (and wget) it cannot run
        "# or on the instance: (sudo dnf install -y ruby wget || sudo yum install -y ruby wget "
        "|| sudo apt-get install -y ruby-full wget) && wget "
        f"https://aws-codedeploy-{region}.s3.{region}.{_suffix(region)}/latest/install "
        "&& chmod +x install && sudo ./install auto && sudo systemctl start codedeploy-agent",
    ]
    return Fix(
        f"Install and start the CodeDeploy agent ({INSTALL_DOC} through SSM, or the install "
        "script).",
        cmds,
        automatic=bool(online),
        action="install-agent" if online else None,
        params={"instances": online} if online else {},
    )


@check(
    "agent.running",
    "CodeDeploy agent running",
    after=("iam.instance-profile",),
    priority=25,
    timeout=150,
)
def running(ctx) -> Result:
    """The CodeDeploy agent is installed and running on every instance."""
    ev = ctx.ev
    insts = ev.instances()
    if not insts:
        return skip("no instances to look at")
    total = len(insts)
    dep = ev.deployment()
    evidence: dict[str, Any] = {}
    if dep:
        reached = inside.agent_reached_ids(ev)
        failed = [i for i in ev.failed_target_ids() if i in insts]
        need = [i for i in failed if i not in reached]
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
    states: dict[str, str] = {}
    versions: dict[str, str] = {}
    unseen: list[str] = []
    for iid in need:
        look = looks.get(iid)
        if look is None or not look.seen:
            unseen.append(iid)
            continue
        states[iid] = inside.agent_state(look)
        v = inside.agent_version(look)
        if v:
            versions[iid] = v
    evidence["agent_states"] = {k: len(v) for k, v in group_by(states.items(), lambda kv: kv[1])}
    evidence["versions"] = sorted(set(versions.values()))
    evidence["could_not_look"] = {
        i: (looks[i].detail if i in looks else "not running") for i in unseen[:20]
    }
    bad = {s: [i for i, st in states.items() if st == s] for s in ("absent", "stopped", "unknown")}
    bad = {k: v for k, v in bad.items() if v}
    online = sorted(i for i in states)
    if bad:
        words = {
            "absent": "agent not installed",
            "stopped": "agent installed but not running",
            "unknown": "agent state unknown",
        }
        summary = "; ".join(f"{count_phrase(len(v), total)}: {words[k]}" for k, v in bad.items())
        ids = sorted(i for v in bad.values() for i in v)
        return fail(
            summary,
            evidence=evidence,
            instances=ids,
            fix=install_fix(ev.region, [i for i in ids if i in online]),
        )
    if unseen:
        pointed = {f.instance_id for f in ctx.pointed("agent.running")}
        blind = [i for i in unseen if i in pointed]
        profile = ctx.result("iam.instance-profile")
        explained = set(profile.instances) if profile and profile.status is Status.FAIL else set()
        how = inside.how_to_look(unseen, "systemctl is-active codedeploy-agent")
        if blind and not all(i in explained for i in blind):
            rest = [i for i in blind if i not in explained]
            return fail(
                f"{count_phrase(len(rest), total)}: the agent never picked up the lifecycle event "
                "(SSM offline: could not look inside)",
                evidence=evidence,
                instances=rest,
                fix=Fix(
                    install_fix(ev.region, []).summary
                    + " Confirm first: `systemctl is-active codedeploy-agent` on the instance.",
                    [*install_fix(ev.region, []).commands, how],
                ),
            )
        reason = "SSM offline or not allowed" if unseen else ""
        note = " (the instance profile problem above explains the failure)" if blind else ""
        return warn(
            f"could not look inside {count_phrase(len(unseen), total)} ({reason}){note}",
            evidence=evidence,
            instances=sorted(unseen),
            fix=inside.look_by_hand(unseen, "systemctl is-active codedeploy-agent"),
        )
    vtext = f" ({', '.join(evidence['versions'])})" if evidence["versions"] else ""
    cut_off = [f for f in ctx.pointed("agent.running") if f.cause.key == "no-network"]
    if cut_off:
        ids = sorted(f.instance_id for f in cut_off)
        region = ev.region
        evidence["message"] = cut_off[0].message[:500]
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
                    "Values=SUBNET_ID",
                ],
            ),
        )
    return passed(
        f"the agent is running on {count_phrase(len(states), total)} looked at{vtext}",
        evidence=evidence,
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
    """With IMDSv2 required, an old agent gets HTTP 401 from the instance metadata service."""
    fix = Fix(
        "Update the agent to the current release (old agents cannot use IMDSv2), or allow IMDSv1 "
        "on the instance meanwhile.",
        [
            "aws ssm send-command --document-name AWS-ConfigureAWSPackage --instance-ids "
            "INSTANCE_ID "
            "--parameters action=Install,name=AWSCodeDeployAgent",
            "aws ec2 modify-instance-metadata-options --instance-id INSTANCE_ID --http-tokens "
            "optional",
        ],
    )
    res = _pointed_result(
        ctx,
        "agent.imds",
        "the agent got HTTP 401 from the metadata service (IMDSv2 required, agent too old)",
        fix,
    )
    if res:
        required = [
            i
            for i, inst in ctx.ev.instances().items()
            if (inst.get("MetadataOptions") or {}).get("HttpTokens") == "required"
        ]
        res.evidence["imdsv2_required_on"] = len(required)
        return res
    return _no_sign(ctx, "a metadata service 401")


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
