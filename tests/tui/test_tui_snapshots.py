"""The look of every screen at 80x24 and at 100x30 (issue 11.4). Update with --snapshot-update.

Each test drives one app: it is settled at 80x24, pictured, resized to 100x30 (the way a user
widens the terminal), settled and pictured again; both pictures are compared with the stored
SVGs (syrupy, `<test>[80x24].svg` and `<test>[100x30].svg`). What changes from run to run without
changing the screen (deployment ids, clock times, timestamps in revision keys, UUIDs, Textual's
per-export class prefix) is masked the same way the README screenshots are.

Content is otherwise deterministic: the sandbox account is always 123456789012, the endpoint
(random port) is never shown, each test has its own application name, and moto's id generator is
seeded before instances are launched.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from pytest_textual_snapshot import SVGImageExtension

from tests.tui.helpers import goto, settle, sync

pytestmark = pytest.mark.e2e
SIZES = ((80, 24), (100, 30))


class MaskedSVG(SVGImageExtension):
    """SVG snapshots with the run-specific values masked (see wizard.screens.screenshots)."""

    def serialize(self, *args: Any, **kwargs: Any) -> Any:
        from wizard.screens.screenshots import volatile_free

        return volatile_free(super().serialize(*args, **kwargs))

    def _read_snapshot_data_from_location(self, *args: Any, **kwargs: Any) -> Any:
        from wizard.screens.screenshots import volatile_free

        data = super()._read_snapshot_data_from_location(*args, **kwargs)
        return volatile_free(data) if data is not None else None


def svg_rows(svg: str) -> list[str]:
    """The text of a Textual SVG picture, row by row (to show what differs)."""
    import html
    import re

    rows: dict[float, list[tuple[float, str]]] = {}
    for m in re.finditer(r'<text class="[^"]*" x="([\d.]+)" y="([\d.]+)"[^>]*>([^<]*)</text>', svg):
        text = html.unescape(m.group(3)).replace("\xa0", " ")
        rows.setdefault(float(m.group(2)), []).append((float(m.group(1)), text))
    out = []
    for y in sorted(rows):
        line = ""
        for x, text in sorted(rows[y]):
            col = round(x / 12.2)
            line = line.ljust(col)[:col] + text
        out.append(line.rstrip())
    return out


def screen_diff(snapshot: Any, name: str, svg: str) -> str:
    """The stored and the new picture's text, as a unified diff (syrupy shows only '...')."""
    import difflib

    from wizard.screens.screenshots import volatile_free

    node = snapshot.test_location
    stored = (
        Path(node.filepath).parent
        / "__snapshots__"
        / Path(node.filepath).stem
        / f"{node.snapshot_name}[{name}].svg"
    )
    old = stored.read_text(encoding="utf-8") if stored.exists() else ""
    old, svg = volatile_free(old), volatile_free(svg)
    text = "\n".join(
        difflib.unified_diff(svg_rows(old), svg_rows(svg), "stored", "now", lineterm="")
    )
    # the same text in other colours or places: show the SVG lines that differ
    markup = difflib.unified_diff(
        old.splitlines(), svg.splitlines(), "stored", "now", lineterm="", n=0
    )
    return text or "\n".join(line[:300] for line in list(markup)[:80])


async def steady(pilot: Any) -> None:
    """Settle, and stop the text cursor blinking so the picture does not depend on timing."""
    from textual.widgets import Input

    await settle(pilot)
    for box in pilot.app.screen.query(Input):
        box.cursor_blink = False
    await pilot.pause()


async def both_sizes(
    app: Any,
    snapshot: Any,
    before: Callable[[Any], Awaitable[None]] | None = None,
    *,
    prefix: str = "",
) -> None:
    """Run `app` at 80x24 (after `before`), picture it, widen to 100x30, picture it again."""
    shots = snapshot.use_extension(MaskedSVG)
    async with app.run_test(size=SIZES[0]) as pilot:
        await steady(pilot)
        if before is not None:
            await before(pilot)
            await steady(pilot)
        for i, (width, height) in enumerate(SIZES):
            if i:
                await pilot.resize_terminal(width, height)
                await steady(pilot)
            svg = app.export_screenshot(title=f"{prefix}{width}x{height}")
            name = f"{prefix}{width}x{height}"
            assert shots(name=name) == svg, screen_diff(snapshot, name, svg)


@pytest.mark.parametrize(
    "step", ["credentials", "roles", "bucket", "application", "files", "review"]
)
@sync
async def test_step_snapshot(step: str, make_app, snapshot) -> None:
    await both_sizes(make_app(f"snap-{step}", at=step), snapshot)


def _seed_instances(sandbox_ctx, sandbox_url, name: str, seed: int) -> None:
    import urllib.request

    ec2 = sandbox_ctx.client("ec2")
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    # seed after the EC2 backend exists (its creation draws random ids too)
    urllib.request.urlopen(
        urllib.request.Request(f"{sandbox_url}/moto-api/seed?a={seed}", b"", method="POST")
    )
    ec2.run_instances(
        ImageId=image,
        MinCount=2,
        MaxCount=2,
        InstanceType="t3.small",
        TagSpecifications=[
            {
                "ResourceType": "instance",
                "Tags": [{"Key": "codedeploy-wizard:application", "Value": name}],
            }
        ],
    )


