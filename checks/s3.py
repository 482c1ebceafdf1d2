"""s3.*: the revision object: there, unchanged, in the right region, readable by every role."""

from __future__ import annotations

import difflib
import json
import posixpath
from typing import Any

from checks import policy
from checks.evidence import Unavailable, error_code
from checks.interpret import count_phrase
from checks.model import Fix, Result, fail, info, passed, skip, warn
from checks.registry import check


def _loc(ctx) -> dict[str, Any] | None:
    return ctx.ev.revision()


def _arn(ctx, bucket: str, key: str = "") -> str:
    part = "aws"
    try:
        part = ctx.aws.partition
    except Exception:
        pass
    return f"arn:{part}:s3:::{bucket}" + (f"/{key}" if key else "")


def _close_keys(key: str, keys: list[str]) -> list[str]:
    """Keys that look like another name for the same build: one name inside the other
    (`springboot2-webservice.zip` / `freelec-springboot2-webservice.zip`), or close spelling."""
    base = posixpath.basename(key).lower()
    stem = base.rsplit(".", 1)[0]
    scored: list[tuple[float, str]] = []
    for k in keys:
        other = posixpath.basename(k).lower()
        ostem = other.rsplit(".", 1)[0]
        if not ostem or k == key:
            continue
        ratio = difflib.SequenceMatcher(None, stem, ostem).ratio()
        if len(ostem) >= 4 and (ostem in stem or stem in ostem):
            ratio = max(ratio, 0.9)
        if ratio >= 0.6:
            scored.append((ratio, k))
    scored.sort(key=lambda p: (-p[0], p[1]))
    return [k for _, k in scored[:3]]


def _missing_key(ctx, loc: dict[str, Any], evidence: dict[str, Any]) -> tuple[str, Fix]:
    """What is under the key's prefix instead: another name for the same build means the upload
    and the deployment disagree on the key (reference §3 C14)."""
    bucket, key = loc["bucket"], loc["key"]
    prefix = posixpath.dirname(key)
    prefix = prefix + "/" if prefix else ""
    redeploy = "wizard deploy"
    try:
        resp = ctx.ev.client("s3").list_objects_v2(Bucket=bucket, Prefix=prefix, MaxKeys=1000)
    except Exception as exc:
        code = error_code(exc)
        evidence["listing"] = f"ListObjectsV2 on s3://{bucket}/{prefix} failed: {code or exc}"
        return (
            "",
            Fix(
                "Upload the bundle and deploy again (could not list the bucket to look for "
                "another name).",
                [redeploy, f"aws s3 ls s3://{bucket}/{prefix}"],
            ),
        )
    objects = resp.get("Contents") or []
    keys = [o["Key"] for o in objects]
    evidence["keys_under_prefix"] = len(keys)
    close = _close_keys(key, keys)
    evidence["closest_keys"] = close
    if close:
        other = close[0]
        when = next((o.get("LastModified") for o in objects if o["Key"] == other), None)
        app, group = ctx.ev.application, ctx.ev.group_name
        bundle_type = loc.get("bundleType") or "zip"
        return (
            f"; s3://{bucket}/{prefix} holds {posixpath.basename(other)}"
            + (f" (uploaded {when:%Y-%m-%d %H:%M})" if hasattr(when, "strftime") else "")
            + ": the upload step and the deployment name the build differently",
            Fix(
                f"Make the deploy step use the key the upload step writes ({other}), or the "
                "upload use the deployed name; meanwhile deploy the uploaded build.",
                [
                    f"aws deploy create-deployment --application-name {app} "
                    f"--deployment-group-name {group} --s3-location "
                    f"bucket={bucket},key={other},bundleType={bundle_type}",
                    f"aws s3 ls s3://{bucket}/{prefix}",
                ],
            ),
        )
    if keys:
        shown = ", ".join(posixpath.basename(k) for k in sorted(keys)[-3:])
        return (
            f"; s3://{bucket}/{prefix} holds other keys ({shown}), none like it",
            Fix(
                "Upload the bundle under the key the deployment names (or deploy one of the "
                "keys that are there), then deploy again.",
                [redeploy, f"aws s3 ls s3://{bucket}/{prefix}"],
            ),
        )
    return (
        f"; nothing is under s3://{bucket}/{prefix}: the upload never happened (or went elsewhere)",
        Fix(
            "Upload the bundle and deploy again (check that the CI upload step ran and its "
            "bucket and prefix).",
            [redeploy, f"aws s3 ls s3://{bucket}/"],
        ),
    )


