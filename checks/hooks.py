"""hooks.*: a hook script failed or timed out: which, where, with its log tail."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from typing import Any

from checks import pipes
from checks.evidence import Unavailable
from checks.interpret import PREVIOUS_REVISION_EVENTS, count_phrase, group_by
from checks.model import Fix, Result, fail, info, passed, skip
from checks.registry import check

_EXIT = re.compile(r"exit code (\d+)")
SCRIPTS_LOG = "/opt/codedeploy-agent/deployment-root/DG_ID/DEPLOYMENT_ID/logs/scripts.log"

# bash: "foo: command not found"; sh/dash: "foo: not found"; env: "env: 'node': No such file…"
_NOT_FOUND = re.compile(
    r"(?:^|[\s:])([\w.+/-]+): (?:command )?not found|env: '?([\w.+/-]+)'?: No such file",
    re.M,
)
_VERSION_MANAGERS = {
    "node": "nvm",
    "npm": "nvm",
    "npx": "nvm",
    "yarn": "nvm",
    "pm2": "nvm",
    "pnpm": "nvm",
    "ruby": "rbenv/rvm",
    "bundle": "rbenv/rvm",
    "gem": "rbenv/rvm",
    "python": "pyenv",
    "pip": "pyenv",
    "java": "sdkman",
    "mvn": "sdkman",
    "gradle": "sdkman",
}


@dataclass
class Hint:
    """What a failing script's exit code, log and bytes say, and what to do first."""

    why: str
    action: str
    commands: list[str]
    confirmed: str = ""  # evidence from the bundle's bytes, when there is some
    generic: bool = False  # nothing more to say than the script's own output


def hint_for(
    code: str | None,
    message: str,
    log: str,
    script: str | None,
    facts: dict[str, Any] | None,
    *,
    runas: str | None = None,
    scripts_log: str = SCRIPTS_LOG,
    timeout: int | None = None,
) -> Hint:
    """The precise hint for one failed script (reference §3 E23-E26), bytes before words."""
    text = f"{message}\n{log}"
    m = _EXIT.search(message)
    rc = m.group(1) if m else None
    name = script or "the script"
    q = shlex.quote(script) if script else "SCRIPT"
    facts = facts or {}
    crlf_bytes = bool(facts.get("crlf_lines"))
    crlf_log = ("bad interpreter" in text and ("^M" in text or "\r" in text)) or "$'\\r'" in text
    if code == "ScriptTimedOut" and facts.get("holds"):
        # the bytes show why (checks.pipes): a process left on the agent's output pipes
        why, action = pipes.explain(name, facts["holds"], timeout)
        return Hint(why, action, [], why)
    if code == "ScriptTimedOut":
        return Hint(
            "it ran past its timeout: a process started from a hook keeps the agent waiting "
            "unless it detaches",
            f"Detach what {name} starts (cmd >/dev/null 2>&1 </dev/null &) or raise its timeout",
            [f"sudo tail -n 50 {scripts_log}"],
        )
    if crlf_bytes or crlf_log:
        confirmed = (
            f"{name} in the bundle has Windows line endings ({facts['crlf_lines']} of "
            f"{facts.get('lines')} lines end in CRLF)"
            if crlf_bytes
            else ""
        )
        return Hint(
            "CRLF line endings: bash reads '#!/bin/bash\\r' and finds no such interpreter",
            f"Convert {name} to LF line endings and make git keep them LF",
            [
                f"sed -i 's/\\r$//' {q}",
                "echo '*.sh text eol=lf' >> .gitattributes",
            ],
            confirmed,
        )
    if facts.get("bom") and facts.get("read"):
        return Hint(
            "a UTF-8 byte-order mark before the #! line: the kernel does not see a shebang",
            f"Save {name} without a byte-order mark (UTF-8, no BOM)",
            [f"sed -i '1s/^\\xEF\\xBB\\xBF//' {q}"],
            f"{name} in the bundle starts with a BOM",
        )
    missing = _NOT_FOUND.search(text)
    if rc == "127" or missing:
        tool = (missing.group(1) or missing.group(2)) if missing else None
        tool = tool.rsplit("/", 1)[-1] if tool else None
        manager = _VERSION_MANAGERS.get(tool or "")
        who = runas or "root"
        why = (
            f"`{tool}` is not on the hook's PATH: hooks run as {who} in a non-login shell, so "
            "tools installed for another user"
            + (f" or through {manager}" if manager else "")
            + " are not found"
            if tool
            else "a command was not found: hooks run in a non-login shell without your PATH"
        )
        find = (
            f"sudo -iu ec2-user bash -lc 'command -v {tool}'   # on the instance: its full path"
            if tool
            else f"sudo tail -n 50 {scripts_log}"
        )
        action = (
            f"Call {tool} by its full path in {name} (or set PATH at its top"
            + (f"; for {manager}: source its script first" if manager else "")
            + ")"
            if tool
            else f"Use full paths for the commands in {name}"
        )
        return Hint(why, action, [find])
    if rc == "126":
        if facts.get("read") and not facts.get("shebang"):
            return Hint(
                "found but not executable as a program: it has no #! line",
                f"Add #!/bin/bash as the first line of {name}",
                [f"sed -i '1i #!/bin/bash' {q}"],
                f"{name} in the bundle starts without #!",
            )
        return Hint(
            "found but could not be executed: a missing interpreter, a binary for another "
            "architecture, or a noexec mount",
            f"Check that {name}'s interpreter exists on the instance and the folder allows exec",
            [f"head -1 {q}", "findmnt -no OPTIONS -T /opt/codedeploy-agent   # on the instance"],
        )
    if code == "ScriptNotExecutable":
        return Hint(
            "the agent could not chmod the script (read-only or noexec mount)",
            "Mount the agent's deployment root read-write with exec",
            ["findmnt -no OPTIONS -T /opt/codedeploy-agent   # on the instance"],
        )
    if code == "ScriptMissing":
        return Hint(
            "the script is not where the appspec says",
            f"Put {name} in the bundle or fix its location in the appspec",
            ["wizard validate ."],
        )
    last = last_line(log)
    return Hint(
        f"the script itself exited {rc or 'non-zero'}: read its output",
        f"Fix what {name} reports" + (f" ({last})" if last else ""),
        [f"sudo tail -n 100 {scripts_log}"],
        generic=True,
    )


