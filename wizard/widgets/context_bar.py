"""The top bar: what we are talking to (account, region, profile) and a SANDBOX badge."""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

BADGE = " SANDBOX "


class ContextBar(Horizontal):
    """One line: app name, account, region, profile and, when sandboxed, a loud badge.

    On a narrow terminal the bar gives up what matters least first, so the values stay whole:
    the app's name, then the words "account" / "region" / "profile" before the values, then the
    profile. The region and the account are what the next AWS call uses; they go last.
    """

    def __init__(
        self, *, region: str = "", profile: str | None = None, sandbox: bool = False, **kw
    ) -> None:
        super().__init__(**kw)
        self._initial = (region, profile, sandbox)
        self._values: tuple[str | None, str, str | None, bool] = (None, region, profile, sandbox)
        self._shown: tuple[object, ...] = ()  # what is on screen (a resize must not loop)

    def compose(self) -> ComposeResult:
        yield Static("codedeploy-wizard", id="ctx-title")
        yield Static("", id="ctx-account")
        yield Static("", id="ctx-region")
        yield Static("", id="ctx-profile")
        badge = Static(BADGE, id="ctx-sandbox")
        badge.tooltip = "Emulated AWS on this machine: nothing real is created or billed."
        yield badge

    def on_mount(self) -> None:
        self._show()

    def on_resize(self, _event: events.Resize) -> None:
        self._show()

    @staticmethod
    def _profile_text(profile: str | None, sandbox: bool) -> str:
        return "" if sandbox and not profile else f"profile {profile or 'default'}"

    def update_context(
        self, *, account: str | None, region: str, profile: str | None, sandbox: bool
    ) -> None:
        """Show the context the next AWS call will use."""
        self._values = (account, region, profile, sandbox)
        if self.is_mounted:
            self._show()

    def texts(self, width: int) -> tuple[str, str, str, str]:
        """(title, account, region, profile) as they fit in `width` cells ('' = hidden); each
        shown part takes its text and one cell of padding either side."""
        account, region, profile, sandbox = self._values
        acct, reg = account or "…", region or "?"
        prof = self._profile_text(profile, sandbox)
        room = width - (len(BADGE) + 2 if sandbox else 0)  # the badge has padding too
        short_prof = profile or ("" if sandbox else "default")
        variants = [
            ("codedeploy-wizard", f"account {acct}", f"region {reg}", prof),
            ("", f"account {acct}", f"region {reg}", prof),
            ("", acct, reg, short_prof),
            ("", acct, reg, ""),
            ("", "", reg, ""),
        ]
        for variant in variants:
            if sum(len(t) + 2 for t in variant if t) <= room:
                return variant
        return variants[-1]

    def _show(self) -> None:
        sandbox = self._values[3]
        width = self.size.width or (self.app.size.width if self.is_attached else 80)
        texts = self.texts(width)
        if (texts, sandbox) == self._shown:
            return  # a Resize also comes when the parts change: nothing to do then
        self._shown = (texts, sandbox)
        for wid, text in zip(
            ("#ctx-title", "#ctx-account", "#ctx-region", "#ctx-profile"), texts, strict=True
        ):
            part = self.query_one(wid, Static)
            part.update(text)
            part.display = bool(text)
        self.query_one("#ctx-sandbox", Static).display = sandbox
