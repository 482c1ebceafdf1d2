"""Command palette entries: one per wizard step, plus deploy, diagnose and the theme switch."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider


class WizardCommands(Provider):
    """Go to any step, open deploy / diagnose, toggle the theme."""

    def _entries(self) -> list[tuple[str, str, Callable[[], object]]]:
        from wizard.screens.steps import STEPS

        long_titles = {"credentials": "Credentials & region", "bucket": "Revision bucket"}
        run = self.app.run_action  # the app's actions by name: this module never imports the app
        out: list[tuple[str, str, Callable[[], object]]] = []
        for step_id, title in STEPS:
            out.append(
                (
                    f"Go to step: {long_titles.get(step_id, title)}",
                    "Jump to this step of the setup",
                    partial(run, f"goto({step_id!r})"),
                )
            )
        out.append(("Deploy", "Bundle, upload and deploy now", partial(run, "open_deploy")))
        out.append(
            ("Diagnose", "Find why the last deployment failed", partial(run, "open_diagnose"))
        )
        out.append(("Toggle light/dark theme", "Switch colours", partial(run, "toggle_theme")))
        return out

    async def discover(self) -> Hits:
        for name, help_text, callback in self._entries():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self._entries():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)
