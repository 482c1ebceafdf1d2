"""The hook script executor: run one lifecycle event's scripts on an instance."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from wizard.sandbox import clock
from wizard.sandbox.fleet.bundle import norm_rel
from wizard.sandbox.fleet.context import DeploymentContext, EventOutcome, diag, ok
from wizard.sandbox.fleet.instance import Facts, InstanceState


def _parse_hook_tag(value: str) -> tuple[str, int, str]:
    """`exit=N` | `timeout`, optional `;log=TEXT` -> (kind, code, log)."""
    kind, code, log = "exit", 1, ""
    for part in value.split(";"):
        part = part.strip()
        if part.startswith("log="):
            log = part[4:]
        elif part == "timeout":
            kind = "timeout"
        elif part.startswith("exit="):
            try:
                code = int(part[5:])
            except ValueError:
                code = 1
    return kind, code, log


def run_scripts(
    event: str,
    hooks: dict[str, list[dict[str, Any]]],
    bundle_files: frozenset[str] | set[str],
    facts: Facts,
    st: InstanceState,
    ctx: DeploymentContext,
    at: datetime,
    root_dir: str | None = None,
) -> EventOutcome:
    """Run the hook scripts of one event; the result as CodeDeploy reports it.

    `root_dir` is the deployment directory the scripts run from (ApplicationStop: the last
    successful deployment's), where scripts.log is written.
    """
    scripts = hooks.get(event) or []
    if not scripts:
        return EventOutcome(event, clock.CLOCK.event, "Succeeded", ok())
    log: list[str] = [f"LifecycleEvent - {event}\n"]
    forced = facts.tags.get(f"sandbox:hook:{event}")
    scripts_log = f"{root_dir or ctx.root_dir}/logs/scripts.log"
    duration = clock.CLOCK.event
    outcome: EventOutcome | None = None
    for index, script in enumerate(scripts):
        location = script["location"]
        rel = norm_rel(location)
        if rel not in bundle_files:
            outcome = EventOutcome(
                event,
                duration,
                "Failed",
                diag(
                    "ScriptMissing",
                    f"Script does not exist at specified location: {location}",
                    location,
                    "".join(log),
                ),
            )
            break
        log.append(f"Script - {location}\n")
        runas = script.get("runas")
        if runas and facts.agent_user != "root":
            log.append("[stderr]su: must be run from a terminal\n")
            code = 1
        elif runas and runas not in facts.users:
            log.append(f"[stderr]su: user {runas} does not exist\n")
            code = 1
        elif forced and index == 0:
            kind, code, text = _parse_hook_tag(forced)
            stream = "[stdout]" if kind == "timeout" else "[stderr]"
            for line in text.split("\\n") if text else []:
                log.append(f"{stream}{line}\n")
            if kind == "timeout":
                duration = clock.CLOCK.slow_event
                outcome = EventOutcome(
                    event,
                    duration,
                    "Failed",
                    diag(
                        "ScriptTimedOut",
                        f"Script at specified location: {location} failed to complete in "
                        f"{script['timeout']} seconds",
                        location,
                        "".join(log),
                    ),
                )
                break
        else:
            code = 0
        if code != 0:
            what = f"Script at specified location: {location}"
            if runas:
                what += f" run as user {runas}"
            outcome = EventOutcome(
                event,
                duration,
                "Failed",
                diag(
                    "ScriptFailed", f"{what} failed with exit code {code}", location, "".join(log)
                ),
            )
            break
    stamp = at.strftime("%Y-%m-%d %H:%M:%S")
    for line in log:
        st.log(scripts_log, f"{stamp} {line.rstrip(chr(10))}")
    if outcome is None:
        outcome = EventOutcome(event, duration, "Succeeded", ok("".join(log)))
    return outcome