def _no_revision(ctx) -> Result:
    dep = ctx.ev.deployment()
    rev = (dep or {}).get("revision") or {}
    if rev.get("revisionType") and rev.get("revisionType") != "S3":
        return info(f"the revision is a {rev['revisionType']} revision, not S3")
    return skip("no S3 revision to look at")


@check("s3.bundle-exists", "Revision in S3", priority=30)
def bundle_exists(ctx) -> Result:
    """The revision object exists and is the one the deployment named (ETag / version)."""
    loc = _loc(ctx)
    if not loc:
        return _no_revision(ctx)
    url = f"s3://{loc['bucket']}/{loc['key']}"
    evidence: dict[str, Any] = {"revision": loc}
    try:
        head = ctx.ev.head_object()
    except Unavailable as u:
        if u.code != "NotFound":
            raise
        summary, fix = _missing_key(ctx, loc, evidence)
        return fail(f"{url} does not exist{summary}", evidence=evidence, fix=fix)
    assert head is not None
    etag = str(head.get("ETag", "")).strip('"')
    evidence.update(
        {
            "etag": etag,
            "size": head.get("ContentLength"),
            "version_id": head.get("VersionId"),
            "last_modified": str(head.get("LastModified", "")),
            "server_side_encryption": head.get("ServerSideEncryption"),
        }
    )
    want = str(loc.get("eTag") or "").strip('"')
    if want and etag and want != etag:
        return fail(
            f"{url} changed after the deployment was created (ETag {etag}, the deployment expects "
            f"{want})",
            evidence=evidence,
            fix=Fix(
                "Never overwrite a deployed key: upload each bundle under a new key (or pin "
                "versionId), "
                "then deploy again.",
                ["wizard deploy"],
            ),
        )
    pointed = [f for f in ctx.pointed("s3.bundle-exists")]
    if pointed:
        return warn(
            f"{url} exists now, but {count_phrase(len(pointed), None)} could not find it during "
            "the deployment",
            evidence=evidence,
            instances=sorted(f.instance_id for f in pointed),
            fix=Fix("Deploy again.", ["wizard deploy"]),
        )
    return passed(
        f"{url} exists ({head.get('ContentLength', '?')} bytes, ETag {etag})", evidence=evidence
    )


@check("s3.bundle-region", "Bucket region", priority=32)
def bundle_region(ctx) -> Result:
    """The bucket is in the instances' region (the agent's S3 client uses the instance's region)."""
    loc = _loc(ctx)
    if not loc:
        return _no_revision(ctx)
    try:
        region = ctx.ev.bucket_region()
    except Unavailable as u:
        if u.code == "NoSuchBucket":
            return fail(
                u.reason,
                fix=Fix(
                    "Create the revision bucket (wizard apply) and deploy again.", ["wizard apply"]
                ),
            )
        raise
    evidence = {"bucket": loc["bucket"], "bucket_region": region, "instances_region": ctx.ev.region}
    if region != ctx.ev.region:
        here = ctx.ev.region
        new = f"{loc['bucket']}-{here}"
        return fail(
            f"bucket {loc['bucket']} is in {region}, the instances are in {here} (the agent "
            "downloads from its own region)",
            evidence=evidence,
            fix=Fix(
                f"Put the revision in a bucket in {here}: copy it there, deploy from it, and "
                f"point the project's bucket (bucket.name) at it.",
                [
                    f"aws s3 mb s3://{new} --region {here} && aws s3 cp "
                    f"s3://{loc['bucket']}/{loc['key']} s3://{new}/{loc['key']} "
                    f"--source-region {region} --region {here}",
                    f"aws deploy create-deployment --application-name {ctx.ev.application} "
                    f"--deployment-group-name {ctx.ev.group_name} --s3-location "
                    f"bucket={new},key={loc['key']},bundleType={loc.get('bundleType') or 'zip'}",
                ],
            ),
        )
    return passed(f"bucket {loc['bucket']} is in {region}, like the instances", evidence=evidence)


def _read_policy_fix(role: str, bucket: str, key: str) -> Fix:
    prefix = posixpath.dirname(key)
    resource = f"arn:aws:s3:::{bucket}/{prefix + '/' if prefix else ''}*"
    doc = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:GetObjectVersion"],
                "Resource": resource,
            },
            {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{bucket}"},
        ],
    }
    return Fix(
        f"Let {role} read the revisions: an inline policy scoped to {resource}.",
        [
            f"aws iam put-role-policy --role-name {role} --policy-name "
            "codedeploy-wizard-revision-read "
            f"--policy-document '{json.dumps(doc, separators=(',', ':'))}'"
        ],
        automatic=True,
        action="s3-read-policy",
        params={"role": role, "bucket": bucket, "prefix": prefix},
    )


