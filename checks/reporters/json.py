"""The `diagnose --json` document (schema_version 1; additive changes only)."""

from __future__ import annotations

import json
from typing import Any

from checks.runner import Report


def document(report: Report) -> dict[str, Any]:
    return report.to_json()


def render(report: Report) -> str:
    return json.dumps(report.to_json(), indent=2, default=str)
