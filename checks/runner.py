"""Run the catalogue: prerequisites as a graph, independent checks concurrently, stable order.

`diagnose(ctx, ...)` is the one entry point (the CLI, the TUI screen and `wizard deploy` call it).
Checks share one Evidence cache and the AwsContext's thread-safe clients. A check whose
prerequisite failed (or was skipped, or broke) is SKIP with the reason; a check that raises is an
ERROR result, never a traceback; a check that runs past its timeout is an ERROR and its dependents
are skipped. Results come back in catalogue order whatever order they finish in.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from checks import interpret, registry
from checks.evidence import DENIED, Evidence, Unavailable, error_code
from checks.model import Check, Fix, Result, Status

SCHEMA_VERSION = 1
SYMPTOM = "deployment.status"  # the outcome: a root cause only when nothing else explains it


class CheckContext:
    """What a check's `run(ctx)` receives: the AWS context, the shared evidence, earlier results."""

    def __init__(
        self, aws: Any, ev: Evidence, *, local: bool = False, fixed: Iterable[str] = ()
    ) -> None:
        self.aws = aws
        self.ev = ev
        self.local = local
        self.preflight = ev.preflight
        # instances a --fix just repaired: their failure in the (older) deployment is explained
        self.fixed_instances: set[str] = set(fixed)
        self._results: dict[str, Result] = {}

    def result(self, check_id: str) -> Result | None:
        """The result of a check that already finished (prerequisites always have)."""
        return self._results.get(check_id)

    def pointed(self, check_id: str) -> list[interpret.Failure]:
        """Failed targets whose first failure names `check_id` as a possible cause."""
        return [f for f in self.ev.failures() if check_id in f.cause.checks]

    def targets_total(self) -> int | None:
        """How many instances the deployment has (None in preflight)."""
        dep = self.ev.deployment()
        if not dep:
            return None
        return sum(int(v or 0) for v in (dep.get("deploymentOverview") or {}).values())

    def nothing_to_read(self) -> Result | None:
        """The Result for a check that reads lifecycle events when there are none to read: no
        targets (SKIP, 'nothing to look at'), or a deployment still running (INFO) — never a ✓
        for something nobody looked at."""
        from checks.model import info, skip

        dep = self.ev.deployment()
        if dep is None:
            return None
        if not self.targets_total():
            return skip("nothing to look at: the deployment had no instances")
        if dep.get("status") in ("Created", "Queued", "InProgress", "Baking", "Ready"):
            return info(f"nothing failed yet: the deployment is still {dep.get('status')}")
        return None

    def deployment_code(self) -> str | None:
        dep = self.ev.deployment()
        return ((dep or {}).get("errorInformation") or {}).get("code")


@dataclass
class Report:
    """Everything `wizard diagnose` found; `to_json()` is the DESIGN.md document."""

    results: list[Result]
    deployment: dict[str, Any] | None
    root_causes: list[str]
    application: str | None = None
    deployment_group: str | None = None
    region: str = ""
    sandbox: bool = False
    preflight: bool = False
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    failures: list[interpret.Failure] = field(default_factory=list, repr=False)
    applied: list[str] = field(default_factory=list)  # what --fix changed, in words

    def result(self, check_id: str) -> Result | None:
        return next((r for r in self.results if r.id == check_id), None)

    @property
    def root_cause(self) -> Result | None:
        """The most likely root cause (a failing Result), or None when nothing failed."""
        return self.result(self.root_causes[0]) if self.root_causes else None

    @property
    def problems(self) -> list[Result]:
        """Failing and broken results; the deployment's outcome counts only when nothing else
        explains it (it is the symptom, not a second problem)."""
        explained = bool([c for c in self.root_causes if c != SYMPTOM])
        return [
            r
            for r in self.results
            if r.status.problem and not (explained and r.id == SYMPTOM and r.status is Status.FAIL)
        ]

    @property
    def ready_to_redeploy(self) -> bool:
        """Fixes were applied, nothing fails any more, yet the deployment looked at did not
        succeed: the next step is a new deployment (the TUI offers "Deploy again")."""
        dep_ok = (self.deployment or {}).get("status") in (None, "Succeeded", "Ready")
        return bool(self.applied) and not self.problems and not dep_ok

    @property
    def exit_code(self) -> int:
        """0 when the deployment (if any) succeeded and no check failed or broke; else 1."""
        if self.problems:
            return 1
        if self.deployment and self.deployment.get("status") not in ("Succeeded", "Ready"):
            return 1
        return 0

    def counts(self) -> dict[str, int]:
        out = {s.value: 0 for s in Status}
        for r in self.results:
            out[r.status.value] += 1
        return out

    def automatic_fixes(self) -> list[Result]:
        """The failing results `--fix` can act on (empty: offer no Fix button)."""
        return [r for r in self.results if r.has_automatic_fix]

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "deployment": self.deployment,
            "application": self.application,
            "deployment_group": self.deployment_group,
            "region": self.region,
            "sandbox": self.sandbox,
            "preflight": self.preflight,
            "results": [r.to_json() for r in self.results],
            "root_causes": list(self.root_causes),
            "notes": list(self.notes),
            "applied": list(self.applied),
        }


