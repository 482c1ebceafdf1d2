"""The hook script executor: run one lifecycle event's scripts on an instance, as the agent does."""

from __future__ import annotations

import posixpath
from datetime import datetime
from typing import Any

from wizard.sandbox import clock
from wizard.sandbox.fleet.agent import AGENT_LOG, ts
from wizard.sandbox.fleet.bundle import Bundle, norm_rel
from wizard.sandbox.fleet.context import DeploymentContext, EventOutcome, diag, ok
from wizard.sandbox.fleet.holds import holding_line
from wizard.sandbox.fleet.instance import Facts, InstanceState
from wizard.sandbox.fleet.launch import launch


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
    bundle: Bundle,
    facts: Facts,
    st: InstanceState,
    ctx: DeploymentContext,
    at: datetime,
    root_dir: str | None = None,
) -> EventOutcome:
    """Run the hook scripts of one event; the result as CodeDeploy reports it.

    `bundle` is the revision the scripts come from and `root_dir` the deployment directory they
    run from (ApplicationStop, BeforeBlockTraffic, AfterBlockTraffic: the last successful
    deployment's), where scripts.log is written. Follows hook_executor.rb `execute`: a script
    that does not exist is ScriptMissing with its absolute path; one the agent cannot start or
    that exits non-zero is ScriptFailed; `fleet.launch` decides the start from the bytes.
    """
    scripts = hooks.get(event) or []
    if not scripts:
        return EventOutcome(event, clock.CLOCK.event, "Succeeded", ok())
    log: list[str] = [f"LifecycleEvent - {event}\n"]
    forced = facts.tags.get(f"sandbox:hook:{event}")
    root = root_dir or ctx.root_dir
    scripts_log = f"{root}/logs/scripts.log"
    duration = clock.CLOCK.event
    outcome: EventOutcome | None = None
    for index, script in enumerate(scripts):
        location = script["location"]
        rel = norm_rel(location)
        path = posixpath.normpath(f"{root}/deployment-archive/{location}")
        is_dir = bool(rel) and bundle.is_dir(rel)
        if rel not in bundle.files and not is_dir:
            outcome = EventOutcome(
                event,
                duration,
                "Failed",
                diag(
                    "ScriptMissing",
                    f"Script does not exist at specified location: {path}",
                    location,
                    "".join(log),
                ),
            )
            break
        if not is_dir and not bundle.executable(rel):
            st.log(
                AGENT_LOG,
                f"{ts(at)} WARN  [codedeploy-agent(1)]: InstanceAgent::Plugins::CodeDeployPlugin::"
                f"HookExecutor: Script at specified location: {location} is not executable.  "
                "Trying to make it executable.",
            )
        log.append(f"Script - {location}\n")
        runas = script.get("runas")
        what = f"Script at specified location: {location}"
        if runas:
            what += f" run as user {runas}"
        started = None
        data: bytes | None = None
        if runas and facts.agent_user != "root":
            log.append("[stderr]su: must be run from a terminal\n")
            code = 1
        elif runas and runas not in facts.users:
            log.append(f"[stderr]su: user {runas} does not exist\n")
            code = 1
        else:
            data = None if is_dir else bundle.files[rel]
            started = launch(data, path, runas, facts.image, facts.packages)
            log.extend(f"[stderr]{line}\n" for line in started.stderr)
            code = started.code
        if started is not None and started.error:
            message = f"{what} failed with error {started.error}"
            outcome = EventOutcome(
                event, duration, "Failed", diag("ScriptFailed", message, location, "".join(log))
            )
            break
        # the bytes decide first: a process left holding the agent's pipes (`fleet.holds`)
        # keeps the event until its timeout; the tag stands for what the bytes cannot show
        holds = started is not None and started.runs and data is not None and holding_line(data)
        if holds or (started is not None and started.runs and forced and index == 0):
            kind, code, text = ("timeout", 0, "") if holds else _parse_hook_tag(forced or "")
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
        if code != 0:
            tail = "".join(log)
            outcome = EventOutcome(
                event,
                duration,
                "Failed",
                diag("ScriptFailed", f"{what} failed with exit code {code}", location, tail),
            )
            break
    stamp = at.strftime("%Y-%m-%d %H:%M:%S")
    for line in log:
        st.log(scripts_log, f"{stamp} {line.rstrip(chr(10))}")
    if outcome is None:
        outcome = EventOutcome(event, duration, "Succeeded", ok("".join(log)))
    return outcome
