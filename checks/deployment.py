"""deployment.*: what the deployment itself says (errorInformation and every failed target)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from checks import interpret, pipes
from checks.inside import STUCK_AFTER
from checks.interpret import PREVIOUS_REVISION_EVENTS, count_phrase, group_by
from checks.model import Fix, Result, fail, info, passed, skip, warn
from checks.registry import check

IN_FLIGHT = ("Created", "Queued", "InProgress", "Baking", "Ready")


def failure_groups(failures: list[interpret.Failure], total: int | None) -> list[dict]:
    """Failures that look the same, largest group first, as evidence rows."""
    rows = []
    for (cause, event, code, script), items in group_by(
        failures, lambda f: (f.cause.key, f.event, f.error_code, f.script_name)
    ):
        first = items[0]
        rows.append(
            {
                "cause": cause,
                "explanation": first.cause.label,
                "event": event,
                "error_code": code,
                "script": script,
                "count": len(items),
                "of": total,
                "message": first.message[:500],
                "log_tail": first.log_tail[-2000:],
                "instances": [f.instance_id for f in items],
                "checks": list(first.cause.checks),
            }
        )
    return rows


@check("deployment.status", "Deployment outcome", priority=90)
def status(ctx) -> Result:
    """The deployment's errorInformation and every target's lifecycle diagnostics, interpreted."""
    ev = ctx.ev
    dep = ev.deployment()
    if dep is None:
        return skip("no deployment to look at (preflight)")
    st = dep.get("status", "Unknown")
    err = dep.get("errorInformation") or {}
    code, message = err.get("code"), err.get("message") or ""
    overview = {k: v for k, v in (dep.get("deploymentOverview") or {}).items() if v}
    total = sum(overview.values()) or None
    evidence = {
        "deployment_id": dep.get("deploymentId"),
        "status": st,
        "error_code": code,
        "error_message": message,
        "overview": overview,
        "revision": dep.get("revision"),
        "deployment_config": dep.get("deploymentConfigName"),
        "file_exists_behavior": dep.get("fileExistsBehavior"),
        "creator": dep.get("creator"),
    }
    if st == "Succeeded":
        return passed(
            f"{dep.get('deploymentId')} succeeded on {total or 0} instance(s)", evidence=evidence
        )
    if st in IN_FLIGHT:
        return in_flight(ctx, dep, st, total, evidence)
    failures = ev.failures()
    groups = failure_groups(failures, total)
    evidence["failures"] = groups
    evidence["failed_targets"] = len(failures)
    explained = interpret.DEPLOYMENT_CODES.get(code or "", ((), ""))[1]
    head = f"{st}" + (f" ({code})" if code else "")
    if groups:
        g = groups[0]
        where = f" at {g['event']}" if g["event"] else ""
        summary = f"{head}: {count_phrase(g['count'], total)} failed{where} — {g['explanation']}"
        if len(groups) > 1:
            summary += f" (+{len(groups) - 1} other failure kind{'s' if len(groups) > 2 else ''})"
    else:
        summary = f"{head}: {explained or message or 'no detail from CodeDeploy'}"
    ids = sorted({i for g in groups for i in g["instances"]})
    fix = _fix_for(code, groups)
    return fail(summary, evidence=evidence, instances=ids, fix=fix)


# An agent polls for commands every few seconds; CodeDeploy fails an event the agent never picks up
# only after its timeout (up to an hour: "CodeDeploy agent was not able to receive the lifecycle
# event", aws-codedeploy-agent issue #307). Minutes without progress on an agent event are stuck.
AGENT_EVENT_STUCK = STUCK_AFTER


def _age(since: Any, now: datetime) -> timedelta | None:
    if not isinstance(since, datetime):
        return None
    if since.tzinfo is None:
        since = since.replace(tzinfo=timezone.utc)
    return max(timedelta(0), now - since)


def _words(delta: timedelta | None) -> str:
    if delta is None:
        return "a while"
    secs = int(delta.total_seconds())
    if secs < 120:
        return f"{secs} s"
    if secs < 7200:
        return f"{secs // 60} min"
    return f"{secs // 3600} h"


def _hook_timeout(ctx, event: str | None) -> int | None:
    """The sum of the appspec's timeouts for `event` (3600 s each by default), when readable."""
    try:
        spec = ctx.ev.appspec() or {}
    except Exception:
        return None
    hooks = (spec.get("hooks") or {}).get(event or "")
    if not hooks:
        return None
    return sum(int(h.get("timeout") or 3600) for h in hooks)


