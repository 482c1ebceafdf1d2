"""A small, deliberately conservative reader of IAM policy documents.

Used only when `iam:SimulatePrincipalPolicy` is denied to the caller: the result is labelled weaker
because conditions, permission boundaries, SCPs and session policies are not evaluated here.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote


def parse(doc: Any) -> dict[str, Any]:
    """A policy document from a dict, JSON text, or URL-encoded JSON text (IAM returns that)."""
    if isinstance(doc, dict):
        return doc
    if not doc:
        return {}
    text = str(doc)
    if text.lstrip().startswith("%7B") or text.lstrip().startswith("%7b"):
        text = unquote(text)
    try:
        return json.loads(text)
    except ValueError:
        return json.loads(unquote(text))


def _list(v: Any) -> list[Any]:
    if v is None:
        return []
    return v if isinstance(v, list) else [v]


def _match(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    if ignore_case:
        return fnmatch.fnmatchcase(value.lower(), pattern.lower())
    return fnmatch.fnmatchcase(value, pattern)


def _statements(doc: Any) -> list[dict[str, Any]]:
    return [s for s in _list(parse(doc).get("Statement")) if isinstance(s, dict)]


def _action_matches(stmt: dict[str, Any], action: str) -> bool:
    if "NotAction" in stmt:
        return not any(_match(a, action, ignore_case=True) for a in _list(stmt["NotAction"]))
    return any(_match(a, action, ignore_case=True) for a in _list(stmt.get("Action")))


def _resource_matches(stmt: dict[str, Any], resource: str) -> bool:
    if "NotResource" in stmt:
        return not any(_match(r, resource) for r in _list(stmt["NotResource"]))
    resources = _list(stmt.get("Resource"))
    return not resources or any(_match(r, resource) for r in resources)


def _principal_matches(stmt: dict[str, Any], principal_arn: str, account: str) -> bool:
    principal = stmt.get("Principal")
    if principal is None:
        return True  # identity policy
    if principal == "*":
        return True
    if isinstance(principal, dict):
        for value in _list(principal.get("AWS")):
            if value in ("*", principal_arn, account, f"arn:aws:iam::{account}:root"):
                return True
    return False


def evaluate(
    identity_policies: Iterable[Any],
    action: str,
    resource: str,
    *,
    resource_policy: Any = None,
    principal_arn: str = "",
    account: str = "",
) -> tuple[str, list[str]]:
    """('allowed' | 'explicitDeny' | 'implicitDeny', notes) for one action on one resource.

    Same-account rule: an Allow in either the identity policies or the resource policy grants; any
    matching Deny wins. Conditions are not evaluated (noted).
    """
    notes: list[str] = []
    allowed = False
    docs = [("identity", d) for d in identity_policies]
    if resource_policy:
        docs.append(("resource", resource_policy))
    for kind, doc in docs:
        for stmt in _statements(doc):
            if not _action_matches(stmt, action) or not _resource_matches(stmt, resource):
                continue
            if kind == "resource" and not _principal_matches(stmt, principal_arn, account):
                continue
            if stmt.get("Condition"):
                notes.append(f"a {kind} policy statement has conditions that were not evaluated")
            if stmt.get("Effect") == "Deny":
                return "explicitDeny", notes
            if stmt.get("Effect") == "Allow":
                allowed = True
    return ("allowed" if allowed else "implicitDeny"), notes


def trusts(trust_doc: Any, service: str) -> bool:
    """Does this trust policy let `service` (e.g. ec2.amazonaws.com) call sts:AssumeRole?"""
    for stmt in _statements(trust_doc):
        if stmt.get("Effect") != "Allow" or not _action_matches(stmt, "sts:AssumeRole"):
            continue
        principal = stmt.get("Principal") or {}
        if principal == "*":
            return True
        if isinstance(principal, dict) and service in _list(principal.get("Service")):
            return True
    return False


def trusted_services(trust_doc: Any) -> list[str]:
    out: list[str] = []
    for stmt in _statements(trust_doc):
        principal = stmt.get("Principal") or {}
        if stmt.get("Effect") == "Allow" and isinstance(principal, dict):
            out.extend(str(s) for s in _list(principal.get("Service")))
    return out
