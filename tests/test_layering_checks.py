"""checks/ never imports Textual or the sandbox: diagnose reaches verdicts only through AWS APIs.

Every checks module is imported in a fresh interpreter where `textual` and `wizard.sandbox`
cannot be imported (a meta path finder refuses them), then the whole catalogue is loaded.
"""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import checks

REPO = Path(__file__).resolve().parents[1]

BLOCKER = """
import importlib.abc, sys

class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "textual" or name.startswith("textual.") or name == "wizard.sandbox" or \\
                name.startswith("wizard.sandbox.") or name == "moto" or name.startswith("moto."):
            raise ImportError(f"layering: {name} must not be imported by checks/")
        return None

sys.meta_path.insert(0, Block())
for mod in list(sys.modules):
    if mod.startswith(("textual", "wizard.sandbox", "moto")):
        del sys.modules[mod]
"""


def all_modules() -> list[str]:
    names = ["checks"]
    for info in pkgutil.walk_packages(checks.__path__, "checks."):
        names.append(info.name)
    return sorted(names)


def test_there_are_modules_to_check():
    mods = all_modules()
    for expected in ("checks.runner", "checks.registry", "checks.reporters.text", "checks.fixes"):
        assert expected in mods


def test_checks_import_without_textual_or_the_sandbox():
    mods = all_modules()
    code = BLOCKER + "\n".join(
        [
            "import importlib",
            f"for m in {mods!r}:",
            "    importlib.import_module(m)",
            "from checks import registry",
            "assert len(registry.all_checks()) >= 13",
            "bad = [m for m in sys.modules if m.startswith(('textual', 'wizard.sandbox'))]",
            "assert not bad, bad",
            "print('ok')",
        ]
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


def test_the_blocker_really_blocks():
    code = BLOCKER + "import textual\n"
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode != 0 and "layering: textual" in proc.stderr


def test_no_source_file_in_checks_names_the_sandbox_or_textual():
    for path in Path(checks.__file__).parent.rglob("*.py"):
        text = path.read_text()
        for word in (
            "import textual",
            "from textual",
            "wizard.sandbox",
            "from wizard import sandbox",
        ):
            assert word not in text, f"{path}: {word}"