def in_flight(ctx, dep: dict[str, Any], st: str, total: int | None, evidence: dict) -> Result:
    """A deployment still running: what it waits on, and whether it can still finish.

    Told before CodeDeploy's own timeout (which can be an hour): an instance that is not running
    any more cannot finish its event (FAIL: start it or stop the deployment); an event that has
    made no progress for minutes is stuck (WARN; the agent checks look inside those instances);
    a deployment still Created/Queued names what runs on the group before it.
    """
    ev = ctx.ev
    did = dep.get("deploymentId")
    now = datetime.now(timezone.utc)
    age = _age(dep.get("createTime"), now)
    evidence["age_seconds"] = int(age.total_seconds()) if age else None
    waiting = ev.waiting()
    if not waiting:
        if st in ("Created", "Queued"):
            try:
                busy = (
                    ev.client("codedeploy")
                    .list_deployments(
                        applicationName=ev.application,
                        deploymentGroupName=ev.group_name,
                        includeOnlyStatuses=["InProgress", "Stopping"],
                    )
                    .get("deployments", [])
                )
            except Exception:  # only a hint
                busy = []
            busy = [b for b in busy if b != did]
            evidence["in_progress_before_it"] = busy
            if busy:
                return warn(
                    f"{did} is {st} for {_words(age)}: {busy[0]} still runs on the group and "
                    "CodeDeploy runs one deployment per group at a time",
                    evidence=evidence,
                    fix=Fix(
                        f"Wait for {busy[0]} to end, or stop it.",
                        [f"aws deploy stop-deployment --deployment-id {busy[0]}"],
                    ),
                )
        return info(
            f"{did} is {st} for {_words(age)}: no instance has started yet", evidence=evidence
        )
    insts = ev.instances()
    rows = []
    for (event, est), items in group_by(waiting, lambda w: (w.event, w.event_status)):
        since = min((w.since for w in items if isinstance(w.since, datetime)), default=None)
        rows.append(
            {
                "event": event,
                "event_status": est,
                "count": len(items),
                "since": since.isoformat() if since else None,
                "for": _words(_age(since, now)),
                "instances": sorted(w.instance_id for w in items),
            }
        )
    evidence["waiting"] = rows
    gone = sorted(
        w.instance_id
        for w in waiting
        if (insts.get(w.instance_id) or {}).get("State", {}).get("Name")
        not in (None, "running", "pending")
    )
    top = rows[0]
    where = f"{count_phrase(top['count'], total)} at {top['event'] or 'the start'}"
    summary = f"{did} is {st} for {_words(age)}: {where} ({top['event_status']} for {top['for']})"
    if gone:
        states = {i: (insts.get(i) or {}).get("State", {}).get("Name", "?") for i in gone}
        evidence["not_running"] = states
        first = gone[0]
        one = len(gone) == 1
        return fail(
            f"{summary}; {count_phrase(len(gone), total)} {'is' if one else 'are'} "
            f"{states[first]} ({', '.join(gone[:3])}): CodeDeploy waits on "
            f"{'it' if one else 'them'} until the event times out (up to an hour)",
            evidence=evidence,
            instances=gone,
            fix=Fix(
                f"Start {'the instance' if len(gone) == 1 else 'the instances'} again, or stop "
                "this deployment now and deploy again without them.",
                [
                    f"aws ec2 start-instances --instance-ids {' '.join(gone[:10])}",
                    f"aws deploy stop-deployment --deployment-id {did}",
                ],
            ),
        )
    held = _held(ctx, rows)
    if held is not None:
        row, script, holds, limit, previous = held
        why, action = pipes.explain(script, holds, limit)
        evidence["holds"] = {"event": row["event"], "script": script, **holds}
        if previous is None:
            return fail(
                f"{summary}: {row['event']} runs {why}",
                evidence=evidence,
                instances=row["instances"],
                fix=Fix(
                    f"{action}; then stop this deployment and deploy again.",
                    [f"aws deploy stop-deployment --deployment-id {did}", "wizard deploy"],
                ),
            )
        # the script of the last successful revision (hook_executor.rb runs ApplicationStop
        # and the block-traffic events from it): this revision cannot change what runs now
        evidence["holds"]["previous_deployment"] = previous
        try:
            mine = ((ctx.ev.appspec() or {}).get("scripts") or {}).get(script)
        except Exception:  # this revision's bundle unreadable: say what to do either way
            mine = None
        then = (
            f"this revision's {script} lets go of the pipe, so the trouble ends with it."
            if mine is not None and not mine.get("holds")
            else f"before that, fix this revision's {script} too, or the next deployment waits "
            f"the same way: {action[:1].lower()}{action[1:]}."
        )
        return fail(
            f"{summary}: {row['event']} runs the last successful revision's ({previous}) {why}",
            evidence=evidence,
            instances=row["instances"],
            fix=Fix(
                "Stop this deployment and deploy again with --ignore-application-stop-failures "
                f"(the old script is given up after its timeout, {limit} s, once), or first "
                "clear the agent's record of the previous revision on each instance; " + then,
                [
                    f"aws deploy stop-deployment --deployment-id {did}",
                    "wizard deploy --ignore-application-stop-failures",
                ],
            ),
        )
    oldest = max((_age(w.since, now) or timedelta(0) for w in waiting), default=timedelta(0))
    script_limit = _hook_timeout(ctx, top["event"])
    stuck = (
        top["event"] in interpret.AGENT_EVENTS or script_limit is None
    ) and oldest > AGENT_EVENT_STUCK
    if script_limit is not None and oldest.total_seconds() > script_limit + 300:
        stuck = True
    if stuck:
        return warn(
            f"{summary}: no progress for {_words(oldest)} — stuck (see the agent checks for "
            "those instances)",
            evidence=evidence,
            instances=sorted({i for r in rows for i in r["instances"]}),
            fix=Fix(
                "Look at the agent on those instances (is it running, can it reach CodeDeploy?); "
                "stop the deployment if it cannot finish.",
                [
                    inside_how(rows[0]["instances"]),
                    f"aws deploy stop-deployment --deployment-id {did}",
                ],
            ),
        )
    return info(
        summary, evidence=evidence, instances=sorted({i for r in rows for i in r["instances"]})
    )


