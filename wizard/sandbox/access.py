"""`wizard sandbox --enforce-iam`: every request is authenticated and authorised as AWS would.

moto's access-control mode (its `INITIAL_NO_AUTH_ACTION_COUNT` setting) checks signatures and
identity policies, but it evaluates every action against the resource `*`, treats an Allow whose
condition does not hold as a Deny, answers JSON-protocol services (CodeDeploy, SSM) with XML
errors, and knows nothing of `iam:PassRole`. Here moto still resolves the access key and checks
the signature (`IAMRequest`); the decision is `iam_sim.evaluate` — identity policies of the
caller (user, its groups, or assumed role), the S3 bucket policy for S3 — on the resource the
action really touches (the Service Authorization Reference's resource types), and the errors are
the service's own:

- CodeDeploy / SSM: `AccessDeniedException`; IAM / STS: `AccessDenied`; EC2:
  `UnauthorizedOperation`; S3: `AccessDenied`, each worded "User: ARN is not authorized to
  perform: ACTION on resource: RESOURCE because no identity-based policy allows the ACTION
  action" (or "with an explicit deny in an identity-based policy").
- CreateDeploymentGroup / UpdateDeploymentGroup with a service role, and RunInstances /
  AssociateIamInstanceProfile with an instance profile, also need `iam:PassRole` on that role.

The server starts with one administrator, `sandbox-admin` (AdministratorAccess), whose access
key `wizard sandbox --enforce-iam` prints; `sts:GetCallerIdentity` is always allowed, as on AWS.
"""

from __future__ import annotations

from typing import Any

from wizard.sandbox import iam_sim
from wizard.sandbox.awserror import AwsError

ADMIN = "sandbox-admin"
_enabled = False
_installed = False
JSON_SERVICES = {"codedeploy", "ssm", "elasticloadbalancing", "logs", "kms"}
# S3 API operations whose IAM action has another name (Service Authorization Reference, S3)
S3_ACTIONS = {
    "s3:HeadObject": "s3:GetObject",
    "s3:GetObjectAttributes": "s3:GetObject",
    "s3:HeadBucket": "s3:ListBucket",
    "s3:ListObjects": "s3:ListBucket",
    "s3:ListObjectsV2": "s3:ListBucket",
    "s3:ListObjectVersions": "s3:ListBucketVersions",
    "s3:ListBuckets": "s3:ListAllMyBuckets",
    "s3:DeleteObjects": "s3:DeleteObject",
    "s3:CopyObject": "s3:PutObject",
    "s3:CreateMultipartUpload": "s3:PutObject",
    "s3:UploadPart": "s3:PutObject",
    "s3:CompleteMultipartUpload": "s3:PutObject",
    "s3:AbortMultipartUpload": "s3:AbortMultipartUpload",
}


def enabled() -> bool:
    return _enabled


def enable(account: str) -> tuple[str, str]:
    """Turn enforcement on for this process; (access key id, secret) of the administrator."""
    global _enabled
    install()
    backend = iam_sim.iam_backend(account)
    try:
        backend.get_user(ADMIN)
    except Exception:
        backend.create_user(None, ADMIN, "/", None)
        backend.attach_user_policy("arn:aws:iam::aws:policy/AdministratorAccess", ADMIN)
    user = backend.get_user(ADMIN)
    key = user.access_keys[0] if user.access_keys else backend.create_access_key(ADMIN)
    _enabled = True
    return key.access_key_id, key.secret_access_key


def disable() -> None:
    global _enabled
    _enabled = False


def install() -> None:
    """Wrap moto's request dispatch with the check (idempotent; inert until `enable`)."""
    global _installed
    if _installed:
        return
    from moto.core.authorization import ActionAuthenticatorMixin
    from moto.core.responses import ActionResult, BaseResponse
    from werkzeug.exceptions import HTTPException

    original_call = BaseResponse.call_action
    original_s3 = ActionAuthenticatorMixin._authenticate_and_authorize_s3_action

    def call_action(self: Any) -> Any:
        if _enabled and getattr(self, "service_name", "") != "s3":
            try:
                authorize(self)
            except AwsError as exc:
                status, headers, body = self.serialized(ActionResult(exc))
                headers["status"] = status
                return status, headers, body
            except HTTPException as exc:  # moto's own XML errors, for the query services
                response = exc.description, {"status": exc.code}
                status, headers, body = self._transform_response(self.response_headers, response)
                headers, body = self._enrich_response(headers, body)
                return status, headers, body
        return original_call(self)

    def s3_action(self: Any, bucket_name: str | None = None, key_name: str | None = None) -> None:
        if not _enabled:
            return original_s3(self, bucket_name=bucket_name, key_name=key_name)
        authorize_s3(self, bucket_name, key_name)
        return None

    from moto.iam.access_control import PermissionResult
    from moto.s3.models import FakeBucket

    original_permission = FakeBucket.get_permission

    def get_permission(self: Any, action: str, resource: str) -> Any:
        # moto denies everyone when a bucket policy denies anyone; enforcement evaluates the
        # bucket policy with its Principal instead (authorize_s3)
        if _enabled:
            return PermissionResult.NEUTRAL
        return original_permission(self, action, resource)

    BaseResponse.call_action = call_action
    ActionAuthenticatorMixin._authenticate_and_authorize_s3_action = s3_action
    FakeBucket.get_permission = get_permission
    _installed = True


