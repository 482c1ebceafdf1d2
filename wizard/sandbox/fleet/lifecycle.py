"""One target's lifecycle: every event decided, in order, from the emulated state right now."""

from __future__ import annotations

from typing import Any

from wizard.sandbox import clock
from wizard.sandbox.fleet.agent import AGENT_LOG, MSG_AGENT, MSG_NO_CREDENTIALS, ts, write_agent_log
from wizard.sandbox.fleet.appspec import AppSpecError, parse_appspec
from wizard.sandbox.fleet.bundle import download, find_appspec
from wizard.sandbox.fleet.context import (
    DeploymentContext,
    EventOutcome,
    TargetOutcome,
    diag,
    ok,
)
from wizard.sandbox.fleet.install import install
from wizard.sandbox.fleet.instance import GroupRecord, gather, state_of
from wizard.sandbox.fleet.scripts import run_scripts

# The in-place lifecycle of one EC2 instance, in run order (AppSpec "hooks" section, "Lifecycle
# event hooks for an EC2/On-Premises deployment"). The traffic events exist only when the group
# deploys WITH_TRAFFIC_CONTROL; BlockTraffic and AllowTraffic are CodeDeploy's own (no scripts).
EVENTS = (
    "ApplicationStop",
    "DownloadBundle",
    "BeforeInstall",
    "Install",
    "AfterInstall",
    "ApplicationStart",
    "ValidateService",
)
BLOCK_EVENTS = ("BeforeBlockTraffic", "BlockTraffic", "AfterBlockTraffic")
ALLOW_EVENTS = ("BeforeAllowTraffic", "AllowTraffic", "AfterAllowTraffic")
# events whose scripts come from the last successful revision, not the one being deployed
PREVIOUS_REVISION_EVENTS = ("BeforeBlockTraffic", "AfterBlockTraffic", "ApplicationStop")


def events_for(traffic: bool) -> tuple[str, ...]:
    """The lifecycle event names of one target, in order (with or without traffic control)."""
    return (*BLOCK_EVENTS, *EVENTS, *ALLOW_EVENTS) if traffic else EVENTS