def _held(ctx, rows: list[dict]) -> tuple[dict, str, dict, int, str | None] | None:
    """The first running script event whose script, by its bytes, keeps the agent waiting until
    the hook's timeout (`checks.pipes`): (row, script, what holds, the hook's timeout in s, the
    previous deployment's id when the script is the last successful revision's, else None).

    Said at once, without waiting minutes for "no progress": nothing the instance does can end
    the event earlier. ApplicationStop, BeforeBlockTraffic and AfterBlockTraffic run the last
    successful revision's scripts (the agent's hook_executor.rb), so those are read from its
    bundle; the other events from this revision's.
    """
    from checks.hooks import hook_timeout

    specs: dict[bool, tuple[dict[str, Any], str | None]] = {}

    def spec_for(previous: bool) -> tuple[dict[str, Any], str | None]:
        if previous not in specs:
            try:
                if previous:
                    prev = ctx.ev.previous_deployment() or {}
                    loc = (prev.get("revision") or {}).get("s3Location")
                    found = (ctx.ev.appspec_at(loc) or {}) if loc else {}
                    specs[previous] = (found, prev.get("deploymentId"))
                else:
                    specs[previous] = (ctx.ev.appspec() or {}, None)
            except Exception:  # no bundle to read: the other signs decide
                specs[previous] = ({}, None)
        return specs[previous]

    for row in rows:
        if row["event_status"] != "InProgress":
            continue
        spec, previous = spec_for(row["event"] in PREVIOUS_REVISION_EVENTS)
        facts = spec.get("scripts") or {}
        for item in (spec.get("hooks") or {}).get(row["event"] or "", []):
            script = str(item.get("location") or "").removeprefix("./")
            holds = (facts.get(script) or {}).get("holds")
            if holds:
                return row, script, holds, hook_timeout(item), previous or None
    return None


def inside_how(ids: list[str]) -> str:
    from checks.inside import how_to_look

    return how_to_look(ids, "systemctl status codedeploy-agent")


def _fix_for(code: str | None, groups: list[dict]) -> Fix:
    if code in ("THROTTLED", "INTERNAL_ERROR", "TIMEOUT"):
        return Fix("A transient failure: deploy again.", ["wizard deploy"])
    if code == "MANUAL_STOP":
        return Fix(
            "The deployment was stopped on purpose (StopDeployment); deploy again when ready."
        )
    if code == "ALARM_ACTIVE":
        return Fix(
            "A CloudWatch alarm of the group is in ALARM: fix what it watches, or deploy with "
            "--ignore-alarm-configuration.",
            ["aws cloudwatch describe-alarms --state-value ALARM"],
        )
    pointers = sorted({c for g in groups for c in g["checks"]})
    if pointers:
        from checks import registry

        def title(check_id: str) -> str:
            try:
                return registry.get(check_id).title.lower()
            except Exception:  # an id no check registers: say nothing rather than the id
                return ""

        # in words, not check ids: the root cause's own fix (shown first) is what to do
        topics = [t for t in dict.fromkeys(title(c) for c in pointers) if t]
        return Fix(
            "Fix the root cause named above"
            + (f" ({', '.join(topics[:3])})" if topics else "")
            + ", then deploy again.",
            ["wizard deploy"],
        )
    return Fix("Read the failed targets' diagnostics, then deploy again.")
