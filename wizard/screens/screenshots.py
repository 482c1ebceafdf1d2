"""Regenerate screenshots/*.svg from the real screens, in the sandbox.

    python -m wizard.screens.screenshots [--out screenshots] [--size 100x30]

Walks the setup wizard for an application called `renderer` (two tagged instances adopted),
applies it, saves one SVG per step (and the Instances step once more with an Auto Scaling group
behind a new load balancer chosen), then deploys (DeployScreen) and diagnoses a failed deployment
of the `hook-failed` scenario (DiagnoseScreen), when those screens exist, and finally deploys to
`renderer-web`, an Auto Scaling group behind a load balancer set up by the engine, to show traffic
control on the Deploy screen. The test
tests/tui/test_tui_screenshots.py runs the same `capture` so the README's pictures never go
stale. Everything runs against the embedded sandbox: nothing real is touched.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

DEFAULT_OUT = Path(__file__).resolve().parents[2] / "screenshots"
APPLICATION = "renderer"


async def wait_for_workers(app: Any) -> None:
    """Wait until the app's workers have finished; one replaced by a newer one (an exclusive
    group, e.g. a step re-planned as the identity arrives) counts as finished."""
    from textual.worker import WorkerCancelled

    for worker in list(app.workers):
        try:
            await worker.wait()
        except WorkerCancelled:
            pass


async def _settle(pilot: Any, rounds: int = 4) -> None:
    for _ in range(rounds):
        await pilot.pause()
        await wait_for_workers(pilot.app)
    await pilot.pause()


def _steady(app: Any) -> None:
    from textual.widgets import Input

    for box in app.screen.query(Input):
        box.cursor_blink = False


_VOLATILE = [
    # Textual's per-export class prefix, deployment ids, clock times, revision key timestamps
    # and generated UUIDs change on every run without changing what the screen shows
    (re.compile(r"terminal-\d+"), "terminal-N"),
    (re.compile(r"\bd-[A-Z0-9]{9}\b"), "d-XXXXXXXXX"),
    (re.compile(r"\b\d{2}:\d{2}:\d{2}\b"), "hh:mm:ss"),
    (re.compile(r"\d{8}T\d{6,9}Z?"), "YYYYMMDDTHHMMSSZ"),  # the Z may wrap to the next line
    (re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{0,12}"), "UUID"),
    (re.compile(r"[0-9a-f]{1,12}/d-XXXXXXXXX"), "UUID/d-XXXXXXXXX"),  # a wrapped deployment root
    (re.compile(r"in&#160;\d+(\.\d+)?&#160;s"), "in&#160;N&#160;s"),  # "17 checks in 0.4 s"
    # the default VPC's ids are drawn when the sandbox's EC2 backend is created
    (re.compile(r"\b(subnet|vpc)-[0-9a-f]{8,17}\b"), r"\1-XXXXXXXX"),
    # instance ids: random where other work shares the emulator (the test suite's sandbox)
    (re.compile(r"\bi-[0-9a-f]{8,17}\b"), "i-XXXXXXXX"),
]


def volatile_free(svg: str) -> str:
    """The SVG with run-specific values masked: equal means "the screen did not change"."""
    for pattern, stand_in in _VOLATILE:
        svg = pattern.sub(stand_in, svg)
    return svg


def _seed_ids(ctx: Any, seed: int = 11) -> None:
    """Seed moto's id generator, so instance ids are the same from one run to the next."""
    import urllib.request

    url = f"{ctx.endpoint_url}/moto-api/seed?a={seed}"
    urllib.request.urlopen(urllib.request.Request(url, b"", method="POST")).close()


def _seed_instances(ctx: Any) -> None:
    """Two running instances carrying the application's tag, agent running, SSM online."""

    ec2 = ctx.client("ec2")
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    _seed_ids(ctx)
    tags = {
        "Name": APPLICATION,
        "codedeploy-wizard:application": APPLICATION,
        "sandbox:agent": "running",
        "sandbox:ssm": "online",
    }
    ec2.run_instances(
        ImageId=image,
        MinCount=2,
        MaxCount=2,
        InstanceType="t3.micro",
        TagSpecifications=[
            {"ResourceType": "instance", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}
        ],
    )


async def capture(
    ctx: Any, project_dir: Path, out: Path, size: tuple[int, int] = (100, 30)
) -> list[Path]:
    """Walk the wizard in `project_dir` on `ctx` (a sandbox) and save SVGs into `out`."""
    from wizard.app import create_app
    from wizard.screens.steps import STEP_IDS
    from wizard.screens.wizard import WizardScreen

    out.mkdir(parents=True, exist_ok=True)
    saved: list[Path] = []
    app = create_app(ctx, project_dir)

    def save(name: str) -> None:
        _steady(app)
        path = out / f"{name}.svg"
        svg = app.export_screenshot(title=f"codedeploy-wizard: {name}")
        old = path.read_text(encoding="utf-8") if path.exists() else None
        if old is None or volatile_free(old) != volatile_free(svg):
            path.write_text(svg, encoding="utf-8")
        saved.append(path)

    async with app.run_test(size=size) as pilot:
        await _settle(pilot)
        for number, step in enumerate(STEP_IDS, start=1):
            screen = app.screen
            assert isinstance(screen, WizardScreen) and screen.current == step, step
            if step == "apply":
                await pilot.click("#apply-start")
                await _settle(pilot, rounds=10)
                if not app.state.applied:
                    raise RuntimeError("apply did not finish in the sandbox")
            await pilot.pause()
            save(f"{number:02d}-{step}")
            if step == "instances":
                await _fleet_choice(pilot, save, f"{number:02d}-{step}-auto-scaling")
            if step != "done":
                await pilot.press("ctrl+n")
                await _settle(pilot)
        try:
            import wizard.screens.deploy  # noqa: F401
        except ImportError:
            pass
        else:
            await pilot.click("#open-deploy")
            for _ in range(60):
                await _settle(pilot, rounds=1)
                if getattr(app.screen, "status", ""):
                    break
                await asyncio.sleep(0.5)
            await _settle(pilot)
            await _settled_log(app.screen, pilot)
            save("10-deploy")
            app.pop_screen()
            await _settle(pilot)
        try:
            from wizard.screens.diagnose import DiagnoseScreen
        except ImportError:
            pass
        else:
            from wizard.sandbox.scenarios import seed

            await asyncio.to_thread(_seed_ids, ctx, 12)
            world = await asyncio.to_thread(seed, "hook-failed", ctx.endpoint_url, ctx.region)
            app.push_screen(
                DiagnoseScreen(
                    ctx,
                    deployment_id=world["deployment_id"],
                    application=world["application"],
                    deployment_group=world["deployment_group"],
                )
            )
            await _settle(pilot, rounds=8)
            save("11-diagnose")
            app.pop_screen()
            await _settle(pilot)
        await _fleet_deploy(ctx, project_dir.parent / FLEET, pilot, save)
    return saved


