"""The top bar: what we are talking to (account, region, profile) and a SANDBOX badge."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static


class ContextBar(Horizontal):
    """One line: app name, account, region, profile and, when sandboxed, a loud badge."""

    def compose(self) -> ComposeResult:
        yield Static("codedeploy-wizard", id="ctx-title")
        yield Static("account …", id="ctx-account")
        yield Static("", id="ctx-region")
        yield Static("", id="ctx-profile")
        yield Static(" SANDBOX ", id="ctx-sandbox")

    def update_context(
        self, *, account: str | None, region: str, profile: str | None, sandbox: bool
    ) -> None:
        """Show the context the next AWS call will use."""
        self.query_one("#ctx-account", Static).update(f"account {account or '…'}")
        self.query_one("#ctx-region", Static).update(f"region {region or '?'}")
        self.query_one("#ctx-profile", Static).update(
            "" if sandbox and not profile else f"profile {profile or 'default'}"
        )
        badge = self.query_one("#ctx-sandbox", Static)
        badge.display = sandbox
        badge.tooltip = "Emulated AWS on this machine: nothing real is created or billed."