def _deployment_doc(dep: dict[str, Any] | None) -> dict[str, Any] | None:
    if not dep:
        return None
    err = dep.get("errorInformation") or {}
    overview = {k: int(v) for k, v in (dep.get("deploymentOverview") or {}).items() if v}
    return {
        "id": dep.get("deploymentId"),
        "status": dep.get("status"),
        "error_code": err.get("code"),
        "error_message": err.get("message"),
        "instances": overview,
        "application": dep.get("applicationName"),
        "deployment_group": dep.get("deploymentGroupName"),
        "deployment_config": dep.get("deploymentConfigName"),
        "create_time": _iso(dep.get("createTime")),
    }


def _iso(value: Any) -> str | None:
    """ISO 8601 with a `T` (what JSON readers parse), not str(datetime)'s space form."""
    if not value:
        return None
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def run_check(check: Check, cctx: CheckContext) -> Result:
    """Run one check, turning 'could not see' into WARN and a crash into ERROR."""
    t0 = time.monotonic()
    try:
        res = check.run(cctx)
        if not isinstance(res, Result):
            raise TypeError(f"check returned {type(res).__name__}, not Result")
    except Unavailable as u:
        res = Result(
            Status.WARN,
            f"could not see: {u.reason}",
            evidence={"unavailable": u.reason},
            fix=Fix(f"Look by hand: {u.how}" if u.how else u.reason, [u.how] if u.how else []),
        )
    except Exception as exc:
        code = error_code(exc)
        if code in DENIED or type(exc).__name__ == "AccessDeniedError":
            op = getattr(exc, "operation_name", "") or ""
            res = Result(
                Status.WARN,
                f"could not see: access denied{' for ' + op if op else ''}",
                evidence={"error": str(exc)},
                fix=Fix("Run diagnose with a principal that may read this, or look by hand."),
            )
        else:
            res = Result(
                Status.ERROR,
                f"the check broke: {type(exc).__name__}: {exc}",
                evidence={"traceback": traceback.format_exc(limit=6)},
            )
    res.id, res.title = check.id, check.title
    res.seconds = round(time.monotonic() - t0, 3)
    return res


def _rank(results: list[Result], code: str | None, failures: list[interpret.Failure]) -> list[str]:
    """Failing checks, most likely root cause first.

    Score: the deployment-level error code naming the check, then the number of failed instances
    whose first failure points at it (the first *failing* candidate of each failure gets the
    credit), then catalogue priority (upstream causes first). deployment.status is the symptom: it
    is a root cause only when no other check explains the failure.
    """
    failing = {r.id: r for r in results if r.status is Status.FAIL}
    if not failing:
        return []
    credit: dict[str, int] = dict.fromkeys(failing, 0)
    code_hit: set[str] = set()
    if code in interpret.DEPLOYMENT_CODES:
        for cid in interpret.DEPLOYMENT_CODES[code][0]:
            if cid in failing:
                code_hit.add(cid)
                break
    for f in failures:
        for cid in f.cause.checks:
            if cid in failing:
                credit[cid] += 1
                break
    order = {c.id: (c.priority, i) for i, c in enumerate(registry.all_checks())}

    def key(cid: str) -> tuple:
        return (
            cid == SYMPTOM,
            cid not in code_hit,
            -credit.get(cid, 0),
            order.get(cid, (99, 99)),
        )

    ranked = sorted(failing, key=key)
    if SYMPTOM not in ranked or len(ranked) == 1:
        return ranked
    others = [c for c in ranked if c != SYMPTOM]
    if any(c in code_hit or credit[c] for c in others):
        return others  # explained by its causes: the outcome is not a second problem
    unexplained_code = (
        bool(code)
        and code in interpret.DEPLOYMENT_CODES
        and not (interpret.DEPLOYMENT_CODES[code][0] or code == "HEALTH_CONSTRAINTS")
    )
    if credit.get(SYMPTOM) or unexplained_code:
        return [SYMPTOM, *others]  # e.g. MANUAL_STOP, an unclassified lifecycle error
    return others