def _caller(self: Any, request_cls: Any) -> Any:
    """moto's view of the request: resolves the access key and checks the signature."""
    from urllib.parse import urlparse

    headers = self.headers
    if "Authorization" not in headers:
        raise AwsError("MissingAuthenticationTokenException", "Missing Authentication Token")
    path = self.raw_path
    query = urlparse(self.uri).query
    if query:
        path += "?" + query
    request = request_cls(
        account_id=self.current_account,
        method=self.method,
        path=path,
        data=self.data,
        body=self.raw_body,
        headers=headers,
        action=self._get_action(),
    )
    request.check_signature()
    return request


def _json_errors(service: str, exc: Exception) -> AwsError:
    """moto's XML auth errors, as a JSON-protocol service words them."""
    code = getattr(exc, "error_type", "") or type(exc).__name__
    if "Signature" in code:
        return AwsError(
            "InvalidSignatureException",
            "The request signature we calculated does not match the signature you provided.",
        )
    return AwsError(
        "UnrecognizedClientException", "The security token included in the request is invalid."
    )


def authorize(self: Any) -> None:
    """Authenticate and authorise one non-S3 request (raises AwsError as the service would)."""
    from moto.iam.access_control import IAMRequest
    from werkzeug.exceptions import HTTPException

    service = getattr(self, "service_name", "") or ""
    try:
        request = _caller(self, IAMRequest)
    except HTTPException as exc:
        if service in JSON_SERVICES:
            raise _json_errors(service, exc) from None
        raise
    action = request._action
    if action == "sts:GetCallerIdentity":
        return
    account = self.current_account
    region = getattr(self, "region", "us-east-1")
    for needed, resource in needs(service, action, self, account, region):
        decide(request, needed, resource, account, service)


def authorize_s3(self: Any, bucket: str | None, key: str | None) -> None:
    from moto.iam.access_control import S3IAMRequest

    request = _caller(self, S3IAMRequest)
    arn = f"{bucket or '*'}/{key}" if key else (bucket or "*")
    resource = f"arn:aws:s3:::{arn}"
    policy = None
    if bucket:
        try:
            from moto.s3.models import s3_backends

            found = s3_backends[self.current_account]["aws"].buckets.get(bucket)
            policy = found.policy if found is not None else None
        except Exception:
            policy = None
    action = S3_ACTIONS.get(request._action, request._action)
    decide(request, action, resource, self.current_account, "s3", policy)
    if key and action == "s3:GetObject" and bucket:
        # a missing key is 404 only to a caller who may list the bucket; to anyone else it is
        # 403 (S3 User Guide, "Amazon S3 error responses": "If you don't have the
        # s3:ListBucket permission, Amazon S3 returns an HTTP status code 403")
        try:
            from moto.s3.models import s3_backends

            exists = s3_backends[self.current_account]["aws"].get_object(bucket, key) is not None
        except Exception:
            exists = False
        if not exists:
            decide(
                request,
                "s3:ListBucket",
                f"arn:aws:s3:::{bucket}",
                self.current_account,
                "s3",
                policy,
            )


def decide(
    request: Any,
    action: str,
    resource: str,
    account: str,
    service: str,
    resource_policy: Any = None,
) -> None:
    """Raise the service's AccessDenied unless the caller's policies allow `action`."""
    key = request._access_key
    arn = key.arn
    if ":assumed-role/" in arn:
        role = arn.split("/")[1]
        source_arn = f"arn:aws:iam::{account}:role/{role}"
        kind = "AssumedRole"
    else:
        source_arn = arn
        kind = "User"
    sources, boundary, who = iam_sim.principal_policies(account, source_arn)
    context = {
        "aws:principalarn": [source_arn],
        "aws:principalaccount": [account],
        "aws:principaltype": [kind],
        "aws:securetransport": ["true"],  # clients reach AWS over TLS
    }
    if kind == "User":
        context["aws:username"] = [source_arn.rsplit("/", 1)[-1]]
    rp = None
    if resource_policy:
        if isinstance(resource_policy, bytes):
            resource_policy = resource_policy.decode()
        rp = iam_sim.PolicySource(
            "ResourcePolicy", "resource", iam_sim.load_document(resource_policy), True
        )
    decision = iam_sim.evaluate(
        action,
        resource,
        sources,
        resource_policy=rp,
        principal=who,
        context=context,
        boundary=boundary,
    )
    if decision.decision == iam_sim.ALLOWED:
        return
    why = (
        "with an explicit deny in an identity-based policy"
        if decision.decision == iam_sim.EXPLICIT_DENY
        else f"because no identity-based policy allows the {action} action"
    )
    message = f"User: {arn} is not authorized to perform: {action} on resource: {resource} {why}"
    if service == "s3":  # S3 answers with its own XML error, worded "Access Denied"
        request._raise_access_denied()
    if service in JSON_SERVICES:
        raise AwsError("AccessDeniedException", message)
    if service == "ec2":
        raise AwsError(
            "UnauthorizedOperation", f"You are not authorized to perform this operation. {message}"
        )
    raise AwsError("AccessDenied", message)


