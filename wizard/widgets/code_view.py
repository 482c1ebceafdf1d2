"""Read-only code with syntax highlighting (JSON policies, YAML files, unified diffs)."""

from __future__ import annotations

from textual.widgets import Static


class CodeView(Static):
    """A Static that renders text through Rich's Syntax; pygments loads on first use."""

    def __init__(self, code: str = "", lexer: str = "text", **kw) -> None:
        super().__init__("", **kw)
        self.add_class("code-view")
        if code:
            self.set_code(code, lexer)

    def set_code(self, code: str, lexer: str = "text") -> None:
        from rich.syntax import Syntax

        self.code = code
        self.lexer = lexer
        self.update(
            Syntax(code, lexer, theme="ansi_dark", word_wrap=True, background_color="default")
        )

    @staticmethod
    def lexer_for(path: str) -> str:
        """Pick a lexer from a file name."""
        name = path.lower()
        if name.endswith((".yml", ".yaml")):
            return "yaml"
        if name.endswith(".json"):
            return "json"
        if name.endswith(".sh") or "/scripts/" in f"/{name}":
            return "bash"
        return "text"
