"""dest.*: can the agent write where the appspec sends files, and will files already there clash?"""

from __future__ import annotations

import shlex
from typing import Any

from checks import inside
from checks.evidence import InstanceLook
from checks.interpret import count_phrase, group_by, id_list
from checks.model import Fix, Result, fail, info, passed, skip, warn
from checks.registry import check


def _stat(look: InstanceLook, path: str) -> tuple[str, str, int] | None:
    p = look.probes.get(f"stat {path}")
    if p is None or p.rc != 0 or not p.output:
        return None
    try:
        owner_group, mode = p.output.split()[-2:]
        owner, group = owner_group.split(":", 1)
        return owner, group, int(mode, 8)
    except ValueError:
        return None


def can_write(user: str, stat: tuple[str, str, int]) -> bool:
    """Simplified POSIX rule (root writes anything; owner/group by name; other bits)."""
    owner, group, mode = stat
    if user == "root":
        return True
    if owner == user:
        return bool(mode & 0o200)
    if group == user:
        return bool(mode & 0o020)
    return bool(mode & 0o002)


def _agent_user(look: InstanceLook) -> str:
    p = look.probes.get("agent-user")
    if p is not None and p.rc == 0 and p.output.strip():
        return p.output.strip().splitlines()[0].strip()
    return "root"


def _clash_origin(ctx) -> dict[str, Any]:
    """Why files already there are foreign: the agent replaces only what the last install *of
    this deployment group* wrote (its cleanup file is keyed by the group's id, Installer in
    aws-codedeploy-agent), so anything else — a re-created group (new id), another group or
    application writing the same folder, a manual copy, a baked AMI — clashes under DISALLOW."""
    out: dict[str, Any] = {"earlier_deployments": None, "why": ""}
    try:
        cd = ctx.ev.client("codedeploy")
        ids = cd.list_deployments(
            applicationName=ctx.ev.application, deploymentGroupName=ctx.ev.group_name
        ).get("deployments", [])
        others = cd.list_deployment_groups(applicationName=ctx.ev.application).get(
            "deploymentGroups", []
        )
    except Exception:  # evidence for the wording only
        return out
    earlier = [i for i in ids if i != ctx.ev.deployment_id]
    out["earlier_deployments"] = len(earlier)
    out["other_groups"] = [g for g in others if g != ctx.ev.group_name][:5]
    if not earlier:
        out["why"] = (
            " (this is the group's first deployment: a re-created group, another group or a "
            "manual copy left them)"
        )
    elif out["other_groups"]:
        out["why"] = f" (another group may write there too: {', '.join(out['other_groups'][:2])})"
    return out


def _clash_fix(path: str, appspec_path: str) -> Fix:
    """Cheapest and safest first: one deployment that overwrites (from then on this group owns
    the files), then making it the rule, then removing the files by hand."""
    return Fix(
        "Deploy once with --file-exists-behavior OVERWRITE (this group then owns the files and "
        f"replaces them itself); or set `file_exists_behavior: OVERWRITE` in {appspec_path} to "
        "keep overwriting; or remove the files by hand on the instances.",
        [
            "wizard deploy --file-exists-behavior OVERWRITE",
            f"sudo rm {shlex.quote(path)}   # on each instance, if nothing else needs it",
        ],
    )


def _targets(ctx, *, runas: bool = False) -> tuple[list[str], str]:
    """Instances whose destinations matter, and why the others are not looked at.

    Preflight: every instance. A deployment: the instances that failed at Install (a later
    failure means the files were written, so the destination was writable and nothing clashed),
    plus, for `runas`, those whose hook failed.
    """
    ev = ctx.ev
    if not ev.deployment():
        return inside.ids_to_look_at(ev), ""
    events = {"Install"} | (
        {"AfterInstall", "ApplicationStart", "ValidateService"} if runas else set()
    )
    ids = [f.instance_id for f in ev.failures() if f.event in events]
    if not ids and not ctx.targets_total():
        return [], ""  # nothing to look at: the deployment had no instances
    return sorted(ids), "no instance failed at Install"


def _spec(ctx) -> dict[str, Any] | None:
    try:
        spec = ctx.ev.appspec()
    except Exception:
        return None
    return spec if spec.get("appspec_path") else None


