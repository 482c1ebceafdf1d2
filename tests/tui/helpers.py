"""Pilot helpers shared by the TUI tests."""

from __future__ import annotations

from typing import Any


async def settle(pilot: Any, rounds: int = 4) -> None:
    """Let workers finish and their results reach the screen."""
    from wizard.screens.screenshots import wait_for_workers

    for _ in range(rounds):
        await pilot.pause()
        await wait_for_workers(pilot.app)
    await pilot.pause()


def current_step(app: Any) -> str:
    from wizard.screens.wizard import WizardScreen

    for screen in app.screen_stack:
        if isinstance(screen, WizardScreen):
            return screen.current
    raise AssertionError("no wizard screen")


async def next_step(pilot: Any) -> None:
    await pilot.press("ctrl+n")
    await settle(pilot)


async def goto(pilot: Any, step: str) -> None:
    """Press Next until `step` is shown (fails if a step refuses)."""
    from wizard.screens.steps import STEP_IDS

    while current_step(pilot.app) != step:
        before = current_step(pilot.app)
        assert STEP_IDS.index(before) < STEP_IDS.index(step), f"passed {step}"
        await next_step(pilot)
        assert current_step(pilot.app) != before, f"Next refused on {before}: {notes(pilot.app)}"


def notes(app: Any) -> list[str]:
    return [str(n.message) for n in app._notifications]


def sync(fn: Any) -> Any:
    """Run an async test in its own event loop (no asyncio plugin needed)."""
    import asyncio
    import functools

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return asyncio.run(fn(*args, **kwargs))

    return wrapper