def last_line(log: str) -> str:
    """The log tail's last line, without the agent's [stdout]/[stderr] prefix."""
    line = (log.strip().splitlines() or [""])[-1].strip()
    return re.sub(r"^\[(stdout|stderr)\]", "", line).strip()[:160]


def scripts_log_path(ctx, deployment_id: str | None) -> str:
    """Where the agent writes a deployment's script output on the instance."""
    try:
        dg = ctx.ev.group().get("deploymentGroupId", "DG_ID")
    except Exception:  # the group may be gone; the hook failure still stands
        dg = "DG_ID"
    return f"/opt/codedeploy-agent/deployment-root/{dg}/{deployment_id}/logs/scripts.log"


def _spec(ctx) -> dict[str, Any]:
    try:
        return ctx.ev.appspec() or {}
    except Exception:  # no bundle to read: the hint stands on the log alone
        return {}


def _hook(spec: dict[str, Any], event: str | None, script: str | None) -> dict[str, Any]:
    for item in (spec.get("hooks") or {}).get(event or "", []):
        loc = str(item.get("location") or "")
        if script and loc.lstrip("./") == script.lstrip("./"):
            return item
    return {}


def _runas(spec: dict[str, Any], event: str | None, script: str | None) -> str | None:
    return _hook(spec, event, script).get("runas")


def hook_timeout(item: dict[str, Any]) -> int:
    """A hook's timeout in seconds: the appspec's, else 3600 (AppSpec "hooks" section)."""
    try:
        return int(item.get("timeout") or 3600)
    except (TypeError, ValueError):
        return 3600