def _then_deploy(fix: Fix) -> Fix:
    """The cause's fix, as the symptom's: the same actions, then a new deployment."""
    summary = fix.summary.strip()
    commands = list(fix.commands)
    if "deploy again" not in summary.lower():
        summary = summary.rstrip(".") + ", then deploy again."
    if not any(c.startswith("wizard deploy") for c in commands):
        commands.append("wizard deploy")
    return Fix(summary, commands)


def finalize(
    results: list[Result], ranked: list[str], *, applied: list[str] | None = None
) -> list[str]:
    """Point the symptom (deployment.status) at its root cause, in words of action.

    Called after every ranking (and again after `--fix` re-ran checks): the symptom's fix is
    the first cause's fix followed by a new deployment; when fixes were applied and no cause is
    left, the failed deployment is history, so the symptom says to deploy again (WARN) instead of
    naming a cause that passes now.
    """
    symptom = next((r for r in results if r.id == SYMPTOM), None)
    if symptom is None:
        return ranked
    if symptom.own_fix is None:
        symptom.own_fix = symptom.fix
    symptom.evidence.pop("explained_by", None)
    causes = [c for c in ranked if c != SYMPTOM]
    by_id = {r.id: r for r in results}
    if causes and symptom.status is Status.FAIL:
        cause = by_id[causes[0]]
        symptom.evidence["explained_by"] = cause.id
        symptom.fix = _then_deploy(cause.fix) if cause.fix else symptom.own_fix
        return ranked
    symptom.fix = symptom.own_fix
    if applied and not causes and symptom.status is Status.FAIL:
        symptom.status = Status.WARN
        symptom.summary = f"before the fixes: {symptom.summary}"
        symptom.fix = Fix("Deploy again: the fixes above addressed what failed.", ["wizard deploy"])
        return []
    if not causes and symptom.status is Status.FAIL and _cause_passes_now(symptom, by_id):
        # its failures point at checks that pass now: fixed since the deployment ran
        symptom.status = Status.WARN
        symptom.summary = f"{symptom.summary} — what caused it passes now (fixed since?)"
        symptom.fix = Fix(
            "Deploy again: the checks that explain this failure pass now.", ["wizard deploy"]
        )
        return [c for c in ranked if c != SYMPTOM]
    return ranked


def _cause_passes_now(symptom: Result, by_id: dict[str, Result]) -> bool:
    """Every failure group of the deployment points at checks that ran and now pass."""
    groups = symptom.evidence.get("failures") or []
    if not groups:
        return False
    for g in groups:
        pointers = [c for c in g.get("checks") or [] if c != SYMPTOM]
        ran = [by_id[c] for c in pointers if c in by_id]
        if not ran or any(r.status not in (Status.PASS, Status.INFO) for r in ran):
            return False  # a check that could not see (WARN) proves nothing
    return True


def _rank_results(results: list[Result], report: Report) -> list[str]:
    """Rank again (after --fix re-ran some checks) with the report's deployment evidence."""
    return _rank(results, (report.deployment or {}).get("error_code"), report.failures)


