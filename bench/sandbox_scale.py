"""Sandbox scale: a deployment group of 1,000 instances through the HTTP endpoint.

Run by hand: `.venv/bin/python bench/sandbox_scale.py [--instances N] [--config NAME]`.
Prints how long launching, the deployment (CreateDeployment to a final status, default clock)
and reading every target back (paginated ListDeploymentTargets + BatchGetDeploymentTargets in
batches of 25) take. The target is under a minute for the deployment on a 2-core machine.
"""

from __future__ import annotations

import argparse
import time


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=1000)
    parser.add_argument("--config", default="CodeDeployDefault.HalfAtATime")
    args = parser.parse_args()

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


if __name__ == "__main__":
    raise SystemExit(main())
