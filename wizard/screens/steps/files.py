"""Step 6: appspec.yml, hook scripts and the CI config: previews and diffs, nothing written.

Nothing is written here: the files are written by the Apply step, after the review, through
`wizard.render.files.write_files` (atomic, with a backup of what was there).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Input, OptionList, Select, SelectionList, Static, TabbedContent, TabPane
from textual.widgets.option_list import Option

from wizard.config import CI_PROVIDERS, HOOK_EVENTS
from wizard.screens.steps.base import StepPane
from wizard.tui_support import aws_call
from wizard.widgets.code_view import CodeView
from wizard.widgets.field import Field
from wizard.widgets.lists import SafeOptionList
from wizard.widgets.toggles import MarkedSelectionList

CI_LABELS = {"travis": "Travis CI", "github": "GitHub Actions", "none": "none"}
CI_HELP = {
    "travis": "Travis CI (dpl v2): keys as repository settings, never in the file.",
    "github": "GitHub Actions with OIDC: no stored keys at all.",
    "none": "No CI config; deploy with `wizard deploy`.",
}


def file_label(change: Any, project_dir: Path) -> str:
    """The file's mark and path, every path shown the same way (`user_path`: from where the
    wizard was started, else `~/…`), whether the generator gave it absolute or relative."""
    from wizard.tui_support import user_path

    rel = user_path(change.path)
    if change.old_text is None:
        mark = "[$text-success]new[/]     "
    elif change.changed:
        mark = "[$text-warning]changed[/] "
    else:
        mark = "[dim]same[/]    "
    return f"{mark}{rel}"


class Pane(StepPane):
    STEP_ID = "files"
    TITLE = "Files"
    INTRO = (
        "appspec.yml tells the agent where to copy your files and which scripts to run at each "
        "lifecycle event; the CI config uploads a revision and starts a deployment on each push. "
        "Existing files are merged, never clobbered."
    )
    OWNS = ("ci", "bundle")

    def compose_body(self) -> ComposeResult:
        p = self.state.project
        with Horizontal(classes="row"):
            yield Field(
                "CI",
                "ci.provider",
                Select[str](
                    [(CI_LABELS[name], name) for name in CI_PROVIDERS],
                    value=p.ci.provider,
                    allow_blank=False,
                    id="ci-provider",
                ),
            )
            yield Field("Branch", "ci.branch", Input(p.ci.branch, id="ci-branch"))
        yield Static(CI_HELP.get(p.ci.provider, ""), id="ci-help", classes="note")
        yield Field(
            "GitHub repository (OWNER/NAME)",
            "ci.repository",
            Input(p.ci.repository or "", id="ci-repository", placeholder="octo/renderer"),
            empty=None,
            help="Needed for GitHub: the OIDC trust names the repository and branch.",
        )
        yield Field(
            "Destination on the instances",
            "bundle.destination",
            Input(p.bundle.destination, id="destination"),
        )
        yield Field(
            "Hook scripts to generate",
            "bundle.hooks",
            MarkedSelectionList(
                *(
                    (event, event, event in p.bundle.hooks)
                    for event in HOOK_EVENTS
                    if event in HOOK_EVENTS[:5] or event in p.bundle.hooks
                ),
                id="hooks",
            ),
        )
        yield Static("", id="files-status", classes="note")
        yield SafeOptionList(id="file-list")
        with TabbedContent(id="file-tabs"):
            with TabPane("Preview", id="tab-preview"):
                yield CodeView(id="file-preview")
            with TabPane("Diff", id="tab-diff"):
                yield CodeView(id="file-diff")

    def shown(self) -> None:
        self._sync_repo()
        self.refresh_files()

    def _sync_repo(self) -> None:
        provider = self.query_one("#ci-provider", Select).value
        self.query_one("#ci-help", Static).update(CI_HELP.get(str(provider), ""))
        self.query_one("#ci-repository").parent.display = provider == "github"  # type: ignore[union-attr]

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "ci-provider":
            self._sync_repo()
            self.refresh_files()

    def on_selection_list_selected_changed(self, _event: SelectionList.SelectedChanged) -> None:
        self.refresh_files()

    def on_input_submitted(self, _event: Input.Submitted) -> None:
        self.refresh_files()

    def refresh_files(self) -> None:
        """Render the files for the answers as typed (without saving them)."""
        from wizard.config import from_dict
        from wizard.errors import ConfigError

        status = self.query_one("#files-status", Static)
        try:
            project = from_dict(self.collect(), check_region_known=False)
        except ConfigError:
            status.update("[$text-error]Fix the answers above to see the files.[/]")
            return
        state = self.state
        account = state.identity["account"] if state.identity else None
        region = project.effective_region(state.ctx.region)

        def call() -> list[Any] | None:
            try:
                from wizard.render.files import plan_files
            except ImportError:
                return None
            return plan_files(project, state.project_dir, account=account, region=region)

        def done(changes: list[Any] | None) -> None:
            self.changes = changes
            file_list = self.query_one("#file-list", OptionList)
            file_list.clear_options()
            if changes is None:
                status.update("(file previews arrive with the file generators)")
                return
            state.file_changes = changes
            for i, change in enumerate(changes):
                file_list.add_option(Option(file_label(change, state.project_dir), id=str(i)))
            n_new = sum(1 for c in changes if c.old_text is None)
            n_changed = sum(1 for c in changes if c.old_text is not None and c.changed)
            status.update(
                f"{len(changes)} file(s): {n_new} new, {n_changed} changed — "
                "written by Apply after the review."
            )
            if changes:
                file_list.highlighted = 0
                self._show(0)

        status.update("Rendering files…")
        aws_call(self, call, done, what="Rendering files", group="files")

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option_list.id == "file-list" and event.option.id is not None:
            self._show(int(event.option.id))

    def _show(self, index: int) -> None:
        changes = getattr(self, "changes", None) or []
        if not 0 <= index < len(changes):
            return
        change = changes[index]
        preview = self.query_one("#file-preview", CodeView)
        preview.set_code(change.new_text, CodeView.lexer_for(str(change.path)))
        diff = change.diff() if change.old_text is not None else ""
        self.query_one("#file-diff", CodeView).set_code(
            diff or ("(new file)" if change.old_text is None else "(no changes)"),
            "diff" if diff else "text",
        )