@sync
async def test_instances_snapshot(make_app, sandbox_ctx, sandbox_url, snapshot) -> None:
    """Tagged instances found: adopted, with their profile, SSM and agent status."""
    _seed_instances(sandbox_ctx, sandbox_url, "snap-instances", 7)
    await both_sizes(make_app("snap-instances", at="instances"), snapshot)


@sync
async def test_instances_default_to_launching_snapshot(make_app, snapshot) -> None:
    """No tagged instance: the step chooses to launch two (the sandbox default)."""
    await both_sizes(make_app("snap-launch", at="instances"), snapshot)


@sync
async def test_apply_done_and_deploy_snapshots(make_app, sandbox_url, tmp_path, snapshot) -> None:
    """Apply, Done and a first deployment that succeeds (two launched instances, as the
    Instances step chooses by default in the sandbox)."""
    import urllib.request

    from tests.steps_support import add_managed_policies
    from wizard.screens.deploy import DeployScreen

    add_managed_policies()
    urllib.request.urlopen(
        urllib.request.Request(f"{sandbox_url}/moto-api/seed?a=9", b"", method="POST")
    )
    project = tmp_path / "snap-apply"
    project.mkdir()
    (project / ".codedeploy-wizard.yml").write_text(
        "application: snap-apply\nregion: us-east-1\ninstances:\n  launch: 2\n"
    )

    async def applied(pilot: Any) -> None:
        await goto(pilot, "apply")
        await pilot.click("#apply-start")
        await settle(pilot, rounds=8)
        assert pilot.app.state.applied

    app = make_app("snap-apply", project_dir=project, at="review")
    await both_sizes(app, snapshot, applied, prefix="apply-")

    async def deployed(pilot: Any) -> None:
        import asyncio

        await pilot.click("#open-deploy")
        screen = pilot.app.screen
        assert isinstance(screen, DeployScreen)
        for _ in range(240):
            if screen.finished:
                break
            await asyncio.sleep(0.25)
        await settle(pilot)
        assert screen.status == "Succeeded", screen.status

    again = make_app("snap-apply", project_dir=project, at="done")
    await both_sizes(again, snapshot, prefix="done-")
    again = make_app("snap-apply", project_dir=project, at="done")
    await both_sizes(again, snapshot, deployed, prefix="deploy-")


@sync
async def test_dialog_snapshots(make_app, snapshot) -> None:
    """The question before quitting with unsaved answers (and where they are saved)."""
    from textual.widgets import Input

    async def edited_then_quit(pilot: Any) -> None:
        pilot.app.screen.query_one("#instance-role", Input).value = "snap-dialog-role"
        await pilot.press("ctrl+q")
        await settle(pilot, rounds=1)

    await both_sizes(make_app("snap-dialog", at="roles"), snapshot, edited_then_quit)


@sync
async def test_access_key_dialog_snapshot(make_app, snapshot) -> None:
    """The new CI key, shown once: values and the Travis commands one line each, whole."""
    from wizard.screens.steps.done import access_key_notice

    key = {  # made up, the shape of IAM CreateAccessKey's AccessKey
        "AccessKeyId": "AKIAEXAMPLESNAPSHOT1",
        "SecretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    }

    async def shown(pilot: Any) -> None:
        pilot.app.push_screen(access_key_notice("snap-key-codedeploy-ci", key, sandbox=True))
        await settle(pilot, rounds=1)

    await both_sizes(make_app("snap-key", at="done"), snapshot, shown)


@sync
async def test_diagnose_snapshot(sandbox_ctx, sandbox_url, snapshot) -> None:
    """A failed deployment diagnosed: the root cause row selected, its evidence and fix."""
    import asyncio
    import urllib.request

    from wizard.sandbox import scenarios
    from wizard.screens.diagnose import DiagnoseApp

    urllib.request.urlopen(
        urllib.request.Request(f"{sandbox_url}/moto-api/seed?a=12", b"", method="POST")
    )
    from wizard.sandbox.world import World

    # a name of its own: `scenarios.seed` adds a random suffix when another test in this
    # process seeded the same scenario first, and the picture would depend on test order
    build = scenarios.SCENARIOS["file-exists"][1]
    world = await asyncio.to_thread(build, World(sandbox_url, name="snap-file-exists"))

    async def diagnosed(pilot: Any) -> None:
        screen = pilot.app.screen
        for _ in range(240):
            if screen.report is not None:
                break
            await asyncio.sleep(0.25)
        assert screen.report is not None

    app = DiagnoseApp(sandbox_ctx, deployment_id=world["deployment_id"])
    await both_sizes(app, snapshot, diagnosed)


@sync
async def test_error_modal_snapshot(tmp_path: Path, snapshot) -> None:
    from wizard.app import create_app
    from wizard.aws import AwsContext

    ctx = AwsContext(
        region="us-east-1",
        endpoint_url="http://127.0.0.1:9",
        access_key="sandbox",
        secret_key="sandbox",
        max_attempts=1,
    )
    (tmp_path / "snap-error").mkdir()
    await both_sizes(create_app(ctx, tmp_path / "snap-error"), snapshot)


@sync
async def test_light_theme_snapshot(make_app, snapshot) -> None:
    async def light(pilot: Any) -> None:
        await pilot.press("ctrl+t")

    await both_sizes(make_app("snap-light", at="bucket"), snapshot, light)
