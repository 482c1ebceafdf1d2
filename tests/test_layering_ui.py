"""Layering: only the UI (wizard/app.py, wizard/screens, wizard/widgets) may import Textual.

Every other module of `wizard` and `checks` is imported in a fresh interpreter where any import
of `textual` raises ImportError; they must all import cleanly. As a control, the same blocker
must stop `wizard.app`, so the test cannot pass by blocking nothing.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

UI = ("wizard.app", "wizard.tui_support", "wizard.screens", "wizard.widgets")

SCRIPT = textwrap.dedent(
    """
    import importlib, importlib.abc, json, pkgutil, sys

    class BlockTextual(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name == "textual" or name.startswith("textual."):
                raise ImportError(f"layering: {name} imported outside the UI")
            return None

    sys.meta_path.insert(0, BlockTextual())
    UI = tuple(json.loads(sys.argv[1]))
    import wizard, checks
    names = []
    for pkg in (wizard, checks):
        names.append(pkg.__name__)
        for info in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
            if not info.name.startswith(UI):
                names.append(info.name)
    failed = {}
    for name in names:
        try:
            importlib.import_module(name)
        except Exception as exc:
            failed[name] = f"{type(exc).__name__}: {exc}"
    control = None
    try:
        importlib.import_module("wizard.app")
    except ImportError as exc:
        control = str(exc)
    print(json.dumps({"imported": names, "failed": failed, "control": control}))
    """
)


def test_core_imports_without_textual() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, json.dumps(UI)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["failed"] == {}, result["failed"]
    for must in ("wizard.config", "wizard.aws", "wizard.steps.engine", "wizard.render.files"):
        assert must in result["imported"]
    assert any(name.startswith("checks.") for name in result["imported"])
    # the blocker works: the UI itself cannot be imported without Textual
    assert result["control"] and "layering: textual" in result["control"]


def test_screens_and_widgets_never_import_the_app() -> None:
    """The app composes the screens; screens, widgets and the UI support module never point back
    up to it (what they share lives in wizard.tui_support). The screenshot tool drives the whole
    app from outside and is the one exception."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "wizard"
    files = [root / "tui_support.py", *(root / "screens").rglob("*.py")]
    files += (root / "widgets").rglob("*.py")
    offenders = []
    for path in files:
        if path.name == "screenshots.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            if any(n == "wizard.app" or n.startswith("wizard.app.") for n in names):
                offenders.append(f"{path.relative_to(root.parent)}:{node.lineno}")
    assert offenders == []
    # widgets are the bottom layer: they import neither the screens nor the support module
    for path in (root / "widgets").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "wizard.screens" not in text and "wizard.tui_support" not in text, path
