"""The setup steps as UI panes, one module each, loaded when first shown (fast first paint)."""

from __future__ import annotations

import importlib

STEPS: list[tuple[str, str]] = [  # short titles: the step list must leave room at 80 columns
    ("credentials", "Credentials"),
    ("roles", "Roles"),
    ("instances", "Instances"),
    ("bucket", "Bucket"),
    ("application", "Application"),
    ("files", "Files"),
    ("review", "Review"),
    ("apply", "Apply"),
    ("done", "Done"),
]
STEP_IDS = [s for s, _ in STEPS]
TITLES = dict(STEPS)


def pane_class(step_id: str) -> type:
    """The StepPane subclass for a step (module `wizard.screens.steps.<id>`, class `Pane`)."""
    module = importlib.import_module(f"wizard.screens.steps.{step_id}")
    return module.Pane
