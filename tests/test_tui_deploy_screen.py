"""DeployScreen footer: keys that cannot do anything are not offered (no AWS needed)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from wizard.config import from_dict


class NoAws:
    """An AwsContext stand-in that fails the test if the screen reaches for AWS."""

    sandbox = True

    def client(self, *a, **kw):  # pragma: no cover - reaching here is the failure
        raise AssertionError("AWS was called for a bundle that should have been refused")


def test_stop_is_hidden_and_diagnose_dimmed_when_nothing_was_deployed(tmp_path: Path) -> None:
    from textual.app import App

    from wizard.screens.deploy import DeployScreen

    (tmp_path / "site").mkdir()  # no appspec.yml: refused before any upload
    project = from_dict({"application": "shop", "bundle": {"source": "site"}})
    screen = DeployScreen(NoAws(), project, tmp_path)  # type: ignore[arg-type]

    class Host(App):
        def on_mount(self) -> None:
            self.push_screen(screen)

    async def scenario() -> None:
        async with Host().run_test(size=(80, 24)) as pilot:
            for _ in range(100):
                if screen.finished:
                    break
                await pilot.pause(0.05)
            await pilot.pause()
            assert screen.status == "Error"
            stage = str(screen.query_one("#deploy-stage").content)
            assert "Preparing" not in stage and "Not deployed" in stage
            shown = {k: b.enabled for k, b in screen.active_bindings.items()}
            assert "s" not in shown  # nothing runs, so nothing to stop
            assert shown["d"] is False  # no deployment to diagnose
            assert shown["escape"] is True

    asyncio.run(scenario())
