"""DeployScreen without AWS: a bundle that cannot work is refused on screen, nothing is called."""

from __future__ import annotations

import asyncio
from pathlib import Path

from wizard.config import from_dict


class NoAws:
    """An AwsContext stand-in that fails the test if the screen reaches for AWS."""

    sandbox = False

    def client(self, *a, **kw):  # pragma: no cover - reaching here is the failure
        raise AssertionError("AWS was called for a bundle that should have been refused")

    @property
    def account(self):  # pragma: no cover
        raise AssertionError("AWS was called")


def test_bundle_problems_are_shown_and_nothing_is_deployed(tmp_path: Path) -> None:
    from textual.app import App
    from textual.widgets import Static

    from wizard.screens.deploy import DeployScreen

    app_dir = tmp_path / "site"
    app_dir.mkdir()
    (app_dir / "appspec.yml").write_text(
        "version: 0.0\nos: linux\nhooks:\n  ApplicationStart:\n    - location: scripts/go.sh\n"
        "  ApplicationStrat:\n    - location: scripts/go.sh\n"
    )
    project = from_dict({"application": "shop", "bundle": {"source": "site"}})
    screen = DeployScreen(NoAws(), project, tmp_path)  # type: ignore[arg-type]

    class Host(App):
        def on_mount(self) -> None:
            self.push_screen(screen)

    async def scenario() -> None:
        async with Host().run_test(size=(120, 40)) as pilot:
            for _ in range(100):
                if screen.finished:
                    break
                await pilot.pause(0.05)
            assert screen.status == "Error" and screen.handle is None
            text = str(screen.query_one("#deploy-result", Static).content)
            assert "the bundle is not valid (2 errors)" in text
            assert "scripts/go.sh" in text and "ApplicationStrat" in text
            assert "nothing was uploaded" in text
            await pilot.press("s")  # nothing to stop: no dialog, no call
            await pilot.pause()
            assert pilot.app.screen is screen
            await pilot.press("escape")

    asyncio.run(scenario())