@check(
    "dest.writable",
    "Destinations writable, runas users exist",
    requires=("bundle.appspec",),
    priority=45,
    timeout=150,
)
def writable(ctx) -> Result:
    """Destinations are writable by the agent user, and every hook's `runas` user exists."""
    spec = _spec(ctx)
    if spec is None:
        return skip("no appspec to read destinations from")
    dests = sorted((spec.get("destinations") or {}).keys())
    runas = spec.get("runas") or []
    evidence: dict[str, Any] = {"destinations": dests, "runas": runas}
    total = len(ctx.ev.instances()) or None
    pointed = ctx.pointed("dest.writable")
    ids, not_reached = _targets(ctx, runas=bool(runas))
    problems: dict[str, list[str]] = {}
    fixes: dict[str, Fix] = {}
    unseen: list[str] = []
    if ids:
        looks = inside.look(ctx.ev)
        for iid in ids:
            look = looks.get(iid)
            if look is None or not look.seen:
                unseen.append(iid)
                continue
            user = _agent_user(look)
            for dest in dests:
                for p in inside.parents(dest):
                    st = _stat(look, p)
                    if st is None:
                        continue  # missing: the agent creates it if the parent is writable
                    if not can_write(user, st):
                        key = (
                            f"{p} is {st[0]}:{st[1]} {st[2]:o}, "
                            f"not writable by the agent user {user}"
                        )
                        problems.setdefault(key, []).append(iid)
                        fixes[key] = Fix(
                            f"Create {dest} owned by the agent user {user} (or run the agent as "
                            "root), so it can write there.",
                            [f"sudo install -d -o {user} -g {user} -m 755 {dest}"]
                            + ([] if p == dest else [f"# {p} itself can stay {st[0]}:{st[1]}"]),
                        )
                    break
            for u in runas:
                probe = look.probes.get(f"id {u}")
                if probe is not None and probe.rc not in (0, None):
                    problems.setdefault(f"runas user {u} does not exist", []).append(iid)
                elif u != "root" and user != "root":
                    problems.setdefault(
                        f"runas {u} needs the agent to run as root (it runs as {user})", []
                    ).append(iid)
    if problems:
        groups = sorted(problems.items(), key=lambda kv: -len(kv[1]))
        evidence["problems"] = dict(groups)
        what = groups[0][0]
        summary = "; ".join(f"{count_phrase(len(v), total)}: {k}" for k, v in groups)
        if what.startswith("runas user"):
            u = what.split()[2]
            fix = Fix(
                f"Create the user {u} on the instances (or change the hook's runas).",
                [f"sudo useradd --system {u}"],
            )
        elif what in fixes:
            fix = fixes[what]
        else:
            fix = Fix(
                "Run the agent as root (the default), or drop `runas` from the hooks.",
                ["sudo systemctl edit codedeploy-agent   # remove User= from the unit"],
            )
        return fail(
            summary, evidence=evidence, instances=sorted({i for _, v in groups for i in v}), fix=fix
        )
    if pointed:
        first = pointed[0]
        evidence["message"] = first.message[:500]
        msg_ids = sorted(f.instance_id for f in pointed)
        looks = inside.look(ctx.ev)
        detail = f" (could not look inside: {inside.why_unseen(looks, unseen)})" if unseen else ""
        return fail(
            f"{count_phrase(len(msg_ids), total)}: {first.cause.label} — "
            f"{first.message[:160]}{detail}",
            evidence=evidence,
            instances=msg_ids,
            fix=Fix(
                "Make the destination writable by the agent user, and create runas users.",
                [inside.how_to_look(msg_ids, f"stat -c '%U:%G %a' {dests[0] if dests else '/'}")],
            ),
        )
    if unseen:
        return warn(
            f"could not look inside {count_phrase(len(unseen), total)} "
            f"({inside.why_unseen(inside.look(ctx.ev), unseen)})",
            evidence=evidence,
            instances=unseen,
            fix=inside.look_by_hand(unseen, f"stat -c '%U:%G %a' {dests[0] if dests else '/'}"),
        )
    if not ids:
        if (ctx.ev.deployment() or {}).get("status") == "Succeeded":
            return passed(
                "the deployment wrote every destination and ran its hooks", evidence=evidence
            )
        return (info if not_reached else skip)(
            f"not checked: {not_reached}" if not_reached else "nothing to look at: no instances",
            evidence=evidence,
        )
    return passed(
        f"{', '.join(dests) or 'no destinations'} writable on {count_phrase(len(ids), total)} "
        "looked at" + (f"; runas users exist ({', '.join(runas)})" if runas else ""),
        evidence=evidence,
    )