@check("hooks.failed", "Hook scripts", priority=60)
def failed(ctx) -> Result:
    """A hook script failed or timed out: the event, the script, the exit code and its log tail."""
    dep = ctx.ev.deployment()
    if dep is None:
        return skip("no deployment to look at (preflight)")
    script_codes = ("ScriptFailed", "ScriptTimedOut", "ScriptNotExecutable")
    failures = ctx.ev.failures()
    pointed = [
        f
        for f in failures
        if (f.error_code in script_codes or "hooks.failed" in f.cause.checks)
        and f.event not in PREVIOUS_REVISION_EVENTS
    ]
    if not pointed:
        prev = [
            f
            for f in failures
            if f.event in PREVIOUS_REVISION_EVENTS and f.error_code in _STOP_CODES
        ]
        if prev:
            return info(
                f"no script of this revision failed (the previous revision's {prev[0].event} "
                "did: see Scripts of the last successful revision)"
            )
        if (
            failures
            and all(f.events.get(f.event or "") != "Succeeded" for f in failures)
            and all(not any(st == "Succeeded" for st in f.events.values()) for f in failures)
        ):
            return info("no hook ran: every instance failed before its first hook")
        return ctx.nothing_to_read() or passed("no hook script failed")
    total = sum(int(v or 0) for v in (dep.get("deploymentOverview") or {}).values()) or None
    spec = _spec(ctx)
    facts_by_script = spec.get("scripts") or {}
    log_path = scripts_log_path(ctx, dep.get("deploymentId"))
    groups = group_by(
        pointed,
        lambda f: (
            f.event,
            f.script_name,
            f.error_code,
            (_EXIT.search(f.message) or [None, None])[1],
        ),
    )
    rows = []
    hints: list[Hint] = []
    for (event, script, code, rc), items in groups:
        first = items[0]
        facts = facts_by_script.get((script or "").lstrip("./")) if script else None
        hint = hint_for(
            code,
            first.message,
            first.log_tail,
            script,
            facts,
            runas=_runas(spec, event, script),
            scripts_log=log_path,
            timeout=hook_timeout(_hook(spec, event, script)),
        )
        hints.append(hint)
        rows.append(
            {
                "event": event,
                "script": script,
                "error_code": code,
                "exit_code": int(rc) if rc else None,
                "count": len(items),
                "instances": [f.instance_id for f in items],
                "message": first.message[:500],
                "log_tail": first.log_tail[-2000:],
                "hint": hint.why,
                "bundle_bytes": facts,
                "confirmed": hint.confirmed or None,
            }
        )
    top, hint = rows[0], hints[0]
    what = (
        "timed out"
        if top["error_code"] == "ScriptTimedOut"
        else (
            f"failed with exit code {top['exit_code']}"
            if top["exit_code"] is not None
            else "failed"
        )
    )
    summary = (
        f"{count_phrase(top['count'], total)}: {top['event']} {top['script'] or 'script'} {what}"
    )
    last = last_line(top["log_tail"])[:120]
    if last:
        summary += f" — {last}"
    if hint.confirmed or not hint.generic:
        summary += f" ({hint.confirmed or hint.why})"
    commands = [*hint.commands]
    if not any(log_path in c for c in commands):
        commands.append(f"sudo tail -n 100 {log_path}   # on the instance: the full output")
    commands.append("wizard deploy")
    return fail(
        summary,
        evidence={"failures": rows},
        instances=sorted({i for r in rows for i in r["instances"]}),
        fix=Fix(f"{hint.action}, then deploy again.", commands),
    )


_STOP_CODES = ("ScriptMissing", "ScriptFailed", "ScriptTimedOut", "ScriptNotExecutable")