FLEET = "renderer-web"
_FLEET_FILES = {
    "appspec.yml": (
        "version: 0.0\nos: linux\nfiles:\n  - source: /\n    destination: /var/www/renderer-web\n"
        "hooks:\n  ApplicationStart:\n    - location: scripts/start.sh\n      timeout: 60\n"
    ),
    "scripts/start.sh": "#!/bin/bash\nset -euo pipefail\necho started\n",
    "index.html": "<h1>renderer</h1>\n",
}


async def _fleet_choice(pilot: Any, save: Any, name: str) -> None:
    """The Instances step with a new Auto Scaling group behind a new load balancer chosen (not
    saved: the walkthrough goes on with the tagged instances)."""
    from textual.widgets import RadioButton

    screen = pilot.app.screen
    for radio in ("mode-asg", "lb-create"):
        screen.query_one(f"#{radio}", RadioButton).value = True
    await _settle(pilot)
    save(name)
    for radio in ("mode-tag", "lb-none"):
        screen.query_one(f"#{radio}", RadioButton).value = True
    await _settle(pilot)


async def _fleet_deploy(ctx: Any, directory: Path, pilot: Any, save: Any) -> None:
    """Deploy to an Auto Scaling group behind a load balancer: the Traffic column and the
    BlockTraffic / AllowTraffic lines."""
    try:
        from wizard.screens.deploy import DeployScreen
    except ImportError:
        return
    from wizard import config
    from wizard.steps import engine

    directory.mkdir(parents=True, exist_ok=True)
    (directory / ".codedeploy-wizard.yml").write_text(
        f"application: {FLEET}\ndeployment_config: CodeDeployDefault.HalfAtATime\n"
        "instances:\n  auto_scaling: {min: 2, max: 4, desired: 2}\n"
        "load_balancer:\n  create: true\n  health_check_path: /\nci:\n  provider: none\n"
    )
    for rel, text in _FLEET_FILES.items():
        path = directory / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        if rel.endswith(".sh"):
            path.chmod(0o755)
    project = config.load(directory)

    def setup() -> None:
        _seed_ids(ctx, 13)
        result = engine.apply_plan(ctx, project, engine.build_plan(ctx, project))
        if not result.ok:
            raise RuntimeError(f"the fleet setup failed: {result.error}")

    await asyncio.to_thread(setup)
    screen = DeployScreen(ctx, project, directory)
    pilot.app.push_screen(screen)
    for _ in range(60):
        await _settle(pilot, rounds=1)
        if screen.finished:
            break
        await asyncio.sleep(0.5)
    await _settle(pilot)
    await _settled_log(screen, pilot)
    save("12-deploy-traffic")


async def _settled_log(screen: Any, pilot: Any) -> None:
    """Rewrite the Deploy screen's log as a follower arriving after the end sees it.

    Live, which intermediate states a poll catches (an InProgress here, not there) depends on
    the machine's speed; the finished deployment read once gives the same lines on every run.
    """
    from textual.widgets import RichLog

    from wizard.deploy.follow import FollowEvent, follow

    handle = getattr(screen, "handle", None)
    if handle is None or not getattr(screen, "finished", False):
        return
    events: list[FollowEvent] = []
    await asyncio.to_thread(
        follow, screen.ctx, handle.deployment_id, events.append, region=handle.region
    )
    screen.query_one("#deploy-log", RichLog).clear()
    for ev in events:
        screen._event(ev)
    record = getattr(screen, "_write_record", None)
    if record is not None:  # what the screen shows once a deployment has ended
        record()
    await _settle(pilot)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--size", default="100x30", help="terminal WIDTHxHEIGHT")
    args = parser.parse_args(argv)
    width, height = (int(x) for x in args.size.lower().split("x"))

    import os

    from wizard.aws import AwsContext
    from wizard.sandbox.server import SandboxServer

    with SandboxServer() as server, tempfile.TemporaryDirectory() as tmp:
        os.environ["XDG_STATE_HOME"] = str(Path(tmp) / "state")  # leave the user's progress alone
        os.environ["HOME"] = tmp  # the folder is shown as ~/renderer, the same on every run
        ctx = AwsContext(
            region="us-east-1",
            endpoint_url=server.url,
            sandbox=True,
            access_key="sandbox",
            secret_key="sandbox",
        )
        _seed_instances(ctx)
        project_dir = Path(tmp) / APPLICATION
        project_dir.mkdir()
        saved = asyncio.run(capture(ctx, project_dir, args.out, (width, height)))
    for path in saved:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