@check(
    "s3.bundle-readable",
    "Instance roles can read the revision",
    requires=("iam.instance-profile",),
    priority=34,
)
def bundle_readable(ctx) -> Result:
    """Each instance role may read the revision (identity policy and bucket policy, simulated)."""
    loc = _loc(ctx)
    if not loc:
        return _no_revision(ctx)
    roles = ctx.ev.instance_roles()
    if not roles:
        return skip("no instance role to look at")
    bucket, key = loc["bucket"], loc["key"]
    obj = _arn(ctx, bucket, key)
    actions = ["s3:GetObject"] + (["s3:GetObjectVersion"] if loc.get("version") else [])
    try:
        bucket_policy = ctx.ev.bucket_policy()
    except Unavailable:
        bucket_policy = None
    evidence: dict[str, Any] = {
        "object": obj,
        "actions": actions,
        "bucket_policy": bool(bucket_policy),
        "roles": {},
    }
    denied: list[tuple[str, str, list[str]]] = []
    roles_by_name = {e["role"]["RoleName"]: arn for arn, e in roles.items()}
    weaker = False
    for role_arn, entry in sorted(roles.items()):
        rname = entry["role"]["RoleName"]
        try:
            decisions, method = _simulate(ctx, role_arn, actions, obj, bucket_policy)
        except Unavailable as u:
            weaker = True
            method = f"read the role's policies (weaker: {u.reason}; conditions not evaluated)"
            decisions = {}
            docs = ctx.ev.identity_policies(rname)
            for a in actions:
                decisions[a], _notes = policy.evaluate(
                    docs,
                    a,
                    obj,
                    resource_policy=bucket_policy,
                    principal_arn=role_arn,
                    account=_account(role_arn),
                )
        bad = {a: d for a, d in decisions.items() if d != "allowed"}
        evidence["roles"][rname] = {
            "decisions": decisions,
            "method": method,
            "instances": len(entry["instances"]),
        }
        if bad:
            why = "explicitDeny" if "explicitDeny" in bad.values() else "implicitDeny"
            denied.append((rname, why, entry["instances"]))
    total = len(ctx.ev.instances())
    label = " (weaker: from reading policies, simulation not allowed)" if weaker else ""
    if not denied:
        pointed = [f for f in ctx.pointed("s3.bundle-readable") if f.cause.key == "s3-denied"]
        names = ", ".join(sorted(evidence["roles"]))
        if weaker:
            return info(f"{names} appear to be allowed to read {obj}{label}", evidence=evidence)
        if pointed:
            return warn(
                f"{names} may read the bundle now, but {count_phrase(len(pointed), total)} got "
                "Access Denied "
                "during the deployment (policy changed since, or KMS?)",
                evidence=evidence,
                instances=sorted(f.instance_id for f in pointed),
                fix=Fix("Deploy again.", ["wizard deploy"]),
            )
        return passed(f"{names} may read s3://{bucket}/{key}", evidence=evidence)
    rname, why, ids = denied[0]
    if why == "explicitDeny":
        role_arn = roles_by_name[rname]
        in_bucket = bool(bucket_policy) and (
            policy.evaluate(
                [],
                actions[0],
                obj,
                resource_policy=bucket_policy,
                principal_arn=role_arn,
                account=_account(role_arn),
            )[0]
            == "explicitDeny"
        )
        where = "the bucket policy" if in_bucket else "an identity policy"
        summary = (
            f"{count_phrase(len(ids), total)}: role {rname} is denied s3:GetObject "
            f"by an explicit Deny in {where}{label}"
        )
        fix = Fix(
            f"Remove or narrow the Deny statement in {where} (not automatic: a Deny protects "
            "data).",
            [f"aws s3api get-bucket-policy --bucket {bucket} --query Policy --output text"],
        )
    else:
        summary = f"{count_phrase(len(ids), total)}: role {rname} may not s3:GetObject s3://{bucket}/{key}{label}"
        fix = _read_policy_fix(rname, bucket, key)
    if len(denied) > 1:
        summary += f" (+{len(denied) - 1} more role(s))"
    return fail(
        summary, evidence=evidence, instances=sorted({i for _, _, v in denied for i in v}), fix=fix
    )


