"""Every IAM document the wizard writes, in one place.

Setup writes these; diagnose may import them to compare what it finds with what setup would have
written. Best practice by default (reference §6): one role per principal, confused-deputy
conditions on the CodeDeploy trust, S3 read scoped to the revision bucket and prefix, CI principals
that may only upload a bundle and start a deployment of this application's group.
"""

from __future__ import annotations

import json
from typing import Any

from wizard import naming

POLICY_VERSION = "2012-10-17"
REVISION_READ_POLICY = "codedeploy-wizard-revision-read"
DEPLOY_POLICY = "codedeploy-wizard-deploy"
GITHUB_OIDC_HOST = naming.OIDC_HOST
GITHUB_OIDC_URL = f"https://{GITHUB_OIDC_HOST}"
GITHUB_AUDIENCE = "sts.amazonaws.com"
# GitHub's published intermediate thumbprints; IAM no longer checks them for this provider, but
# older API versions want a non-empty list.
GITHUB_THUMBPRINTS = (
    "6938fd4d98bab03faadb97b34396831e3780aea1",
    "1c58a3a8518e8759bf075b76b750d4f2df264fcd",
)


def managed_policy_arn(partition: str, name: str) -> str:
    """ARN of an AWS managed policy, e.g. `service-role/AWSCodeDeployRole`."""
    return f"arn:{partition}:iam::aws:policy/{name}"


def codedeploy_role_policy_arn(partition: str) -> str:
    return managed_policy_arn(partition, "service-role/AWSCodeDeployRole")


def ssm_core_policy_arn(partition: str) -> str:
    return managed_policy_arn(partition, "AmazonSSMManagedInstanceCore")


def dns_suffix(partition: str) -> str:
    return "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com"


def ec2_trust() -> dict[str, Any]:
    """Instance role trust: the EC2 service only.

    No aws:SourceAccount condition here: EC2 does not send it when it assumes an instance role,
    and a condition on it would break every instance.
    """
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "ec2.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }


def codedeploy_trust(partition: str, region: str, account: str, application: str) -> dict:
    """Service role trust: CodeDeploy, only for this account's groups of this application."""
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "codedeploy.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": account},
                    "ArnLike": {
                        "aws:SourceArn": (
                            f"arn:{partition}:codedeploy:{region}:{account}:"
                            f"deploymentgroup:{application}/*"
                        )
                    },
                },
            }
        ],
    }


def revision_read_policy(partition: str, region: str, bucket: str, prefix: str) -> dict:
    """Instance role inline policy: read the revisions, and the agent installer for the region."""
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {
                "Sid": "ReadRevisions",
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:GetObjectVersion"],
                "Resource": f"arn:{partition}:s3:::{bucket}/{prefix}*",
            },
            {
                "Sid": "ListRevisions",
                "Effect": "Allow",
                "Action": "s3:ListBucket",
                "Resource": f"arn:{partition}:s3:::{bucket}",
                "Condition": {"StringLike": {"s3:prefix": [f"{prefix}*"]}},
            },
            {
                "Sid": "ReadAgentInstaller",
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": f"arn:{partition}:s3:::aws-codedeploy-{region}/*",
            },
        ],
    }


def github_trust(partition: str, account: str, repository: str, branch: str) -> dict:
    """CI deploy role trust: GitHub Actions OIDC tokens of one repository and branch."""
    provider = naming.oidc_provider_arn(account, partition)
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": provider},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        f"{GITHUB_OIDC_HOST}:aud": GITHUB_AUDIENCE,
                        f"{GITHUB_OIDC_HOST}:sub": f"repo:{repository}:ref:refs/heads/{branch}",
                    }
                },
            }
        ],
    }


def deploy_policy(
    partition: str,
    region: str,
    account: str,
    bucket: str,
    prefix: str,
    application: str,
    group: str,
    *,
    head_bundle: bool = False,
    put_acl: bool = False,
) -> dict:
    """What a CI run needs to deploy, and nothing more.

    `head_bundle`: the CI tool reads the uploaded bundle back before deploying. dpl v2's
    codedeploy provider (Travis) calls HeadObject on the key to pin its version and ETag, and
    HeadObject is authorised by s3:GetObject; without it dpl stops with "Forbidden" before
    CreateDeployment. The GitHub workflow (aws s3 cp + aws deploy create-deployment) does not.
    `put_acl`: the uploader sends a canned ACL header (dpl v2's s3 provider always sends
    `x-amz-acl: private`), which S3 authorises with s3:PutObjectAcl as well. The revision bucket
    has ACLs disabled (bucket owner enforced), so this grants no ACL control: S3 accepts the
    same-account `private` header as a no-op and refuses any other ACL.
    """
    cd = f"arn:{partition}:codedeploy:{region}:{account}"
    bundles = f"arn:{partition}:s3:::{bucket}/{prefix}*"
    put: str | list[str] = ["s3:PutObject", "s3:PutObjectAcl"] if put_acl else "s3:PutObject"
    upload: list[dict[str, Any]] = [
        {"Sid": "UploadBundle", "Effect": "Allow", "Action": put, "Resource": bundles}
    ]
    if head_bundle:
        upload.append(
            {
                "Sid": "ReadBackBundle",
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": bundles,
            }
        )
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            *upload,
            {
                "Sid": "RegisterRevision",
                "Effect": "Allow",
                "Action": [
                    "codedeploy:RegisterApplicationRevision",
                    "codedeploy:GetApplicationRevision",
                ],
                "Resource": f"{cd}:application:{application}",
            },
            {
                "Sid": "Deploy",
                "Effect": "Allow",
                "Action": ["codedeploy:CreateDeployment", "codedeploy:GetDeployment"],
                "Resource": f"{cd}:deploymentgroup:{application}/{group}",
            },
            {
                "Sid": "ReadDeploymentConfig",
                "Effect": "Allow",
                "Action": "codedeploy:GetDeploymentConfig",
                "Resource": f"{cd}:deploymentconfig:*",
            },
        ],
    }


# --------------------------------------------------------------------------- comparing
def normalise(doc: Any) -> Any:
    """A canonical form of a policy document, so equal policies compare equal.

    IAM may return a document as URL-encoded JSON text, collapse one-element lists into strings,
    and reorder keys; none of that changes its meaning.
    """
    if isinstance(doc, str):
        from urllib.parse import unquote

        text = doc.strip()
        if text.startswith("%7B") or text.startswith("%7b"):
            text = unquote(text)
        if text.startswith("{"):
            try:
                return normalise(json.loads(text))
            except ValueError:
                return doc
        return doc
    if isinstance(doc, dict):
        return {k: normalise(v) for k, v in sorted(doc.items()) if k != "Sid"}
    if isinstance(doc, list):
        items = [normalise(v) for v in doc]
        if len(items) == 1 and not isinstance(items[0], dict):
            return items[0]
        try:
            return sorted(items, key=lambda v: json.dumps(v, sort_keys=True))
        except TypeError:  # pragma: no cover - defensive
            return items
    return doc


def same_policy(a: Any, b: Any) -> bool:
    return normalise(a) == normalise(b)


def dumps(doc: dict) -> str:
    return json.dumps(doc, separators=(",", ":"))
