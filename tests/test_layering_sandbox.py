"""wizard/sandbox never imports checks/ (nor Textual): the emulator is the ground truth that
diagnose is tested against, so it must reach its verdicts without diagnose's code."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import wizard.sandbox

REPO = Path(__file__).resolve().parents[1]

BLOCKER = """
import importlib.abc, sys

class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        top = name.split(".")[0]
        if top in ("checks", "textual"):
            raise ImportError(f"layering: {name} must not be imported by wizard/sandbox")
        return None

sys.meta_path.insert(0, Block())
"""


def sandbox_modules() -> list[str]:
    return sorted(
        ["wizard.sandbox"]
        + [m.name for m in pkgutil.walk_packages(wizard.sandbox.__path__, "wizard.sandbox.")]
    )


def test_sandbox_imports_and_serves_without_checks_or_textual():
    mods = sandbox_modules()
    assert "wizard.sandbox.fleet" in mods and "wizard.sandbox.scenarios" in mods
    code = BLOCKER + "\n".join(
        [
            "import importlib",
            f"for m in {mods!r}:",
            "    importlib.import_module(m)",
            "from wizard.sandbox.server import SandboxServer",
            "with SandboxServer() as s:",
            "    pass",  # extensions.install() ran inside start()
            "bad = [m for m in sys.modules if m.split('.')[0] in ('checks', 'textual')]",
            "assert not bad, bad",
            "print('ok')",
        ]
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "ok"


def test_the_blocker_really_blocks():
    proc = subprocess.run(
        [sys.executable, "-c", BLOCKER + "import checks.runner\n"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode != 0 and "layering: checks" in proc.stderr
