"""Step: instances (placeholder)."""

from __future__ import annotations

from wizard.screens.steps.base import StepPane


class Pane(StepPane):
    STEP_ID = "instances"
    TITLE = "instances"
