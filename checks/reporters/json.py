"""The `diagnose --json` document (schema_version 1; additive changes only) and its JSON Schema.

`SCHEMA` is the contract for scripts and for `deploy --json`, which embeds the document as
`diagnosis`; tests validate real documents against it.
"""

from __future__ import annotations

import json
from typing import Any

from checks.runner import Report

_STATUS = ["pass", "info", "warn", "skip", "fail", "error"]

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "wizard diagnose --json",
    "type": "object",
    "required": ["schema_version", "deployment", "results", "root_causes"],
    "properties": {
        "schema_version": {"const": 1},
        "deployment": {
            "oneOf": [
                {"type": "null"},
                {
                    "type": "object",
                    "required": ["id", "status", "error_code", "error_message", "instances"],
                    "properties": {
                        "id": {"type": "string", "pattern": "^d-[A-Z0-9]{9}$"},
                        "status": {"type": "string"},
                        "error_code": {"type": ["string", "null"]},
                        "error_message": {"type": ["string", "null"]},
                        "instances": {
                            "type": "object",
                            "additionalProperties": {"type": "integer", "minimum": 0},
                        },
                    },
                },
            ]
        },
        "results": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "status", "summary", "evidence", "instances", "fix"],
                "properties": {
                    "id": {"type": "string", "pattern": "^[a-z0-9]+\\.[a-z0-9-]+$"},
                    "title": {"type": "string"},
                    "status": {"enum": _STATUS},
                    "summary": {"type": "string", "minLength": 1},
                    "evidence": {"type": "object"},
                    "instances": {"type": "array", "items": {"type": "string"}},
                    "fix": {
                        "oneOf": [
                            {"type": "null"},
                            {
                                "type": "object",
                                "required": ["summary", "commands", "automatic"],
                                "properties": {
                                    "summary": {"type": "string"},
                                    "commands": {"type": "array", "items": {"type": "string"}},
                                    "automatic": {"type": "boolean"},
                                },
                            },
                        ]
                    },
                },
            },
        },
        "root_causes": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
    },
}


def document(report: Report) -> dict[str, Any]:
    return report.to_json()


def render(report: Report) -> str:
    return json.dumps(report.to_json(), indent=2, default=str)


def validate(doc: dict[str, Any]) -> None:
    """Raise jsonschema.ValidationError when `doc` breaks the contract."""
    import jsonschema

    jsonschema.validate(doc, SCHEMA)
