"""Fleet setup and deploy the way a user runs them: `wizard apply` and `wizard deploy --wait`.

Run by hand: `.venv/bin/python bench/fleet_setup.py [--instances 500] [--config NAME]`.

Against one sandbox it builds an Auto Scaling group of N instances behind a created load balancer
twice over HTTP: once through the setup engine from a project file (`instances.auto_scaling` +
`load_balancer.create`, what `wizard apply` runs), once through plain boto3 calls for the same
resources (`wizard.sandbox.fleetworld`, the baseline), and prints both times and their ratio. Then
it deploys the project with `wizard deploy --wait` in a subprocess (bundle, upload, CreateDeployment
and following every instance through BlockTraffic/AllowTraffic, one line per change) and the same
revision to the baseline group with CreateDeployment + polling GetDeployment, and prints both and
their ratio. Issue #15 asks for a HalfAtATime deployment of 500 instances behind one target group
in under a minute; the wizard's own path is the one users see. Finally `wizard destroy --yes`.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

APPSPEC = """version: 0.0
os: linux
files:
  - source: /
    destination: /var/www/bench
hooks:
  ApplicationStart:
    - location: scripts/start.sh
      timeout: 60
"""


def _project(directory: Path, n: int, config: str) -> None:
    (directory / ".codedeploy-wizard.yml").write_text(
        f"application: bench-fleet\ndeployment_config: {config}\n"
        f"instances:\n  auto_scaling: {{min: {n}, max: {n}, desired: {n}}}\n"
        "load_balancer:\n  create: true\nci:\n  provider: none\n"
        "bundle:\n  destination: /var/www/bench\n"
    )
    (directory / "scripts").mkdir(exist_ok=True)
    (directory / "appspec.yml").write_text(APPSPEC)
    start = directory / "scripts" / "start.sh"
    start.write_text("#!/bin/bash\nset -euo pipefail\necho started\n")
    start.chmod(0o755)
    (directory / "index.html").write_text("<h1>bench</h1>\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=500)
    parser.add_argument("--config", default="CodeDeployDefault.HalfAtATime")
    args = parser.parse_args()
    n = args.instances

    from wizard import config
    from wizard.aws import AwsContext
    from wizard.sandbox import scenarios
    from wizard.sandbox.fleetworld import FleetWorld
    from wizard.sandbox.server import SandboxServer
    from wizard.sandbox.world import zip_bundle
    from wizard.steps import engine

    with SandboxServer() as server, tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        _project(directory, n, args.config)
        ctx = AwsContext(
            region="us-east-1",
            endpoint_url=server.url,
            sandbox=True,
            access_key="sandbox",
            secret_key="sandbox",
        )
        project = config.load(directory)

        # ---- baseline: the same kind of world with plain boto3 calls
        t0 = time.perf_counter()
        w = FleetWorld(server.url, name="bench-base")
        bucket = w.bucket()
        role = w.service_role()
        profile = w.instance_profile(bucket=bucket)
        bal = w.load_balancer(interval=10, healthy_threshold=2, deregistration_delay=30)
        template = w.launch_template(profile, security_groups=[bal.instance_security_group])
        asg = w.auto_scaling_group(
            template, desired=n, target_group_arns=[bal.target_group_arn], tags=None
        )
        _, group = w.fleet_application(role, asg, target_group=bal.target_group, config=args.config)
        base_setup = time.perf_counter() - t0

        # ---- the wizard: plan + apply from the project file
        t0 = time.perf_counter()
        plan = engine.build_plan(ctx, project)
        result = engine.apply_plan(ctx, project, plan)
        ours_setup = time.perf_counter() - t0
        if not result.ok:
            print(f"apply failed: {result.error}")
            return 1
        print(
            f"setup of an Auto Scaling group of {n} behind a load balancer: wizard apply "
            f"{ours_setup:.1f} s, boto3 baseline {base_setup:.1f} s "
            f"(ratio {ours_setup / base_setup:.2f})"
        )

        # ---- deploy: baseline CreateDeployment + polling, then `wizard deploy --wait`
        etag = w.put_bundle(bucket, "app.zip", zip_bundle(scenarios._files(w)))
        t0 = time.perf_counter()
        did = w.deploy(group, bucket, "app.zip", etag=etag)
        info = w.wait(did, timeout=600)
        base_deploy = time.perf_counter() - t0
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(server.env("us-east-1"), AWS_CONFIG_FILE=os.devnull)
        env["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "wizard", "deploy", "--wait", "--project-dir", str(directory)],
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        ours_deploy = time.perf_counter() - t0
        lines = proc.stdout.count("\n")
        print(
            f"deployment with {args.config} WITH_TRAFFIC_CONTROL: wizard deploy --wait "
            f"{ours_deploy:.1f} s (exit {proc.returncode}, {lines} lines followed), baseline "
            f"{info['status']} in {base_deploy:.1f} s (ratio {ours_deploy / base_deploy:.2f})"
        )
        traffic = proc.stdout.count("AllowTraffic      Succeeded  healthy in")

        t0 = time.perf_counter()
        gone = subprocess.run(
            [sys.executable, "-m", "wizard", "destroy", "--yes", "--project-dir", str(directory)],
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        print(f"wizard destroy --yes: exit {gone.returncode} in {time.perf_counter() - t0:.1f} s")
    ok = proc.returncode == 0 and traffic == n and gone.returncode == 0
    if not ok:
        print(proc.stderr[-2000:] or proc.stdout[-2000:])
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
