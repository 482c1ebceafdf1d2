"""Benchmark `wizard diagnose` on failed deployments of 10, 100 and 1,000 instances in the sandbox.

For each size it builds a world through the AWS APIs (the sandbox's scenario builder), lets the
deployment fail on the simulated fleet, then runs `checks.runner.diagnose` on a fresh AwsContext
and reports its wall time and the number of AWS calls (counted with botocore `before-call` events).
Next to it, in the same run, a minimal replay: every *distinct* call diagnose made (same operation,
same parameters; repeated polls dropped), issued again in dependency waves, each wave fully
concurrent. That is the floor for this evidence: the calls no diagnosis of this depth can avoid.
Targets: diagnose wall <= 2x the replay, calls <= 1.2x the minimum.

    .venv/bin/python bench/diagnose.py                      # 10, 100, 1000; both scenarios
    .venv/bin/python bench/diagnose.py --sizes 10,100 --scenario agent-stopped --json
    .venv/bin/python bench/diagnose.py --sizes 500 --scenario allow-traffic   # issue 15's target
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SCENARIOS: dict[str, dict[str, Any]] = {
    # the agent never ran: every instance is looked at through SSM Run Command
    "agent-stopped": {"tags": {"sandbox:agent": "stopped"}},
    # the agent ran DownloadBundle and got Access Denied: roles, policies, simulation
    "role-no-s3-read": {"s3_read": False},
}
# an Auto Scaling group behind one target group whose health checks fail (AllowTraffic): the
# load balancer evidence (target groups, health, attributes) and the Auto Scaling group's
FLEET_SCENARIOS = ("allow-traffic",)
SERVICES = ("codedeploy", "ec2", "iam", "s3", "ssm", "kms", "sts", "elbv2", "autoscaling")
# replay waves: what must be known before a call can be made
WAVES = (
    {"GetDeployment", "ListDeployments", "BatchGetDeployments", "GetCallerIdentity"},
    {"ListDeploymentTargets", "GetDeploymentGroup", "ListDeployments"},
    {
        "BatchGetDeploymentTargets",
        "DescribeInstances",
        "GetDeploymentConfig",
        "GetRole",
        "GetBucketLocation",
        "GetBucketPolicy",
        "HeadObject",
        "ListAttachedRolePolicies",
        "DescribeTargetGroups",
        "DescribeAutoScalingGroups",
        "DescribeLifecycleHooks",
    },
    {
        "GetInstanceProfile",
        "GetObject",
        "DescribeInstanceInformation",
        "DescribeIamInstanceProfileAssociations",
        "DescribeKey",
        "DescribeTargetHealth",
        "DescribeTargetGroupAttributes",
        "DescribeLoadBalancers",
    },
    {
        "SimulatePrincipalPolicy",
        "SendCommand",
        "ListRolePolicies",
        "GetRolePolicy",
        "GetPolicy",
        "GetPolicyVersion",
        "GetKeyPolicy",
    },
    {"ListCommandInvocations", "GetCommandInvocation"},
)


class Recorder:
    """Counts every AWS call (before-call) and keeps its API parameters for the replay."""

    def __init__(self, ctx: Any) -> None:
        self.calls: list[tuple[str, str, dict[str, Any]]] = []
        self.count = 0
        self._lock = threading.Lock()
        self._params: dict[int, tuple[str, str, dict[str, Any]]] = {}
        for service in SERVICES:
            client = ctx.client(service)
            client.meta.events.register("before-parameter-build", self._record)
            client.meta.events.register("before-call", self._count)

    def _record(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        service = model.service_model.service_name
        with self._lock:
            self.calls.append((service, model.name, copy.deepcopy(params)))

    def _count(self, **_: Any) -> None:
        with self._lock:
            self.count += 1


def distinct(calls: list[tuple[str, str, dict[str, Any]]]) -> list[tuple[str, str, dict[str, Any]]]:
    seen: set[str] = set()
    out = []
    for service, op, params in calls:
        key = json.dumps([service, op, params], sort_keys=True, default=str)
        if key not in seen:
            seen.add(key)
            out.append((service, op, params))
    return out


def replay(ctx: Any, calls: list[tuple[str, str, dict[str, Any]]]) -> float:
    """Issue `calls` again, wave by wave, each wave concurrent; the wall time."""
    from botocore import xform_name

    pending = list(calls)
    waves: list[list[tuple[str, str, dict[str, Any]]]] = []
    for ops in WAVES:
        waves.append([c for c in pending if c[1] in ops])
        pending = [c for c in pending if c[1] not in ops]
    waves.append(pending)
    for service in SERVICES:
        ctx.client(service)  # clients exist before the clock starts, as in the diagnose run

    def call(c: tuple[str, str, dict[str, Any]]) -> None:
        service, op, params = c
        try:
            getattr(ctx.client(service), xform_name(op))(**params)
        except Exception:
            pass  # a denied/absent answer costs the same round trip

    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=16) as pool:
        for wave in waves:
            list(pool.map(call, wave))
    return time.perf_counter() - t0


def new_ctx(url: str) -> Any:
    from wizard.aws import AwsContext

    return AwsContext(
        region="us-east-1",
        endpoint_url=url,
        sandbox=True,
        access_key="sandbox",
        secret_key="sandbox",
    )


def fleet_world(url: str, name: str, n: int) -> dict[str, Any]:
    """n instances of an Auto Scaling group behind one target group, deployed with HalfAtATime
    WITH_TRAFFIC_CONTROL; the application answers the health check with 404, so AllowTraffic
    fails on the first half and the deployment stops (HEALTH_CONSTRAINTS)."""
    from wizard.sandbox import scenarios
    from wizard.sandbox.fleetworld import FleetWorld
    from wizard.sandbox.world import zip_bundle

    w = FleetWorld(url, name=name)
    bucket = w.bucket()
    role = w.service_role()
    profile = w.instance_profile(bucket=bucket)
    bal = w.load_balancer(health_check_path="/health")
    template = w.launch_template(profile, security_groups=[bal.instance_security_group])
    asg = w.auto_scaling_group(
        template,
        desired=n,
        target_group_arns=[bal.target_group_arn],
        tags={"sandbox:target-health": "unhealthy:Target.ResponseCodeMismatch:404"},
    )
    _, group = w.fleet_application(
        role, asg, target_group=bal.target_group, config="CodeDeployDefault.HalfAtATime"
    )
    etag = w.put_bundle(bucket, "app.zip", zip_bundle(scenarios._files(w)))
    did = w.deploy(group, bucket, "app.zip", etag=etag)
    info = w.wait(did, timeout=600)
    return {"deployment_id": did, "status": info["status"]}


def one(url: str, scenario: str, n: int) -> dict[str, Any]:
    from checks.runner import diagnose
    from wizard.sandbox import scenarios
    from wizard.sandbox.world import World

    name = f"bench-{scenario[:5]}-{n}-{uuid.uuid4().hex[:4]}"
    t0 = time.perf_counter()
    if scenario in FLEET_SCENARIOS:
        world = fleet_world(url, name, n)
    else:
        world = scenarios.build(World(url, name=name), count=n, **SCENARIOS[scenario])
    built = time.perf_counter() - t0
    ctx = new_ctx(url)
    rec = Recorder(ctx)
    t0 = time.perf_counter()
    report = diagnose(ctx, deployment_id=world["deployment_id"])
    wall = time.perf_counter() - t0
    minimal = distinct(rec.calls)
    replay_wall = replay(new_ctx(url), minimal)
    by_op: dict[str, int] = {}
    for _, op, _ in rec.calls:
        by_op[op] = by_op.get(op, 0) + 1
    return {
        "scenario": scenario,
        "instances": n,
        "deployment_status": world.get("status"),
        "root_cause": report.root_causes[0] if report.root_causes else None,
        "build_seconds": round(built, 2),
        "wall": round(wall, 3),
        "calls": rec.count,
        "replay_wall": round(replay_wall, 3),
        "minimum_calls": len(minimal),
        "wall_ratio": round(wall / replay_wall, 2) if replay_wall else None,
        "call_ratio": round(rec.count / len(minimal), 2) if minimal else None,
        "calls_by_operation": dict(sorted(by_op.items())),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10,100,1000")
    parser.add_argument("--scenario", choices=[*SCENARIOS, *FLEET_SCENARIOS, "all"], default="all")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    names = [*SCENARIOS, *FLEET_SCENARIOS] if args.scenario == "all" else [args.scenario]
    from wizard.sandbox.server import SandboxServer

    rows = []
    with SandboxServer() as server:
        for scenario in names:
            for n in sizes:
                row = one(server.url, scenario, n)
                rows.append(row)
                if not args.json:
                    ok = (row["wall_ratio"] or 0) <= 2.0 and (row["call_ratio"] or 0) <= 1.2
                    print(
                        f"{scenario:16} {n:5} instances  diagnose {row['wall']:7.2f} s "
                        f"{row['calls']:5} calls | replay {row['replay_wall']:7.2f} s "
                        f"{row['minimum_calls']:5} calls | x{row['wall_ratio']} wall "
                        f"x{row['call_ratio']} calls {'OK' if ok else 'MISSED'} "
                        f"(root cause {row['root_cause']})",
                        flush=True,
                    )
    if args.json:
        print(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
