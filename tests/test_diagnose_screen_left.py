"""The diagnose screen left (Escape) while its checks still run: the worker's results arrive for a
screen that is gone. They used to crash the app (NoMatches from a query on the removed screen,
re-raised as WorkerFailed); a user pressing Escape early met it, and so did the deploy screen's e2e
test on a loaded machine. Deterministic: the checks are held until the screen has been left."""

from __future__ import annotations

import asyncio
import threading

import pytest


@pytest.mark.parametrize("ending", ["report", "error"])
def test_results_after_the_screen_was_left_are_dropped_quietly(monkeypatch, ending) -> None:
    from textual.app import App

    from checks import runner
    from checks.model import Result, Status
    from wizard.screens.diagnose import DiagnoseScreen

    left = threading.Event()
    finished = threading.Event()
    raised: list[BaseException] = []  # what the screen's callbacks threw back at the worker

    def held_diagnose(ctx, *, on_result, **kwargs):
        assert left.wait(30), "the screen was never left"
        result = Result(Status.FAIL, "the hook failed", id="hooks.failed", title="Hooks")
        try:
            try:
                on_result(result)
            except Exception as exc:  # what the screen's callback threw back at the worker
                raised.append(exc)
                raise
            if ending == "error":
                raise RuntimeError("the endpoint went away")
            return runner.Report(results=[result], deployment=None, root_causes=["hooks.failed"])
        finally:
            finished.set()

    monkeypatch.setattr(runner, "diagnose", held_diagnose)

    class Ctx:
        sandbox = True

    screen = DiagnoseScreen(Ctx(), deployment_id="d-0QBAGMJSZ")

    class Host(App):
        def on_mount(self) -> None:
            self.push_screen(screen)

    async def scenario() -> None:
        async with Host().run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            assert pilot.app.screen is screen
            await pilot.press("escape")  # leave it while the checks still run
            await pilot.pause()
            assert pilot.app.screen is not screen
            left.set()
            loop = asyncio.get_running_loop()
            assert await loop.run_in_executor(None, finished.wait, 30)
            for _ in range(5):  # let the worker's call_from_thread callbacks run
                await pilot.pause()
            assert pilot.app.screen is not screen
        # leaving run_test re-raises anything a worker raised: nothing did

    asyncio.run(scenario())
    assert raised == []  # a result for a screen that is gone is dropped, not an exception
