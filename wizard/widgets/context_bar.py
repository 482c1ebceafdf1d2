"""The top bar: what we are talking to (account, region, profile) and a SANDBOX badge."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static


class ContextBar(Horizontal):
    """One line: app name, account, region, profile and, when sandboxed, a loud badge."""

    def __init__(
        self, *, region: str = "", profile: str | None = None, sandbox: bool = False, **kw
    ) -> None:
        super().__init__(**kw)
        self._initial = (region, profile, sandbox)

    def compose(self) -> ComposeResult:
        region, profile, sandbox = self._initial
        yield Static("codedeploy-wizard", id="ctx-title")
        yield Static("account …", id="ctx-account")
        yield Static(f"region {region or '?'}", id="ctx-region")
        yield Static(self._profile_text(profile, sandbox), id="ctx-profile")
        badge = Static(" SANDBOX ", id="ctx-sandbox")
        badge.display = sandbox
        yield badge

    @staticmethod
    def _profile_text(profile: str | None, sandbox: bool) -> str:
        return "" if sandbox and not profile else f"profile {profile or 'default'}"

    def update_context(
        self, *, account: str | None, region: str, profile: str | None, sandbox: bool
    ) -> None:
        """Show the context the next AWS call will use."""
        self.query_one("#ctx-account", Static).update(f"account {account or '…'}")
        self.query_one("#ctx-region", Static).update(f"region {region or '?'}")
        self.query_one("#ctx-profile", Static).update(self._profile_text(profile, sandbox))
        badge = self.query_one("#ctx-sandbox", Static)
        badge.display = sandbox
        badge.tooltip = "Emulated AWS on this machine: nothing real is created or billed."
