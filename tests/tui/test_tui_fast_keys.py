"""Keys faster than the app: no crash, and the wizard is consistent afterwards (issue 11.1).

The keys are queued on the driver back to back (no pause, not even for the app to go idle), the
way a terminal delivers a burst of key repeats or a fast typist: every binding that is active on
the current screen (bar quitting) plus the keys that move and press (tab, enter, space, arrows,
escape), on every step of the wizard, at 80x24 and 100x30.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.tui.helpers import current_step, settle, sync

pytestmark = pytest.mark.e2e

MOVES = ["tab", "enter", "space", "down", "up", "shift+tab", "escape"]


def blast(app: Any, keys: list[str]) -> None:
    """Queue key presses on the driver all at once: the app sees them back to back."""
    from textual import events

    for key in keys:
        char = key if len(key) == 1 else None
        event = events.Key(key, char)
        event.set_sender(app)
        app._driver.send_message(event)


def binding_keys(app: Any) -> list[str]:
    """Every key bound on the current screen and its focus chain, except those that quit."""
    keys = []
    for key, active in app.screen.active_bindings.items():
        if active.binding.action in ("request_quit", "quit", "app.quit"):
            continue
        keys.append(key)
    return keys


def wizard_screen(app: Any) -> Any:
    from wizard.screens.wizard import WizardScreen

    return next(s for s in app.screen_stack if isinstance(s, WizardScreen))


def assert_consistent(app: Any) -> None:
    """One live pane, the current step's, fully composed; the step list marks it."""
    from wizard.screens.steps import STEP_IDS
    from wizard.tui_support import is_live

    assert app.is_running
    screen = wizard_screen(app)
    panes = list(screen.query_one("#pane-host").children)
    assert len(panes) == 1, panes
    pane = panes[0]
    assert pane is screen.pane and is_live(pane)
    assert screen.current == pane.STEP_ID
    assert pane.query("#pane-error")  # its widgets are all there
    if app.screen is screen:
        assert screen.query_one("#step-list").highlighted == STEP_IDS.index(screen.current)


async def back_to_wizard(pilot: Any) -> None:
    """Close whatever the burst opened (palette, dialogs, deploy / diagnose screens)."""
    from wizard.screens.wizard import WizardScreen

    app = pilot.app
    for _ in range(6):
        if isinstance(app.screen, WizardScreen):
            return
        await pilot.press("escape")
        await settle(pilot, rounds=1)
    while not isinstance(app.screen, WizardScreen):
        app.pop_screen()
        await pilot.pause()


@sync
async def test_next_pressed_four_times_before_the_credentials_are_known(
    sandbox_url, tmp_path
) -> None:
    """The reported crash: ^n four times right after the first frame, identity still pending."""
    from wizard.app import create_app
    from wizard.aws import AwsContext

    def make_context() -> AwsContext:
        return AwsContext(
            region="us-east-1",
            endpoint_url=sandbox_url,
            sandbox=True,
            access_key="sandbox",
            secret_key="sandbox",
        )

    (tmp_path / "fast-next").mkdir()
    app = create_app(make_context, tmp_path / "fast-next", region="us-east-1")
    async with app.run_test(size=(80, 24)) as pilot:
        blast(app, ["ctrl+n"] * 4)
        await settle(pilot)
        assert_consistent(app)
        # Next was queued while the credentials were checked, once: the user lands on Roles
        assert app.state.identity is not None
        assert current_step(app) == "roles"
        # the next press moves on at once; Instances then looks for tagged instances, so the
        # presses that follow queue one Next, carried out when the step is ready
        blast(app, ["ctrl+n"] * 4)
        await settle(pilot)
        assert_consistent(app)
        assert current_step(app) == "bucket"
        assert app.state.project.instances.launch == 2  # the step's own choice was kept


@pytest.mark.parametrize("size", [(80, 24), (100, 30)], ids=["80x24", "100x30"])
def test_every_binding_on_every_step_without_pause(size, make_app, sandbox_ctx) -> None:
    from tests.steps_support import add_managed_policies
    from wizard.screens.steps import STEP_IDS

    add_managed_policies()
    name = f"fast-keys-{size[0]}"
    app = make_app(name)

    async def run() -> None:
        async with app.run_test(size=size) as pilot:
            for step in STEP_IDS:
                await back_to_wizard(pilot)
                if step == "done" and not app.state.applied:
                    app.state.done_steps.update(STEP_IDS)
                wizard_screen(app).goto(step, force=True)
                await settle(pilot, rounds=2)
                if step == "apply" and app.state.plan is None:
                    await settle(pilot)
                assert current_step(app) == step
                blast(app, binding_keys(app) + MOVES)
                await settle(pilot, rounds=2)
                assert_consistent(app)
            await back_to_wizard(pilot)
            assert_consistent(app)

    import asyncio

    asyncio.run(run())
