"""Sandbox scale: a deployment group of 1,000 instances through the HTTP endpoint.

Run by hand: `.venv/bin/python bench/sandbox_scale.py [--instances N] [--baseline M] [--asg]`.
In one run, against one sandbox server, it deploys to a baseline group of M instances (default
100) and then to the big group of N (default 1,000), each with the agent installed by user data
(first boot, agent version and OS decided from what was built), and prints for each how long
launching, the deployment (CreateDeployment to a final status, default clock) and reading every
target back (paginated ListDeploymentTargets + BatchGetDeploymentTargets in batches of 25) take,
then the ratio big/baseline for the deployment. The target is under a minute for the 1,000
deployment on a 2-core machine; the ratio shows how the time grows with the fleet (a
deployment's batches take the same clock time, so the growth is the per-instance work).

`--asg` (default 500 instances) builds the fleet as an Auto Scaling group behind one target group
of an Application Load Balancer and deploys IN_PLACE WITH_TRAFFIC_CONTROL (BlockTraffic and
AllowTraffic on every instance, through the target group); it also reads DescribeTargetHealth
after the deployment (every target must be healthy).
"""

from __future__ import annotations

import argparse
import time
from typing import Any


def run(url: str, name: str, count: int, config: str) -> dict[str, Any]:
    from wizard.sandbox import scenarios
    from wizard.sandbox.world import World, zip_bundle

    w = World(url, name=name)
    t0 = time.perf_counter()
    bucket = w.bucket()
    role = w.service_role()
    profile = w.instance_profile(bucket=bucket)
    ids: list[str] = []
    while len(ids) < count:
        ids += w.launch(min(250, count - len(ids)), profile=profile)
    _, group = w.application(role, config=config)
    etag = w.put_bundle(bucket, "app.zip", zip_bundle(scenarios._files(w)))
    t1 = time.perf_counter()
    did = w.deploy(group, bucket, "app.zip", etag=etag)
    info = w.wait(did, timeout=600)
    t2 = time.perf_counter()
    targets = w.targets(did)
    t3 = time.perf_counter()
    assert len(targets) == len(ids), (len(targets), len(ids))
    assert {t["targetId"] for t in targets} == set(ids)
    print(f"{count:5d} instances: launched and set up in {t1 - t0:5.1f} s")
    print(
        f"{count:5d} instances: deployment {did} {info['status']} with {config} in "
        f"{t2 - t1:5.1f} s ({info['deploymentOverview']})"
    )
    print(f"{count:5d} instances: read every target (25 per batch) in {t3 - t2:5.1f} s")
    return {"status": info["status"], "deploy": t2 - t1}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=None)
    parser.add_argument("--baseline", type=int, default=100)
    parser.add_argument("--config", default="CodeDeployDefault.HalfAtATime")
    parser.add_argument("--asg", action="store_true", help="an Auto Scaling group behind an ALB")
    args = parser.parse_args()
    if args.asg:
        return fleet(args.instances or 500, args.config)
    args.instances = args.instances or 1000

    from wizard.sandbox.server import SandboxServer

    with SandboxServer() as server:
        base = run(server.url, "scale-base", args.baseline, args.config)
        big = run(server.url, "scale", args.instances, args.config)
    ratio = big["deploy"] / base["deploy"] if base["deploy"] else float("inf")
    print(
        f"deployment time {args.instances} / {args.baseline} instances: {ratio:.2f}x "
        f"({big['deploy']:.1f} s; target: under 60 s)"
    )
    return 0 if big["status"] == base["status"] == "Succeeded" and big["deploy"] < 60 else 1


def fleet(n: int, config: str) -> int:
    """A deployment to an n-instance Auto Scaling group through one target group."""
    from wizard.sandbox import scenarios
    from wizard.sandbox.fleetworld import FleetWorld
    from wizard.sandbox.server import SandboxServer
    from wizard.sandbox.world import zip_bundle

    with SandboxServer() as server:
        w = FleetWorld(server.url, name="scale-asg")
        t0 = time.perf_counter()
        bucket = w.bucket()
        role = w.service_role()
        profile = w.instance_profile(bucket=bucket)
        bal = w.load_balancer()
        template = w.launch_template(profile, security_groups=[bal.instance_security_group])
        asg = w.auto_scaling_group(
            template, desired=n, target_group_arns=[bal.target_group_arn], tags=None
        )
        _, group = w.fleet_application(role, asg, target_group=bal.target_group, config=config)
        etag = w.put_bundle(bucket, "app.zip", zip_bundle(scenarios._files(w)))
        ids = w.asg_instances(asg)
        t1 = time.perf_counter()
        print(f"ASG of {len(ids)} instances behind one target group, {t1 - t0:.1f} s")

        did = w.deploy(group, bucket, "app.zip", etag=etag)
        info = w.wait(did, timeout=600)
        t2 = time.perf_counter()
        print(
            f"deployment {did} {info['status']} with {config} WITH_TRAFFIC_CONTROL in "
            f"{t2 - t1:.1f} s ({info['deploymentOverview']})"
        )
        targets = w.targets(did)
        events = {e["lifecycleEventName"] for t in targets for e in t["lifecycleEvents"]}
        assert {"BlockTraffic", "AllowTraffic"} <= events, events
        health = w.client("elbv2").describe_target_health(TargetGroupArn=bal.target_group_arn)
        states: dict[str, int] = {}
        for d in health["TargetHealthDescriptions"]:
            states[d["TargetHealth"]["State"]] = states.get(d["TargetHealth"]["State"], 0) + 1
        t3 = time.perf_counter()
        print(f"read {len(targets)} targets and their health ({states}) in {t3 - t2:.1f} s")
    ok = info["status"] == "Succeeded" and states.get("healthy") == len(ids) == n
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