def _simulate(
    ctx, role_arn: str, actions: list[str], obj: str, bucket_policy: str | None
) -> tuple[dict[str, str], str]:
    """Decisions per action and how they were reached.

    With the bucket policy as ResourcePolicy when the service accepts it; when it insists on an IAM
    user as caller (real AWS does, for a role), the identity policies are simulated and the bucket
    policy's statements naming the role (or everyone) are applied on top: Deny wins, Allow grants.
    """
    try:
        return ctx.ev.simulate(role_arn, actions, [obj], bucket_policy), "SimulatePrincipalPolicy"
    except Unavailable as u:
        if u.code != "InvalidInput":
            raise
    decisions = dict(ctx.ev.simulate(role_arn, actions, [obj], None))
    for a in actions:
        verdict, _ = policy.evaluate(
            [],
            a,
            obj,
            resource_policy=bucket_policy,
            principal_arn=role_arn,
            account=_account(role_arn),
        )
        if verdict == "explicitDeny" or (
            verdict == "allowed" and decisions.get(a) != "explicitDeny"
        ):
            decisions[a] = verdict
    return decisions, "SimulatePrincipalPolicy (identity) + the bucket policy's statements"


def _account(role_arn: str) -> str:
    parts = role_arn.split(":")
    return parts[4] if len(parts) > 4 else ""


@check("s3.kms", "Bundle encryption key usable", requires=("s3.bundle-exists",), priority=36)
def kms(ctx) -> Result:
    """An SSE-KMS bundle can be decrypted by every instance role (identity and key policy)."""
    loc = _loc(ctx)
    if not loc:
        return _no_revision(ctx)
    head = ctx.ev.head_object() or {}
    sse = head.get("ServerSideEncryption")
    if sse != "aws:kms":
        return passed(
            f"the bundle is not SSE-KMS encrypted ({sse or 'no SSE header'}): no key needed"
        )
    key_id = head.get("SSEKMSKeyId", "")
    evidence: dict[str, Any] = {"kms_key": key_id}

    def describe() -> dict[str, Any]:
        return ctx.ev.client("kms").describe_key(KeyId=key_id)["KeyMetadata"]

    meta = ctx.ev.memo(("kms", key_id), describe)
    key_arn = meta.get("Arn", key_id)
    evidence["key_manager"] = meta.get("KeyManager")
    if meta.get("KeyManager") == "AWS":
        return passed(
            "the bundle uses the AWS managed key aws/s3, usable through S3 by the account's roles",
            evidence=evidence,
        )
    roles = ctx.ev.instance_roles()
    denied: list[str] = []
    ids: list[str] = []
    weaker = False
    for role_arn, entry in sorted(roles.items()):
        rname = entry["role"]["RoleName"]
        try:
            decision = ctx.ev.simulate(role_arn, ["kms:Decrypt"], [key_arn]).get("kms:Decrypt")
        except Unavailable:
            weaker = True
            decision, _ = policy.evaluate(ctx.ev.identity_policies(rname), "kms:Decrypt", key_arn)
        if decision != "allowed":
            denied.append(rname)
            ids.extend(entry["instances"])
    try:
        key_policy = ctx.ev.memo(
            ("kms-policy", key_arn),
            lambda: ctx.ev.client("kms").get_key_policy(KeyId=key_arn, PolicyName="default")[
                "Policy"
            ],
        )
    except Exception as exc:
        key_policy = None
        evidence["key_policy"] = f"not readable: {error_code(exc) or exc}"
    if key_policy:
        lacking = []
        for role_arn, entry in roles.items():
            verdict, _ = policy.evaluate(
                [],
                "kms:Decrypt",
                key_arn,
                resource_policy=key_policy,
                principal_arn=role_arn,
                account=_account(role_arn),
            )
            if verdict != "allowed":
                lacking.append(entry["role"]["RoleName"])
        evidence["key_policy_denies"] = lacking
    label = " (weaker: from reading policies)" if weaker else ""
    if denied:
        total = len(ctx.ev.instances())
        return fail(
            f"{count_phrase(len(ids), total)}: role {denied[0]} may not kms:Decrypt with "
            f"{key_arn}{label}",
            evidence=evidence,
            instances=sorted(ids),
            fix=Fix(
                f"Allow kms:Decrypt on {key_arn} for {denied[0]} (and in the key policy).",
                [
                    f"aws iam put-role-policy --role-name {denied[0]} --policy-name "
                    "codedeploy-wizard-kms "
                    f'--policy-document \'{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow",'
                    f'"Action":"kms:Decrypt","Resource":"{key_arn}"}}]}}\''
                ],
            ),
        )
    return passed(f"every instance role may kms:Decrypt with {key_arn}{label}", evidence=evidence)