def _revision_words(info: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """'d-ABC (s3://b/k, ETag e)' and the revision's location, whatever its type."""
    rev = info.get("revision") or {}
    loc = rev.get("s3Location") or {}
    gh = rev.get("gitHubLocation") or {}
    if loc:
        etag = str(loc.get("eTag") or "").strip('"')
        where = f"s3://{loc.get('bucket')}/{loc.get('key')}" + (f", ETag {etag}" if etag else "")
    elif gh:
        where = f"{gh.get('repository')} commit {str(gh.get('commitId') or '')[:12]}"
    else:
        where = rev.get("revisionType") or "unknown revision"
    return f"{info.get('deploymentId')} ({where})", loc


@check("hooks.previous-revision", "Scripts of the last successful revision", priority=55)
def previous_revision(ctx) -> Result:
    """ApplicationStop (and BeforeBlockTraffic, AfterBlockTraffic) run the scripts of the last
    successful revision: a broken one there fails every new deployment until one ignores it."""
    dep = ctx.ev.deployment()
    if dep is None:
        return skip("no deployment to look at (preflight)")
    failures = ctx.ev.failures()
    stop = [
        f for f in failures if f.event in PREVIOUS_REVISION_EVENTS and f.error_code in _STOP_CODES
    ]
    if not stop:
        empty = ctx.nothing_to_read()
        if empty is not None:
            return empty
        ran = [f for f in failures if f.events.get("ApplicationStop") == "Succeeded"]
        if failures and not ran:
            return info(
                "the previous revision's ApplicationStop did not run on the failed instances"
            )
        try:
            last = (ctx.ev.group().get("lastSuccessfulDeployment") or {}).get("deploymentId")
        except Exception:  # the group may be gone: nothing more to say
            last = "?"
        if not last or last == dep.get("deploymentId"):
            return skip("nothing to look at: no earlier revision succeeded on this group")
        return passed("no script of the previous revision failed")
    total = sum(int(v or 0) for v in (dep.get("deploymentOverview") or {}).values()) or None
    first = stop[0]
    ids = sorted(f.instance_id for f in stop)
    event, script = first.event, first.script_name or ""
    evidence: dict[str, Any] = {
        "event": event,
        "error_code": first.error_code,
        "script": script,
        "message": first.message[:500],
        "log_tail": first.log_tail[-1500:],
    }
    prev = ctx.ev.previous_deployment(first.message)
    words, loc = _revision_words(prev) if prev else ("(not found)", {})
    evidence["previous_deployment"] = (prev or {}).get("deploymentId")
    evidence["found_by"] = (prev or {}).get("_found_by")
    detail = ""
    facts: dict[str, Any] | None = None
    old: dict[str, Any] = {}
    if loc:
        try:
            old = ctx.ev.appspec_at(loc)
        except Unavailable as u:
            old = {}
            evidence["previous_bundle"] = u.reason
        listed = [h.get("location") for h in (old.get("hooks") or {}).get(event or "", [])]
        evidence["previous_hooks"] = listed
        facts = (old.get("scripts") or {}).get(script.lstrip("./")) if script else None
        if first.error_code == "ScriptMissing" and listed:
            detail = (
                f"; its appspec lists {event}: {', '.join(map(str, listed))}, not in its bundle"
            )
    current = _spec(ctx)
    now = [h for h in (current.get("hooks") or {}).get(event or "", []) if h.get("present")]
    if now:
        evidence["this_revision_hooks"] = [h.get("location") for h in now]
    # the old script's own timeout (its appspec's), which a timed-out stop script runs into
    limit = hook_timeout(_hook(old, event, script))
    hint: Hint | None = None
    later = ""
    if first.error_code in ("ScriptFailed", "ScriptTimedOut"):
        hint = hint_for(
            first.error_code, first.message, first.log_tail, script, facts, timeout=limit
        )
        evidence["hint"] = hint.why
        said = last_line(first.log_tail) if hint.generic else hint.why
        later = f" ({said}) in this revision's copy of it" if said else " in this revision"
    what = {
        "ScriptMissing": f"{script or 'a script'} does not exist",
        "ScriptTimedOut": f"{script or 'a script'} timed out",
        "ScriptNotExecutable": f"{script or 'a script'} could not be made executable",
    }.get(first.error_code or "", f"{script or 'a script'} failed")
    if hint is not None and not hint.generic and hint.confirmed:  # the old bundle's bytes say why
        what += f" ({hint.confirmed.replace(f'{script}' + chr(39) + 's ', 'its ', 1)})"
    summary = (
        f"{count_phrase(len(ids), total)}: {event} ran the last successful revision's script, "
        f"and {what} — previous revision {words}{detail}"
    )
    if now:
        summary += f"; this revision's {event} ({now[0].get('location')}) never got to run"
    try:
        dg = ctx.ev.group().get("deploymentGroupId", "DG_ID")
    except Exception:
        dg = "DG_ID"
    app, group = ctx.ev.application, ctx.ev.group_name
    cur = ctx.ev.revision() or {}
    commands = ["wizard deploy --ignore-application-stop-failures"]
    if cur.get("bucket"):
        s3loc = f"bucket={cur['bucket']},key={cur['key']},bundleType={cur.get('bundleType', 'zip')}"
        if cur.get("eTag"):
            s3loc += f",eTag={str(cur['eTag']).strip(chr(34))}"
        if cur.get("version"):
            s3loc += f",version={cur['version']}"
        commands.append(
            f"aws deploy create-deployment --application-name {app} --deployment-group-name "
            f"{group} --s3-location {s3loc} --ignore-application-stop-failures"
        )
    mine = (current.get("scripts") or {}).get(script.lstrip("./")) if script else None
    # this revision's copy lets go where the old one held the pipe: the trouble ends with it
    let_go = bool(
        first.error_code == "ScriptTimedOut"
        and (facts or {}).get("holds")
        and mine is not None
        and not mine.get("holds")
    )
    # ignoreApplicationStopFailures turns the event's failure into success; a script that
    # times out still runs until its timeout first (CreateDeployment API reference)
    waits = (
        f" (the old script still runs once and is given up after its timeout, {limit} s)"
        if first.error_code == "ScriptTimedOut"
        else ""
    )
    then = (
        f"This revision's {script} lets go of the agent's pipe, so that is the last time; you "
        "may instead clear the agent's record of the previous revision on each instance."
        if let_go
        else f"Fix the stop script{later} before that, or clear the agent's record of the "
        "previous revision on each instance."
    )
    commands.append(
        f"sudo rm -f /opt/codedeploy-agent/deployment-root/deployment-instructions/"
        f"{dg}_last_successful_install   # or, on each instance: forget the previous revision"
    )
    return fail(
        summary,
        evidence=evidence,
        instances=ids,
        fix=Fix(
            f"Deploy once with --ignore-application-stop-failures: the previous revision's "
            f"broken {event} script no longer stops the deployment{waits}, and this revision "
            f"becomes the last successful one, so later deployments run its {event} instead. "
            + then,
            commands,
        ),
    )