def plan_target(ctx: DeploymentContext, instance: Any) -> TargetOutcome:
    """Decide every lifecycle event of one target from the emulated state right now.

    Returns the events in order (Skipped after the first failure) and the effects to apply when
    the target ends; an event's own `effects` apply when that event ends.
    """
    facts = gather(ctx.account, ctx.region, instance)
    delay = facts.agent_ready_in
    if delay > 0:
        # the agent is being installed: CodeDeploy holds the event until the agent polls
        from dataclasses import replace

        facts = replace(facts, agent=facts.agent_after_install, agent_ready_in=0.0)
    st = state_of(instance, facts)
    events: list[EventOutcome] = []
    at = ctx.started
    names = events_for(ctx.traffic is not None)
    tick = clock.CLOCK.event

    def finish(status: str, effects: list[Any]) -> TargetOutcome:
        done = {e.name for e in events}
        for name in names:
            if name not in done:
                events.append(EventOutcome(name, 0.0, "Skipped", None))
        if facts.agent == "running" and facts.credentials and not facts.imds_error:
            write_agent_log(st, ctx, events)
        return TargetOutcome(events, status, effects, delay)

    def failed(event: str, message: str) -> TargetOutcome:
        events.append(EventOutcome(event, tick, "Failed", diag("UnknownError", message)))
        return finish("Failed", [])

    reachable = facts.agent == "running" and facts.credentials and not facts.imds_error
    if not reachable:
        poller = "InstanceAgent::Plugins::CodeDeployPlugin::CommandPoller"
        if facts.agent == "running" and facts.imds_error:
            # the agent asks IMDS for its region and identity before it polls (command_poller.rb)
            st.log(
                AGENT_LOG,
                f"{ts(at)} ERROR [codedeploy-agent(1)]: {poller}: Error during perform: "
                f"RuntimeError - {facts.imds_error} - /opt/codedeploy-agent/lib/"
                "instance_metadata.rb:47:in `http_get'",
            )
        elif facts.agent == "running":
            st.log(
                AGENT_LOG, f"{ts(at)} ERROR [codedeploy-agent(1)]: {poller}: {MSG_NO_CREDENTIALS}"
            )
        events.append(
            EventOutcome(
                names[0], clock.CLOCK.slow_event, "Failed", diag("UnknownError", MSG_AGENT)
            )
        )
        return finish("Failed", [])
    st.log(
        AGENT_LOG,
        f"{ts(at)} INFO  [codedeploy-agent(1)]: InstanceAgent::Plugins::"
        f"CodeDeployPlugin::CommandPoller: Received command for deployment {ctx.deployment_id}",
    )

    # the events before the download run the scripts of the last successful revision of this
    # group on this instance (none on a first deployment)
    record = st.groups.get(ctx.group_id)

    def previous_scripts(event: str) -> EventOutcome:
        if record is None:
            return EventOutcome(event, tick, "Succeeded", ok())
        outcome = run_scripts(
            event, record.hooks, record.bundle, facts, st, ctx, at, record.root_dir
        )
        if outcome.status == "Failed" and ctx.ignore_stop_failures:
            outcome.status = "Succeeded"
        return outcome

    if ctx.traffic is not None:
        for event in BLOCK_EVENTS:
            if event == "BlockTraffic":
                outcome = ctx.traffic.block(ctx, instance)
            else:
                outcome = previous_scripts(event)
            events.append(outcome)
            if outcome.status == "Failed":
                return finish("Failed", [])

    stop = previous_scripts("ApplicationStop")
    events.append(stop)
    if stop.status == "Failed":
        return finish("Failed", [])

    error, bundle = download(ctx, facts)
    if error is not None or bundle is None:
        return failed("DownloadBundle", error or "")
    events.append(EventOutcome("DownloadBundle", tick, "Succeeded", ok()))

    name = find_appspec(bundle)
    if name is None:
        archive = f"{ctx.root_dir}/deployment-archive"
        return failed(
            "BeforeInstall",
            "The CodeDeploy agent did not find an AppSpec file within the unpacked revision "
            'directory at revision-relative path "appspec.yml". The revision was unpacked to '
            f'directory "{archive}", and the AppSpec file was expected but not found at path '
            f'"{archive}/appspec.yml". Consult the AWS CodeDeploy Appspec documentation for '
            "more information at "
            "http://docs.aws.amazon.com/codedeploy/latest/userguide/reference-appspec-file.html",
        )
    try:
        spec = parse_appspec(bundle.files[name].decode("utf-8", errors="replace"))
    except AppSpecError as exc:
        return failed("BeforeInstall", str(exc))
    before = run_scripts("BeforeInstall", spec.hooks, bundle, facts, st, ctx, at)
    events.append(before)
    if before.status == "Failed":
        return finish("Failed", [])

    error, installed, effect = install(spec, bundle, facts, st, ctx)
    if error is not None:
        return failed("Install", error)
    events.append(EventOutcome("Install", tick, "Succeeded", ok()))

    def remember() -> None:
        # the agent records the install (cleanup file, "last successful install") when the
        # Install step succeeds, whatever the later hooks do
        st.groups[ctx.group_id] = GroupRecord(
            ctx.deployment_id, spec.hooks, bundle, installed, ctx.root_dir
        )

    effects = [effect, remember]
    after = ["AfterInstall", "ApplicationStart", "ValidateService"]
    if ctx.traffic is not None:
        after += ALLOW_EVENTS
    for event in after:
        if event == "AllowTraffic":
            assert ctx.traffic is not None
            outcome = ctx.traffic.allow(ctx, instance)
        else:
            outcome = run_scripts(event, spec.hooks, bundle, facts, st, ctx, at)
        events.append(outcome)
        if outcome.status == "Failed":
            return finish("Failed", effects)
    return finish("Succeeded", effects)
