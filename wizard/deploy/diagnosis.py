"""Diagnose a failed deployment for `wizard deploy` and the DeployScreen.

`checks/` is optional at run time (it is imported lazily and may be absent from a trimmed build);
a diagnosis that breaks never hides the deployment's own result.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from wizard.aws import AwsContext


@dataclass
class Diagnosis:
    """The text report (root causes and fixes), the JSON document, or why there is none."""

    text: str
    doc: dict[str, Any] | None
    error: str | None = None


def diagnose_deployment(
    ctx: AwsContext, deployment_id: str, *, color: bool = False, verbose: bool = False
) -> Diagnosis:
    """Run every diagnose check on `deployment_id`; never raises for an expected failure."""
    try:
        runner = importlib.import_module("checks.runner")
        text_reporter = importlib.import_module("checks.reporters.text")
    except ImportError:
        msg = "diagnose is not available in this build; run `wizard diagnose` later"
        return Diagnosis(text=msg, doc=None, error=msg)
    try:
        report = runner.diagnose(ctx, deployment_id=deployment_id)
        text = text_reporter.render(report, verbose=verbose, color=color)
        return Diagnosis(text=text, doc=report.to_json())
    except Exception as exc:
        from wizard.aws import explain

        mapped = explain(exc)
        reason = mapped.one_line() if mapped else f"{type(exc).__name__}: {exc}"
        return Diagnosis(text=f"diagnose failed: {reason}", doc=None, error=reason)