def _cd_arn(region: str, account: str, kind: str, name: str) -> str:
    return f"arn:aws:codedeploy:{region}:{account}:{kind}:{name}"


def _deployment_group_of(account: str, region: str, deployment_id: str) -> str | None:
    from moto.codedeploy.models import codedeploy_backends

    try:
        d = codedeploy_backends[account][region].deployments.get(deployment_id)
    except Exception:
        return None
    if d is None:
        return None
    return f"{d.application_name}/{d.deployment_group_name}"


def _role_of_profile(account: str, profile: dict[str, Any] | None) -> str | None:
    if not profile:
        return None
    backend = iam_sim.iam_backend(account)
    try:
        if profile.get("Arn"):
            found = backend.get_instance_profile_by_arn(profile["Arn"])
        else:
            found = backend.get_instance_profile(profile.get("Name"))
    except Exception:
        return None
    return found.roles[0].arn if found.roles else None


def needs(service: str, action: str, req: Any, account: str, region: str) -> list[tuple[str, str]]:
    """(action, resource ARN) pairs one request needs allowed (Service Authorization Reference)."""
    param = req._get_param
    if service == "codedeploy":
        app = param("applicationName")
        group = param("deploymentGroupName") or param("currentDeploymentGroupName")
        config = param("deploymentConfigName")
        out: list[tuple[str, str]] = []
        name = action.split(":", 1)[1]
        if "DeploymentConfig" in name and config:
            out.append((action, _cd_arn(region, account, "deploymentconfig", config)))
        elif app and group:
            out.append((action, _cd_arn(region, account, "deploymentgroup", f"{app}/{group}")))
        elif app:
            out.append((action, _cd_arn(region, account, "application", app)))
        else:
            ids = [param("deploymentId"), *list(param("deploymentIds") or [])]
            groups = {g for i in ids if i for g in [_deployment_group_of(account, region, i)] if g}
            out += [
                (action, _cd_arn(region, account, "deploymentgroup", g)) for g in sorted(groups)
            ]
        if not out:
            out.append((action, "*"))
        role = param("serviceRoleArn")
        if role and name in ("CreateDeploymentGroup", "UpdateDeploymentGroup"):
            out.append(("iam:PassRole", role))
        return out
    if service == "ssm":
        name = action.split(":", 1)[1]
        if name == "SendCommand":
            document = param("DocumentName") or ""
            out = [
                (action, f"arn:aws:ec2:{region}:{account}:instance/{i}")
                for i in param("InstanceIds") or []
            ]
            owner = "" if document.startswith("AWS-") else account
            out.append((action, f"arn:aws:ssm:{region}:{owner}:document/{document}"))
            return out
        if name in ("GetParameter", "GetParameters", "GetParametersByPath"):
            names = [param("Name") or param("Path"), *list(param("Names") or [])]
            out = []
            for n in [n for n in names if n]:
                owner = "" if n.startswith("/aws/") else account
                out.append((action, f"arn:aws:ssm:{region}:{owner}:parameter/{n.lstrip('/')}"))
            return out or [(action, "*")]
        return [(action, "*")]
    if service == "iam":
        for key, kind in (
            ("RoleName", "role"),
            ("InstanceProfileName", "instance-profile"),
            ("UserName", "user"),
            ("GroupName", "group"),
        ):
            value = param(key)
            if value:
                return [(action, f"arn:aws:iam::{account}:{kind}/{value}")]
        policy = param("PolicyArn") or param("OpenIDConnectProviderArn")
        return [(action, policy or "*")]
    if service == "ec2":
        out = [(action, "*")]
        name = action.split(":", 1)[1]
        if name in (
            "RunInstances",
            "AssociateIamInstanceProfile",
            "ReplaceIamInstanceProfileAssociation",
        ):
            role = _role_of_profile(account, param("IamInstanceProfile"))
            if role:
                out.append(("iam:PassRole", role))
        return out
    if service == "sts":
        role = param("RoleArn")
        return [(action, role or "*")]
    return [(action, "*")]
