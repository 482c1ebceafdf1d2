"""The checks after `wizard apply` / `setup --yes`, and the wait for what only needs time.

After apply, the diagnose checks that prove the setup run in preflight mode and decide the exit
code (1 when one fails). One verdict is not a verdict yet right after a launch: an instance the
wizard launched a few minutes ago is still booting (the SSM agent registers a minute or so after
launch) and running its user data (dnf/apt, then the CodeDeploy installer, then the agent starts:
a few minutes on AWS). `agent.running` then says "could not look inside" or "agent not installed"
about instances that are simply not ready. Those results are waited for, through AWS only:

1. SSM `DescribeInstanceInformation` for the new instances, until they are `Online` (the SSM agent
   registers once the instance has booted and its role allows it);
2. then `agent.running` again (it runs `systemctl is-active codedeploy-agent` through Run
   Command), until it passes;

with a progress line, a bounded timeout (`--wait-timeout`, default 10 minutes) and `--no-wait` to
skip. A result waits only when every instance it names was launched by the wizard (its instances
step, or its Auto Scaling group) within `SETTLE_WINDOW` — an adopted instance without an agent
will not grow one — and the instance role has SSM (without it nothing can look inside, and the
result stays a warning). After the timeout the verdict counts as it is, a "could not look inside"
becoming a failure.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

SETTLING = ("agent.running",)  # checks whose verdict on a new instance needs time
SETTLE_WINDOW = 30 * 60  # seconds after launch an instance may still be installing its agent
DEFAULT_TIMEOUT = 600.0


class Outcome:
    """What the verification found: `report` (or None), `problems` (check ids), `note`."""

    def __init__(self, report: Any = None, note: str | None = None, broken: bool = False) -> None:
        self.report = report
        self.note = note
        self.broken = broken  # the checks could not run at all

    @property
    def problems(self) -> list[str]:
        if self.report is None:
            return ["verify"] if self.broken else []
        return [r.id for r in self.report.results if r.status.problem]


def young_instances(ctx: Any, project: Any) -> dict[str, float]:
    """{instance id: seconds since launch} of the live instances the wizard launched recently:
    by its instances step (launched tag) or by its Auto Scaling group (the group's own tag)."""
    from wizard import TAG_KEY
    from wizard.steps import engine, instances

    sc = engine.step_context(ctx, project)
    now = datetime.now(timezone.utc)
    out: dict[str, float] = {}
    ec2 = sc.client("ec2")
    filters = [
        {"Name": f"tag:{TAG_KEY}", "Values": [sc.application]},
        {"Name": "instance-state-name", "Values": ["pending", "running"]},
    ]
    ours = [
        i
        for page in ec2.get_paginator("describe_instances").paginate(Filters=filters)
        for r in page["Reservations"]
        for i in r["Instances"]
        if instances.launched_by_us(sc, i) or instances.in_our_auto_scaling_group(sc, i)
    ]
    for inst in ours:
        launched = inst.get("LaunchTime")
        if not isinstance(launched, datetime):
            continue
        if launched.tzinfo is None:
            launched = launched.replace(tzinfo=timezone.utc)
        age = (now - launched).total_seconds()
        if age < SETTLE_WINDOW:
            out[inst["InstanceId"]] = max(age, 0.0)
    return out


def settling(report: Any, young: dict[str, float], ssm: bool) -> list[Any]:
    """The results that only need time: a settling check, not passing, about young ones only."""
    from checks.model import Status

    if not ssm or not young:
        return []
    return [
        r
        for r in report.results
        if r.id in SETTLING
        and r.status in (Status.FAIL, Status.WARN)
        and r.instances
        and all(i in young for i in r.instances)
    ]


def unverified(result: Any, young: dict[str, float]) -> list[str]:
    """The new instances a settling result has not verified yet: those it names and those it
    could not look inside. `agent.running` names only the instances of its first failing kind
    ("1 of 2 instances: agent not installed"); an instance still booting (not yet in SSM) is
    kept in its evidence, and is not verified either."""
    unseen = (getattr(result, "evidence", None) or {}).get("could_not_look") or {}
    ids = set(result.instances) | (set(unseen) if isinstance(unseen, dict) else set())
    return sorted(i for i in ids if i in young)


def ssm_online(ctx: Any, region: str, ids: list[str]) -> set[str] | None:
    """The ids SSM reports Online; None when SSM cannot be asked (no permission, no endpoint)."""
    ssm = ctx.client("ssm", region)
    online: set[str] = set()
    try:
        for i in range(0, len(ids), 50):  # InstanceIds filter: at most 50 values
            pages = ssm.get_paginator("describe_instance_information").paginate(
                Filters=[{"Key": "InstanceIds", "Values": ids[i : i + 50]}]
            )
            for page in pages:
                for info in page.get("InstanceInformationList", []):
                    if info.get("PingStatus") == "Online":
                        online.add(info["InstanceId"])
    except Exception:
        return None
    return online


def _clock(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 60}:{s % 60:02d}"


class ProgressLine:
    """One line that updates in place on a terminal; elsewhere a line per change of state."""

    def __init__(self, stream: Any = None) -> None:
        self.out = stream or sys.stdout
        self.tty = bool(getattr(self.out, "isatty", lambda: False)())
        self.last = ""

    def show(self, text: str, state: str) -> None:
        if self.tty:
            print(f"\r{text}\x1b[K", end="", file=self.out, flush=True)
        elif state != self.last:
            print(text, file=self.out, flush=True)
        self.last = state

    def end(self) -> None:
        if self.tty and self.last:
            print(file=self.out, flush=True)


def wait_until_settled(
    ctx: Any,
    project: Any,
    region: str,
    pending: list[Any],
    young: dict[str, float],
    *,
    timeout: float,
    run_checks: Callable[[list[str]], Any],
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
    stream: Any = None,
) -> bool:
    """Poll SSM, then the settling checks, until they pass or `timeout` seconds have passed.

    Returns True when every settling result passed. The first poll comes soon (the sandbox's
    clock is compressed), then every few seconds (AWS: the agent needs minutes).
    """
    ids = sorted({i for r in pending for i in unverified(r, young)})
    check_ids = sorted({r.id for r in pending})
    line = ProgressLine(stream)
    start = monotonic()
    delay, max_delay = (0.25, 2.0) if getattr(ctx, "sandbox", False) else (5.0, 15.0)
    n = len(ids)
    what = f"{n} new instance{'s' * (n != 1)}"
    try:
        while True:
            elapsed = monotonic() - start
            online = ssm_online(ctx, region, ids)
            if online is not None and len(online) < n:
                where = f"{len(online)}/{n} online in SSM"
                line.show(
                    f"[…] waiting for the CodeDeploy agent on {what} ({where}) {_clock(elapsed)}, "
                    f"up to {_clock(timeout)}; --no-wait skips this",
                    where,
                )
            else:
                report = run_checks(check_ids)
                left = settling(report, young, True)
                if not left:
                    line.show(f"[✓] the CodeDeploy agent runs on {what} ({_clock(elapsed)})", "ok")
                    return True
                line.show(
                    f"[…] waiting for the CodeDeploy agent on {what} (booted, agent not running "
                    f"yet) {_clock(elapsed)}, up to {_clock(timeout)}; --no-wait skips this",
                    "agent",
                )
            if monotonic() - start + delay > timeout:
                line.show(
                    f"[✗] the CodeDeploy agent did not come up on {what} within {_clock(timeout)}",
                    "timeout",
                )
                return False
            sleep(delay)
            delay = min(delay * 2, max_delay)
    finally:
        line.end()


def not_yet(
    results: list[Any], young: dict[str, float], later: Callable[[str], str] | None = None
) -> None:
    """--no-wait: say the result is not a verdict yet (INFO), and how to look later (`later`
    words the command, e.g. for a sandbox that ends with this command; default: as it is)."""
    from checks.model import Status

    for r in results:
        ids = unverified(r, young) or list(r.instances)
        r.instances = ids  # what --json lists is what the line counts
        age = min(young.get(i, 0.0) for i in ids)
        n = len(ids)
        r.status = Status.INFO
        r.summary = (
            f"not verified yet: {n} instance{'s' * (n != 1)} launched {_clock(age)} ago may "
            "still be installing the agent (--no-wait); later: "
            + (later or str)(f"wizard diagnose --preflight --check {r.id}")
        )


def timed_out(results: list[Any], timeout: float) -> None:
    """After the timeout, a result that could not look inside is a failure (not a pass)."""
    from checks.model import Status

    for r in results:
        if r.status is Status.WARN:
            r.status = Status.FAIL
            r.summary = f"after waiting {_clock(timeout)}: {r.summary}"