@check(
    "dest.file-exists",
    "No clash with files already there",
    requires=("bundle.appspec",),
    priority=47,
    timeout=150,
)
def file_exists(ctx) -> Result:
    """Deployed files clash with files already there under the effective file_exists_behavior."""
    spec = _spec(ctx)
    if spec is None:
        return skip("no appspec to read destinations from")
    dep = ctx.ev.deployment() or {}
    behavior = spec.get("file_exists_behavior") or dep.get("fileExistsBehavior") or "DISALLOW"
    source = (
        "appspec"
        if spec.get("file_exists_behavior")
        else ("deployment" if dep.get("fileExistsBehavior") else "default")
    )
    landing: dict[str, list[str]] = spec.get("destinations") or {}
    evidence: dict[str, Any] = {"file_exists_behavior": behavior, "behavior_from": source}
    total = len(ctx.ev.instances()) or None
    pointed = ctx.pointed("dest.file-exists")
    if pointed:
        groups = group_by(pointed, lambda f: f.message.split("location:")[-1].strip()[:200])
        evidence["clashes"] = {k: [f.instance_id for f in v] for k, v in groups}
        msg_ids = sorted(f.instance_id for f in pointed)
        path = groups[0][0] or "the destination"
        origin = _clash_origin(ctx)
        evidence["group_history"] = origin
        return fail(
            f"{count_phrase(len(msg_ids), total)}: {path} already exists and was not put there "
            f"by this deployment group{origin['why']} (file_exists_behavior {behavior} from the "
            f"{source})",
            evidence=evidence,
            instances=msg_ids,
            fix=_clash_fix(path, spec.get("appspec_path") or "appspec.yml"),
        )
    if behavior != "DISALLOW":
        return passed(
            f"file_exists_behavior is {behavior} (from the {source}): existing files are handled",
            evidence=evidence,
        )
    ids, not_reached = _targets(ctx)
    if not ids:
        if ctx.ev.deployment() and ctx.ev.deployment().get("status") == "Succeeded":
            return passed("no file clashed during the deployment", evidence=evidence)
        return (info if not_reached else skip)(
            f"not checked: {not_reached}" if not_reached else "nothing to look at: no instances",
            evidence=evidence,
        )
    looks = inside.look(ctx.ev)
    clashes: dict[str, list[str]] = {}
    unseen = []
    for iid in ids:
        look = looks.get(iid)
        if look is None or not look.seen:
            unseen.append(iid)
            continue
        for dest, names in landing.items():
            p = look.probes.get(f"ls {dest}")
            if p is None or p.rc != 0:
                continue
            there = set(p.output.split())
            for name in sorted(there & set(names)):
                clashes.setdefault(f"{dest.rstrip('/')}/{name}", []).append(iid)
    if clashes:
        evidence["clashes"] = clashes
        first, cids = max(clashes.items(), key=lambda kv: len(kv[1]))
        fix = _clash_fix(first, spec.get("appspec_path") or "appspec.yml")
        previous = (
            (ctx.ev.group() or {}).get("lastSuccessfulDeployment") if ctx.ev.group_name else None
        )
        status = warn if previous else fail
        extra = " (unless the last successful deployment put them there)" if previous else ""
        return status(
            f"{count_phrase(len(cids), total)}: {first} already exists and file_exists_behavior "
            f"is DISALLOW{extra}",
            evidence=evidence,
            instances=sorted({i for v in clashes.values() for i in v}),
            fix=fix,
        )
    if unseen:
        return warn(
            f"could not look inside {count_phrase(len(unseen), total)} ({id_list(unseen, 3)})",
            evidence=evidence,
            instances=unseen,
            fix=inside.look_by_hand(unseen, f"ls -A {next(iter(landing), '/')}"),
        )
    return passed(
        f"nothing at {', '.join(landing) or 'the destinations'} clashes with the bundle",
        evidence=evidence,
    )