def diagnose(
    ctx: Any,
    *,
    deployment_id: str | None = None,
    application: str | None = None,
    deployment_group: str | None = None,
    check_ids: Iterable[str] | None = None,
    preflight: bool = False,
    local: bool = False,
    on_result: Callable[[Result], None] | None = None,
    evidence: Evidence | None = None,
    workers: int | None = None,
    fixed_instances: Iterable[str] = (),
) -> Report:
    """Diagnose one deployment (or, with `preflight`, a group before any deployment).

    With no `deployment_id` the latest deployment of `application`/`deployment_group` is used; a
    group that never deployed is checked as in preflight (noted in `Report.notes`). `check_ids` are
    fnmatch patterns; their prerequisites run too but only the selected ones are reported.
    `on_result(result)` is called (from this thread) as each check finishes, for live displays.
    `fixed_instances` (from `fixes.rerun`): instances a fix just repaired, whose failure in the
    deployment looked at is explained by what was fixed.
    Raises UsageError for unknown check patterns or a deployment that does not exist.
    """
    from wizard.aws import translate_aws_errors
    from wizard.errors import UsageError

    t0 = time.monotonic()
    try:
        selected = registry.select(check_ids)
    except KeyError as exc:
        raise UsageError(
            f"no check matches {exc.args[0]!r} (see `wizard diagnose --list-checks`)"
        ) from None
    if not local and not check_ids:
        selected = [c for c in selected if not c.id.startswith("local.")]
    notes: list[str] = []
    ev = evidence or Evidence(
        ctx,
        deployment_id=deployment_id,
        application=application,
        deployment_group=deployment_group,
        preflight=preflight,
        local=local,
    )
    with translate_aws_errors("codedeploy:GetDeployment"):
        try:
            dep = ev.deployment()
        except Unavailable as u:
            raise UsageError(u.reason) from None
    if dep is None and not preflight:
        notes.append(
            f"no deployment yet in {ev.application}/{ev.group_name}: ran the preflight checks"
        )
        ev.preflight = True
    wanted = {c.id for c in selected}
    to_run = registry.with_prerequisites(selected)
    cctx = CheckContext(ctx, ev, local=local, fixed=fixed_instances)
    results = _schedule(to_run, cctx, on_result, wanted, workers)
    ev.close()
    reported = [r for r in results if r.id in wanted]
    try:
        failures = ev.failures() if dep else []
    except Exception:
        failures = []
    code = ((dep or {}).get("errorInformation") or {}).get("code")
    ranked = finalize(reported, _rank(reported, code, failures))
    return Report(
        results=reported,
        deployment=_deployment_doc(dep),
        root_causes=ranked,
        failures=failures,
        application=ev.application,
        deployment_group=ev.group_name,
        region=getattr(ctx, "region", ""),
        sandbox=bool(getattr(ctx, "sandbox", False)),
        preflight=ev.preflight,
        seconds=round(time.monotonic() - t0, 3),
        notes=notes,
    )


def _schedule(
    checks: list[Check],
    cctx: CheckContext,
    on_result: Callable[[Result], None] | None,
    wanted: set[str],
    workers: int | None,
) -> list[Result]:
    by_id = {c.id: c for c in checks}
    done: dict[str, Result] = {}
    pending = list(checks)
    running: dict[Future[Result], tuple[Check, float]] = {}
    pool = ThreadPoolExecutor(
        max_workers=workers or max(4, len(checks)), thread_name_prefix="check"
    )

    def finish(res: Result) -> None:
        done[res.id] = res
        cctx._results[res.id] = res
        if on_result is not None and res.id in wanted:
            on_result(res)

    try:
        while pending or running:
            progressed = False
            for c in list(pending):
                reqs = [r for r in c.requires if r in by_id]
                waits = reqs + [r for r in c.after if r in by_id]
                if any(r not in done for r in waits):
                    continue
                pending.remove(c)
                progressed = True
                blocked = [
                    r for r in reqs if done[r].status in (Status.FAIL, Status.ERROR, Status.SKIP)
                ]
                if blocked:
                    first = done[blocked[0]]
                    word = {"fail": "failed", "error": "broke", "skip": "was skipped"}[
                        first.status.value
                    ]
                    res = Result(
                        Status.SKIP,
                        f"skipped: {first.id} {word}",
                        evidence={"blocked_by": blocked},
                    )
                    res.id, res.title = c.id, c.title
                    finish(res)
                    continue
                running[pool.submit(run_check, c, cctx)] = (c, time.monotonic() + c.timeout)
            if progressed and pending and not running:
                continue
            if not running:
                if pending:  # a cycle or a missing prerequisite: run nothing that cannot resolve
                    for c in pending:
                        res = Result(Status.ERROR, "prerequisites could not be resolved")
                        res.id, res.title = c.id, c.title
                        finish(res)
                    pending.clear()
                break
            soonest = min(deadline for _, deadline in running.values())
            finished, _ = wait(
                list(running),
                timeout=max(0.0, soonest - time.monotonic()),
                return_when=FIRST_COMPLETED,
            )
            for fut in finished:
                c, _ = running.pop(fut)
                finish(fut.result())
            now = time.monotonic()
            for fut, (c, deadline) in list(running.items()):
                if now >= deadline and not fut.done():
                    running.pop(fut)
                    fut.cancel()
                    res = Result(Status.ERROR, f"the check timed out after {c.timeout:g} s")
                    res.id, res.title = c.id, c.title
                    finish(res)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    return [done[c.id] for c in checks if c.id in done]
