"""The look of every step at 80x24 (pytest-textual-snapshot). Update with --snapshot-update.

Content is deterministic: the sandbox account is always 123456789012, the endpoint (random port)
is never shown, each test has its own application name, and moto's id generator is seeded before
the instances of the instances step are launched.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.tui.helpers import goto, settle

pytestmark = pytest.mark.e2e
SIZE = (80, 24)


async def steady(pilot) -> None:
    """Settle, and stop the text cursor blinking so the picture does not depend on timing."""
    from textual.widgets import Input

    await settle(pilot)
    for box in pilot.app.screen.query(Input):
        box.cursor_blink = False
    await pilot.pause()


@pytest.mark.parametrize(
    "step", ["credentials", "roles", "bucket", "application", "files", "review"]
)
def test_step_snapshot(step: str, make_app, snap_compare) -> None:
    app = make_app(f"snap-{step}", at=step)
    assert snap_compare(app, terminal_size=SIZE, run_before=steady)


def test_instances_snapshot(make_app, sandbox_ctx, sandbox_url, snap_compare) -> None:
    import urllib.request

    ec2 = sandbox_ctx.client("ec2")
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    # seed after the EC2 backend exists (its creation draws random ids too)
    urllib.request.urlopen(
        urllib.request.Request(f"{sandbox_url}/moto-api/seed?a=7", b"", method="POST")
    )
    ec2.run_instances(
        ImageId=image,
        MinCount=2,
        MaxCount=2,
        InstanceType="t3.small",
        TagSpecifications=[
            {
                "ResourceType": "instance",
                "Tags": [{"Key": "codedeploy-wizard:application", "Value": "snap-instances"}],
            }
        ],
    )
    app = make_app("snap-instances", at="instances")
    assert snap_compare(app, terminal_size=SIZE, run_before=steady)


def test_apply_and_done_snapshots(make_app, snap_compare) -> None:
    from tests.steps_support import add_managed_policies

    add_managed_policies()

    async def applied(pilot) -> None:
        await settle(pilot)
        await goto(pilot, "apply")
        await pilot.click("#apply-start")
        await settle(pilot, rounds=8)
        assert pilot.app.state.applied
        await steady(pilot)

    app = make_app("snap-apply", at="review")
    assert snap_compare(app, terminal_size=SIZE, run_before=applied)
    # re-opened after that apply: resumes on Done
    done = make_app("snap-apply", at="done")
    assert snap_compare(done, terminal_size=SIZE, run_before=steady)


def test_error_modal_snapshot(tmp_path: Path, snap_compare) -> None:
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
    app = create_app(ctx, tmp_path / "snap-error")
    assert snap_compare(app, terminal_size=SIZE, run_before=steady)


def test_light_theme_snapshot(make_app, snap_compare) -> None:
    async def light(pilot) -> None:
        await pilot.press("ctrl+t")
        await steady(pilot)

    app = make_app("snap-light", at="bucket")
    assert snap_compare(app, terminal_size=SIZE, run_before=light)
