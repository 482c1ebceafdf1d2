"""Sandbox scale: a deployment group of 1,000 instances through the HTTP endpoint.

Run by hand: `.venv/bin/python bench/sandbox_scale.py [--instances N] [--config NAME] [--asg]`.
Prints how long launching, the deployment (CreateDeployment to a final status, default clock)
and reading every target back (paginated ListDeploymentTargets + BatchGetDeploymentTargets in
batches of 25) take. The target is under a minute for the deployment on a 2-core machine.

`--asg` (default 500 instances) builds the fleet as an Auto Scaling group behind one target group
of an Application Load Balancer and deploys IN_PLACE WITH_TRAFFIC_CONTROL (BlockTraffic and
AllowTraffic on every instance, through the target group); it also reads DescribeTargetHealth
after the deployment (every target must be healthy).
"""

from __future__ import annotations

import argparse
import time


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=None)
    parser.add_argument("--config", default="CodeDeployDefault.HalfAtATime")
    parser.add_argument("--asg", action="store_true", help="an Auto Scaling group behind an ALB")
    args = parser.parse_args()
    if args.asg:
        return fleet(args.instances or 500, args.config)
    args.instances = args.instances or 1000

    from wizard.sandbox import scenarios
    from wizard.sandbox.server import SandboxServer
    from wizard.sandbox.world import World, zip_bundle

    with SandboxServer() as server:
        w = World(server.url, name="scale")
        t0 = time.perf_counter()
        bucket = w.bucket()
        role = w.service_role()
        profile = w.instance_profile(bucket=bucket)
        ids: list[str] = []
        while len(ids) < args.instances:
            ids += w.launch(min(250, args.instances - len(ids)), profile=profile)
        _, group = w.application(role, config=args.config)
        etag = w.put_bundle(bucket, "app.zip", zip_bundle(scenarios._files(w)))
        t1 = time.perf_counter()
        print(f"launched {len(ids)} instances and set up in {t1 - t0:.1f} s")

        did = w.deploy(group, bucket, "app.zip", etag=etag)
        info = w.wait(did, timeout=600)
        t2 = time.perf_counter()
        print(
            f"deployment {did} {info['status']} with {args.config} in {t2 - t1:.1f} s "
            f"({info['deploymentOverview']})"
        )
        targets = w.targets(did)
        t3 = time.perf_counter()
        assert len(targets) == len(ids), (len(targets), len(ids))
        assert {t["targetId"] for t in targets} == set(ids)
        print(f"read {len(targets)} targets (paginated, 25 per batch) in {t3 - t2:.1f} s")
    return 0 if info["status"] == "Succeeded" else 1


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
        template = w.launch_template(profile)
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
