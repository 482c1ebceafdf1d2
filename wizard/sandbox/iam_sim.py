"""IAM policy evaluation for the sandbox: SimulatePrincipalPolicy and the simulated agent.

Why our own evaluator rather than `moto.iam.access_control.IAMPolicy`: moto's treats an Allow
whose condition does not match as a Deny and barely looks at principals. This one follows the
documented evaluation logic for a single account:

- an explicit Deny in any applicable policy wins;
- otherwise an Allow in an identity policy *or* in the resource policy (when its Principal names
  the caller) allows;
- otherwise the decision is an implicit deny;
- a statement applies when its Action/NotAction, Resource/NotResource (and, for resource
  policies, Principal/NotPrincipal) match and *every* condition holds; a statement whose
  condition does not hold simply does not apply (it is neither Allow nor Deny);
- wildcards `*` and `?` in actions (case-insensitive) and resources; policy variables such as
  `${aws:username}` are resolved from the context;
- condition operators: String*, Arn*, Bool, Null, Numeric*, Date* (coarse), IpAddress (exact),
  the `IfExists` suffix and the `ForAnyValue:`/`ForAllValues:` set prefixes. Condition keys are
  case-insensitive, as in AWS.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

ALLOWED = "allowed"
EXPLICIT_DENY = "explicitDeny"
IMPLICIT_DENY = "implicitDeny"


@dataclass
class PolicySource:
    """One policy document plus where it came from (for MatchedStatements)."""

    policy_id: str
    policy_type: str  # IAM Policy | resource | user | group | role | aws-managed | none
    document: Mapping[str, Any]
    is_resource_policy: bool = False


@dataclass
class Decision:
    action: str
    resource: str
    decision: str
    matched: list[tuple[PolicySource, int]] = field(default_factory=list)
    missing_context: list[str] = field(default_factory=list)

    @property
    def allowed(self) -> bool:
        return self.decision == ALLOWED


@dataclass(frozen=True)
class Principal:
    """Who is asking: an AWS ARN (role/user/root) or a service principal."""

    arn: str | None = None
    service: str | None = None
    account: str | None = None


def load_document(doc: Any) -> dict[str, Any]:
    """A policy document as a dict, whatever moto stored it as (str, url-encoded str, dict)."""
    if isinstance(doc, Mapping):
        return dict(doc)
    if isinstance(doc, bytes):
        doc = doc.decode()
    text = str(doc or "").strip()
    if not text:
        return {}
    try:
        return json.loads(text)
    except ValueError:
        from urllib.parse import unquote

        return json.loads(unquote(text))


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def _statements(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [s for s in _as_list(doc.get("Statement")) if isinstance(s, Mapping)]


def _glob(pattern: str, value: str, *, case: bool = True) -> bool:
    """IAM wildcard match: `*` any run, `?` one character; nothing else is special."""
    if not case:
        pattern, value = pattern.lower(), value.lower()
    regex = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    return re.fullmatch(regex, value, flags=re.DOTALL) is not None


def action_matches(pattern: str, action: str) -> bool:
    return _glob(pattern, action, case=False)


def _substitute(pattern: str, context: Mapping[str, list[str]]) -> str:
    def repl(m: re.Match[str]) -> str:
        key = m.group(1)
        default = None
        if "," in key:
            key, default = (p.strip() for p in key.split(",", 1))
            default = default.strip("'\"")
        special = {"*": "*", "?": "?", "$": "$"}
        if key in special:
            return special[key]
        vals = context.get(key.lower())
        if vals:
            return vals[0]
        return default if default is not None else m.group(0)

    return re.sub(r"\$\{([^}]+)\}", repl, pattern)


def resource_matches(pattern: str, resource: str, context: Mapping[str, list[str]]) -> bool:
    pattern = _substitute(pattern, context)
    if pattern == "*":
        return True
    # ARN segments: the service/region/account parts must match segment-wise; glob does it.
    return _glob(pattern, resource)


def principal_matches(spec: Any, who: Principal, *, direct: bool = False) -> bool:
    """Does a policy Principal element name `who`?

    With `direct`, naming the whole account (its id or `:root`) does not count: in a resource
    policy that only delegates to the account's IAM policies, it grants nothing by itself.
    """
    if spec == "*" or spec == {"AWS": "*"}:
        return True
    if not isinstance(spec, Mapping):
        return False
    for kind, values in spec.items():
        for value in _as_list(values):
            value = str(value)
            if kind == "Service" and who.service and value.lower() == who.service.lower():
                return True
            if kind == "AWS" and who.arn:
                if value == "*" or value == who.arn:
                    return True
                if (
                    not direct
                    and who.account
                    and value
                    in (
                        who.account,
                        f"arn:aws:iam::{who.account}:root",
                    )
                ):
                    return True
                # assumed-role session of the role
                if ":assumed-role/" in who.arn and value.endswith(":role/" + who.arn.split("/")[1]):
                    return True
    return False


# ---- conditions -------------------------------------------------------------------------


def _num(v: str) -> float | None:
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def _date(v: str) -> float | None:
    from datetime import datetime

    n = _num(v)
    if n is not None:
        return n
    try:
        return datetime.fromisoformat(str(v).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _single(op: str, expected: str, actual: str) -> bool:
    """One operator applied to one policy value and one context value (positive form)."""
    if op in ("StringEquals", "StringNotEquals"):
        return actual == expected
    if op in ("StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase"):
        return actual.lower() == expected.lower()
    if op in ("StringLike", "StringNotLike"):
        return _glob(expected, actual)
    if op in ("ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike"):
        e_parts, a_parts = expected.split(":", 5), actual.split(":", 5)
        if len(e_parts) != 6 or len(a_parts) != 6:
            return False
        return all(_glob(e, a) for e, a in zip(e_parts, a_parts, strict=True))
    if op == "Bool":
        return actual.lower() == expected.lower()
    if op.startswith("Numeric"):
        a, e = _num(actual), _num(expected)
        if a is None or e is None:
            return False
        return _compare(op[len("Numeric") :], a, e)
    if op.startswith("Date"):
        a, e = _date(actual), _date(expected)
        if a is None or e is None:
            return False
        return _compare(op[len("Date") :], a, e)
    if op in ("IpAddress", "NotIpAddress"):
        import ipaddress

        try:
            return ipaddress.ip_address(actual) in ipaddress.ip_network(expected, strict=False)
        except ValueError:
            return False
    if op == "BinaryEquals":
        return actual == expected
    return False


def _compare(kind: str, a: float, e: float) -> bool:
    return {
        "Equals": a == e,
        "NotEquals": a != e,
        "LessThan": a < e,
        "LessThanEquals": a <= e,
        "GreaterThan": a > e,
        "GreaterThanEquals": a >= e,
    }.get(kind, False)


_NEGATED = {
    "StringNotEquals",
    "StringNotEqualsIgnoreCase",
    "StringNotLike",
    "ArnNotEquals",
    "ArnNotLike",
    "NotIpAddress",
}


def condition_holds(
    operator: str,
    key: str,
    expected_values: Any,
    context: Mapping[str, list[str]],
    missing: list[str] | None = None,
) -> bool:
    """Evaluate one `{operator: {key: values}}` entry against the request context."""
    prefix = ""
    if ":" in operator and operator.split(":", 1)[0] in ("ForAnyValue", "ForAllValues"):
        prefix, operator = operator.split(":", 1)
    if_exists = operator.endswith("IfExists")
    if if_exists:
        operator = operator[: -len("IfExists")]
    expected = [
        str(v).lower() if isinstance(v, bool) else str(v) for v in _as_list(expected_values)
    ]
    actual = context.get(key.lower())
    if operator == "Null":
        is_null = actual is None or len(actual) == 0
        return any((str(e).lower() == "true") == is_null for e in expected)
    if actual is None:
        if missing is not None and key not in missing:
            missing.append(key)
        if if_exists:
            return True
        if prefix == "ForAllValues":
            return True
        return operator in _NEGATED
    negated = operator in _NEGATED
    if prefix == "ForAllValues":
        ok = all(any(_single(operator, e, a) for e in expected) for a in actual)
        return (not ok) if negated else ok
    if negated:
        # true when no context value matches any policy value
        return not any(_single(operator, e, a) for e in expected for a in actual)
    return any(_single(operator, e, a) for e in expected for a in actual)


def _conditions_hold(
    cond: Any, context: Mapping[str, list[str]], missing: list[str] | None
) -> bool:
    if not cond:
        return True
    if not isinstance(cond, Mapping):
        return False
    ok = True
    for operator, block in cond.items():
        if not isinstance(block, Mapping):
            return False
        for key, values in block.items():
            # evaluate every entry (to collect all missing keys) but keep the verdict
            if not condition_holds(str(operator), str(key), values, context, missing):
                ok = False
    return ok


def statement_applies(
    stmt: Mapping[str, Any],
    action: str,
    resource: str,
    context: Mapping[str, list[str]],
    *,
    principal: Principal | None = None,
    resource_policy: bool = False,
    missing: list[str] | None = None,
) -> bool:
    """Does this statement speak about (principal, action, resource) under this context?"""
    if "Action" in stmt:
        if not any(action_matches(str(p), action) for p in _as_list(stmt["Action"])):
            return False
    elif "NotAction" in stmt:
        if any(action_matches(str(p), action) for p in _as_list(stmt["NotAction"])):
            return False
    else:
        return False
    if "Resource" in stmt:
        if not any(resource_matches(str(p), resource, context) for p in _as_list(stmt["Resource"])):
            return False
    elif "NotResource" in stmt:
        if any(resource_matches(str(p), resource, context) for p in _as_list(stmt["NotResource"])):
            return False
    elif not resource_policy:
        return False
    if resource_policy:
        if principal is None:
            return False
        if "Principal" in stmt:
            if not principal_matches(stmt["Principal"], principal):
                return False
        elif "NotPrincipal" in stmt:
            if principal_matches(stmt["NotPrincipal"], principal):
                return False
        else:
            return False
    return _conditions_hold(stmt.get("Condition"), context, missing)


def normalise_context(entries: Iterable[Mapping[str, Any]] | Mapping[str, Any] | None) -> dict:
    """ContextEntries (API shape) or a plain mapping -> {lowercase key: [str values]}."""
    out: dict[str, list[str]] = {}
    if not entries:
        return out
    if isinstance(entries, Mapping):
        for k, v in entries.items():
            out[str(k).lower()] = [
                str(x).lower() if isinstance(x, bool) else str(x) for x in _as_list(v)
            ]
        return out
    for entry in entries:
        name = entry.get("ContextKeyName")
        if not name:
            continue
        out[str(name).lower()] = [str(v) for v in _as_list(entry.get("ContextKeyValues"))]
    return out


def evaluate(
    action: str,
    resource: str,
    identity_policies: Sequence[PolicySource],
    *,
    resource_policy: PolicySource | None = None,
    principal: Principal | None = None,
    context: Mapping[str, list[str]] | None = None,
    boundary: PolicySource | None = None,
) -> Decision:
    """The decision for one action on one resource (same-account evaluation logic)."""
    ctx = dict(context or {})
    missing: list[str] = []
    allows: list[tuple[PolicySource, int]] = []
    denies: list[tuple[PolicySource, int]] = []
    sources: list[tuple[PolicySource, bool]] = [(p, False) for p in identity_policies]
    if resource_policy is not None:
        sources.append((resource_policy, True))
    identity_allowed = False
    resource_allowed = False
    for source, is_resource in sources:
        for index, stmt in enumerate(_statements(source.document)):
            if not statement_applies(
                stmt,
                action,
                resource,
                ctx,
                principal=principal,
                resource_policy=is_resource,
                missing=missing,
            ):
                continue
            effect = str(stmt.get("Effect", "")).capitalize()
            if effect == "Deny":
                denies.append((source, index))
            elif effect == "Allow":
                if (
                    is_resource
                    and "Principal" in stmt
                    and principal is not None
                    and not principal_matches(stmt["Principal"], principal, direct=True)
                ):
                    continue  # granted to the account: identity policies must allow it
                allows.append((source, index))
                if is_resource:
                    resource_allowed = True
                else:
                    identity_allowed = True
    if denies:
        return Decision(action, resource, EXPLICIT_DENY, denies, missing)
    if boundary is not None and identity_allowed:
        inside = any(
            statement_applies(s, action, resource, ctx, missing=missing)
            and str(s.get("Effect", "")).capitalize() == "Allow"
            for s in _statements(boundary.document)
        )
        boundary_denies = any(
            statement_applies(s, action, resource, ctx, missing=missing)
            and str(s.get("Effect", "")).capitalize() == "Deny"
            for s in _statements(boundary.document)
        )
        if boundary_denies:
            return Decision(action, resource, EXPLICIT_DENY, [], missing)
        if not inside:
            identity_allowed = False
            allows = [a for a in allows if a[0].is_resource_policy]
    if identity_allowed or resource_allowed:
        return Decision(action, resource, ALLOWED, allows, missing)
    return Decision(action, resource, IMPLICIT_DENY, [], missing)


def trusts(trust_policy: Any, service: str, context: Mapping[str, list[str]] | None = None) -> bool:
    """Would `service` (e.g. ec2.amazonaws.com) be allowed sts:AssumeRole by this trust policy?"""
    doc = load_document(trust_policy)
    src = PolicySource("trust", "resource", doc, is_resource_policy=True)
    who = Principal(service=service)
    return evaluate(
        "sts:AssumeRole", "*", [], resource_policy=src, principal=who, context=context
    ).allowed


# ---- the moto side: where a principal's policies live -------------------------------------


class NoSuchEntity(LookupError):
    """The PolicySourceArn names nothing in the emulated account."""


def _managed_sources(managed: Mapping[str, Any]) -> list[PolicySource]:
    out = []
    for arn, policy in managed.items():
        doc = ""
        for version in getattr(policy, "versions", []):
            if getattr(version, "is_default", False):
                doc = version.document
        kind = "aws-managed" if ":iam::aws:policy/" in arn else "user-managed"
        out.append(PolicySource(policy.name, kind, load_document(doc)))
    return out


def _inline_sources(policies: Mapping[str, Any], kind: str) -> list[PolicySource]:
    return [PolicySource(name, kind, load_document(doc)) for name, doc in policies.items()]


def iam_backend(account: str) -> Any:
    from moto.iam.models import iam_backends

    return iam_backends[account]["aws"]


def _boundary(backend: Any, arn: str | None) -> PolicySource | None:
    if not arn:
        return None
    policy = backend.managed_policies.get(arn)
    if policy is None:
        return None
    return _managed_sources({arn: policy})[0]


def principal_policies(
    account: str, arn: str
) -> tuple[list[PolicySource], PolicySource | None, Principal]:
    """Identity policies (inline + attached; a user's groups too), boundary and Principal."""
    backend = iam_backend(account)
    kind, _, rest = arn.split(":", 5)[-1].partition("/")
    name = rest.rsplit("/", 1)[-1]
    if kind == "role":
        try:
            role = backend.get_role(name)
        except Exception:
            raise NoSuchEntity(f"The role with name {name} cannot be found.") from None
        sources = _inline_sources(role.policies, "role") + _managed_sources(role.managed_policies)
        return (
            sources,
            _boundary(backend, role.permissions_boundary_arn),
            Principal(arn, None, account),
        )
    if kind == "user":
        try:
            user = backend.get_user(name)
        except Exception:
            raise NoSuchEntity(f"The user with name {name} cannot be found.") from None
        sources = _inline_sources(user.policies, "user") + _managed_sources(user.managed_policies)
        for group in backend.get_groups_for_user(name):
            sources += _inline_sources(group.policies, "group")
            sources += _managed_sources(group.managed_policies)
        boundary = _boundary(backend, getattr(user, "permissions_boundary", None))
        return sources, boundary, Principal(arn, None, account)
    if kind == "group":
        try:
            group = backend.get_group(name)
        except Exception:
            raise NoSuchEntity(f"The group with name {name} cannot be found.") from None
        sources = _inline_sources(group.policies, "group") + _managed_sources(
            group.managed_policies
        )
        return sources, None, Principal(arn, None, account)
    raise NoSuchEntity(f"PolicySourceArn {arn} is not a user, group or role.")


def role_allows(
    account: str,
    role_arn: str,
    action: str,
    resource: str,
    *,
    resource_policy: Any = None,
    context: Mapping[str, Any] | None = None,
) -> Decision:
    """What the simulated fleet asks: may this role do `action` on `resource`?"""
    sources, boundary, who = principal_policies(account, role_arn)
    ctx = {
        "aws:principalarn": [role_arn],
        "aws:principalaccount": [account],
        "aws:principaltype": ["AssumedRole"],
        "aws:securetransport": ["true"],
    }
    ctx.update(normalise_context(context))
    rp = None
    if resource_policy:
        rp = PolicySource("ResourcePolicy", "resource", load_document(resource_policy), True)
    return evaluate(
        action, resource, sources, resource_policy=rp, principal=who, context=ctx, boundary=boundary
    )


def simulate_principal_policy(account: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """The SimulatePrincipalPolicy response body for the API parameters given."""
    arn = params.get("PolicySourceArn") or ""
    actions = list(params.get("ActionNames") or [])
    resources = list(params.get("ResourceArns") or []) or ["*"]
    sources, boundary, who = principal_policies(account, arn)
    excluded = set(params.get("PolicyExclusionList") or [])
    sources = [s for s in sources if s.policy_id not in excluded]
    for i, text in enumerate(params.get("PolicyInputList") or []):
        sources.append(PolicySource(f"PolicyInputList.{i + 1}", "none", load_document(text)))
    boundaries = params.get("PermissionsBoundaryPolicyInputList") or []
    if boundaries:
        boundary = PolicySource(
            "PermissionsBoundaryPolicyInputList.1", "none", load_document(boundaries[0])
        )
    rp = None
    if params.get("ResourcePolicy"):
        rp = PolicySource(
            "ResourcePolicy", "resource", load_document(params["ResourcePolicy"]), True
        )
    caller = params.get("CallerArn")
    if caller:
        who = Principal(caller, None, account)
    context = normalise_context(params.get("ContextEntries"))
    results = []
    for action in actions:
        for resource in resources:
            d = evaluate(
                action,
                resource,
                sources,
                resource_policy=rp,
                principal=who,
                context=context,
                boundary=boundary,
            )
            results.append(_result(d))
    max_items = int(params.get("MaxItems") or 0) or None
    start = int(params.get("Marker") or 0)
    page = results[start:]
    out: dict[str, Any] = {"IsTruncated": False}
    if max_items is not None and len(page) > max_items:
        out["EvaluationResults"] = page[:max_items]
        out["IsTruncated"] = True
        out["Marker"] = str(start + max_items)
    else:
        out["EvaluationResults"] = page
    return out


def _matched(d: Decision) -> list[dict[str, Any]]:
    return [
        {
            "SourcePolicyId": src.policy_id,
            "SourcePolicyType": src.policy_type,
            "StartPosition": {"Line": 1, "Column": 1 + index},
            "EndPosition": {"Line": 1, "Column": 2 + index},
        }
        for src, index in d.matched
    ]


def _result(d: Decision) -> dict[str, Any]:
    return {
        "EvalActionName": d.action,
        "EvalResourceName": d.resource,
        "EvalDecision": d.decision,
        "MatchedStatements": _matched(d),
        "MissingContextValues": sorted(set(d.missing_context)),
    }


def simulate_custom_policy(account: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """SimulateCustomPolicy: only the policies given, evaluated like SimulatePrincipalPolicy."""
    sources = [
        PolicySource(f"PolicyInputList.{i + 1}", "none", load_document(text))
        for i, text in enumerate(params.get("PolicyInputList") or [])
    ]
    rp = None
    if params.get("ResourcePolicy"):
        rp = PolicySource(
            "ResourcePolicy", "resource", load_document(params["ResourcePolicy"]), True
        )
    caller = params.get("CallerArn")
    who = Principal(caller, None, account) if caller else Principal(None, None, account)
    context = normalise_context(params.get("ContextEntries"))
    results = [
        _result(evaluate(a, r, sources, resource_policy=rp, principal=who, context=context))
        for a in params.get("ActionNames") or []
        for r in (params.get("ResourceArns") or ["*"])
    ]
    return {"EvaluationResults": results, "IsTruncated": False}
