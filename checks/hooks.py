"""hooks.*: a hook script failed or timed out: which, where, with its log tail."""

from __future__ import annotations

import re

from checks.interpret import count_phrase, group_by
from checks.model import Fix, Result, fail, passed, skip
from checks.registry import check

_EXIT = re.compile(r"exit code (\d+)")


def _hint(code: str | None, message: str, log: str) -> str:
    text = f"{message}\n{log}"
    if code == "ScriptTimedOut":
        return (
            "it ran past its timeout: a daemon started from a hook must detach "
            "(cmd >/dev/null 2>&1 </dev/null &)"
        )
    m = _EXIT.search(message)
    rc = m.group(1) if m else None
    if "bad interpreter" in text or "^M" in text:
        return "CRLF line endings: convert the script to LF"
    if rc == "127":
        return "a command was not found: hooks run without a login environment (use full paths)"
    if rc == "126":
        return "not executable or no shebang: add #!/bin/bash and chmod 755"
    if code == "ScriptNotExecutable":
        return "the agent could not chmod the script (read-only or noexec mount)"
    return "read the log tail, then scripts.log on the instance"


@check("hooks.failed", "Hook scripts", priority=60)
def failed(ctx) -> Result:
    """A hook script failed or timed out: the event, the script, the exit code and its log tail."""
    dep = ctx.ev.deployment()
    if dep is None:
        return skip("no deployment to look at (preflight)")
    script_codes = ("ScriptFailed", "ScriptTimedOut", "ScriptNotExecutable")
    pointed = [
        f
        for f in ctx.ev.failures()
        if f.error_code in script_codes or "hooks.failed" in f.cause.checks
    ]
    if not pointed:
        return passed("no hook script failed")
    total = sum(int(v or 0) for v in (dep.get("deploymentOverview") or {}).values()) or None
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
    for (event, script, code, rc), items in groups:
        first = items[0]
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
                "hint": _hint(code, first.message, first.log_tail),
            }
        )
    top = rows[0]
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
    last = (top["log_tail"].strip().splitlines() or [""])[-1][:120]
    if last:
        summary += f" — {last}"
    try:
        dg = ctx.ev.group().get("deploymentGroupId", "DG_ID")
    except Exception:  # the group may be gone; the hook failure still stands
        dg = "DG_ID"
    log = f"/opt/codedeploy-agent/deployment-root/{dg}/{dep.get('deploymentId')}/logs/scripts.log"
    return fail(
        summary,
        evidence={"failures": rows},
        instances=sorted({i for r in rows for i in r["instances"]}),
        fix=Fix(
            f"Fix the script ({top['hint']}), then deploy again. The full output is in "
            "scripts.log.",
            [f"sudo tail -n 100 {log}", "wizard deploy"],
        ),
    )
