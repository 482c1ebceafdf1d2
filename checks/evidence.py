"""Evidence: every AWS fact diagnose needs, fetched at most once per run and shared by all checks.

Checks run concurrently; the first one to ask for, say, the deployment's failed targets fetches them
(batched at the API limits, fanned out on a small thread pool) while the others wait on the same
entry. Failures are cached too, so a denied call is not repeated. Order of evidence, as the design
asks: the deployment, then configuration, then inside the instances (SSM Run Command), then the
local machine (`--local`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from checks import interpret
from wizard.aws import error_code as error_code  # one definition, re-exported

BATCH_TARGETS = 25  # BatchGetDeploymentTargets limit
BATCH_INSTANCES = 200  # instance-id filter values per DescribeInstances call (EC2 filter limit)
BATCH_SSM_INFO = 50  # DescribeInstanceInformation MaxResults
BATCH_SEND_COMMAND = 50  # SendCommand InstanceIds limit
BATCH_DEPLOYMENTS = 25  # BatchGetDeployments limit
DENIED = {
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "AuthorizationError",
    "UnauthorizedAccess",
}


class Unavailable(Exception):
    """Evidence that could not be gathered: why, and how a person could look by hand."""

    def __init__(self, reason: str, how: str | None = None, *, code: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.how = how
        self.code = code


def chunks(items: list[Any], n: int) -> list[list[Any]]:
    return [items[i : i + n] for i in range(0, len(items), n)]


@dataclass
class _Entry:
    lock: threading.Lock = field(default_factory=threading.Lock)
    done: bool = False
    value: Any = None
    error: BaseException | None = None


@dataclass
class Probe:
    """One bracketed probe's output on one instance."""

    output: str
    rc: int | None


@dataclass
class InstanceLook:
    """What Run Command saw inside one instance (or why it could not look)."""

    instance_id: str
    status: str  # Success | Failed | offline | error | TimedOut ...
    probes: dict[str, Probe] = field(default_factory=dict)
    detail: str = ""

    @property
    def seen(self) -> bool:
        return bool(self.probes)


def parse_probes(stdout: str) -> dict[str, Probe]:
    """Split `@@probe NAME` … `@@rc=N` brackets (the Run Command contract) into probes."""
    out: dict[str, Probe] = {}
    name: str | None = None
    lines: list[str] = []
    for line in (stdout or "").splitlines():
        if line.startswith("@@probe "):
            name, lines = line[len("@@probe ") :].strip(), []
        elif line.startswith("@@rc=") and name is not None:
            try:
                rc: int | None = int(line[len("@@rc=") :].strip())
            except ValueError:
                rc = None
            out[name] = Probe("\n".join(lines).strip(), rc)
            name = None
        elif name is not None:
            lines.append(line)
    return out


class Evidence:
    """Lazily gathered, cached, thread-safe facts about one deployment (or one group, preflight)."""

    def __init__(
        self,
        aws: Any,
        *,
        deployment_id: str | None = None,
        application: str | None = None,
        deployment_group: str | None = None,
        preflight: bool = False,
        local: bool = False,
        workers: int = 16,
        ssm_timeout: float = 90.0,
    ) -> None:
        self.aws = aws
        self.region: str = aws.region
        self._deployment_id = deployment_id
        self._application = application
        self._group_name = deployment_group
        self.preflight = preflight
        self.local = local
        self.ssm_timeout = ssm_timeout
        self._entries: dict[Any, _Entry] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="evidence")

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def forget(self, *prefixes: str) -> None:
        """Drop cached entries (after --fix changed the world) whose key starts with a prefix."""
        with self._lock:
            for key in list(self._entries):
                name = key[0] if isinstance(key, tuple) else key
                if not prefixes or any(str(name).startswith(p) for p in prefixes):
                    del self._entries[key]

    def prime(self, key: Any, value: Any) -> None:
        """Seed the cache with a fact already known (e.g. `wizard deploy` has the deployment)."""
        entry = _Entry(done=True, value=value)
        with self._lock:
            self._entries[key] = entry

    def memo(self, key: Any, fn: Callable[[], Any]) -> Any:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                entry = self._entries[key] = _Entry()
        with entry.lock:
            if not entry.done:
                try:
                    entry.value = fn()
                except Exception as exc:  # cached: a denied call is not repeated
                    entry.error = exc
                entry.done = True
        if entry.error is not None:
            raise entry.error
        return entry.value

    def fan_out(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> list[Any]:
        """Map `fn` over `items` on the evidence pool (order kept); the first error is raised."""
        items = list(items)
        # inline when there is one item, or when already on a pool thread: a pool thread that
        # waits on work queued behind it could deadlock a busy pool
        if len(items) <= 1 or threading.current_thread().name.startswith("evidence"):
            return [fn(i) for i in items]
        return list(self._pool.map(fn, items))

    def client(self, service: str, region: str | None = None) -> Any:
        return self.aws.client(service, region)

    # ------------------------------------------------------------------ 1. the deployment
    def _resolve(self) -> dict[str, Any] | None:
        """Find the deployment (given, or the latest of the group) and its names."""
        cd = self.client("codedeploy")
        if self._deployment_id:
            try:
                info = cd.get_deployment(deploymentId=self._deployment_id)["deploymentInfo"]
            except Exception as exc:
                if error_code(exc) in (
                    "DeploymentDoesNotExistException",
                    "InvalidDeploymentIdException",
                ):
                    raise Unavailable(f"deployment {self._deployment_id} does not exist") from exc
                raise
            self._application = self._application or info.get("applicationName")
            self._group_name = self._group_name or info.get("deploymentGroupName")
            return info
        if self.preflight:
            return None
        if not (self._application and self._group_name):
            raise Unavailable("no deployment id, application or deployment group given")
        try:
            ids = cd.list_deployments(
                applicationName=self._application, deploymentGroupName=self._group_name
            ).get("deployments", [])
        except Exception as exc:
            code = error_code(exc)
            where = f"in {self.aws.region} (run `wizard apply` to create it, or check --region)"
            if getattr(self.aws, "sandbox", False) and getattr(self.aws, "embedded", False):
                # `--sandbox`: this command's own emulator, empty unless a scenario seeded it
                where = (
                    "in this command's sandbox, which starts empty (try --scenario NAME, or "
                    "keep one running with `wizard sandbox` in another terminal)"
                )
            if code == "ApplicationDoesNotExistException":
                what = f"application {self._application!r}"
                raise Unavailable(f"{what} does not exist {where}") from exc
            if code == "DeploymentGroupDoesNotExistException":
                raise Unavailable(
                    f"deployment group {self._group_name!r} of {self._application!r} "
                    f"does not exist {where}"
                ) from exc
            raise
        if not ids:
            return None
        infos = cd.batch_get_deployments(deploymentIds=ids[:BATCH_DEPLOYMENTS]).get(
            "deploymentsInfo", []
        )
        if not infos:
            return None
        infos.sort(key=lambda d: str(d.get("createTime") or ""), reverse=True)
        self._deployment_id = infos[0]["deploymentId"]
        return infos[0]

    def deployment(self) -> dict[str, Any] | None:
        """GetDeployment's deploymentInfo; None in preflight or when the group never deployed."""
        return self.memo("deployment", self._resolve)

    @property
    def deployment_id(self) -> str | None:
        dep = self.deployment()
        return dep.get("deploymentId") if dep else None

    @property
    def application(self) -> str | None:
        self.deployment()
        return self._application

    @property
    def group_name(self) -> str | None:
        self.deployment()
        return self._group_name

    def _list_targets(self, status: str | None) -> list[str]:
        cd = self.client("codedeploy")
        kwargs: dict[str, Any] = {"deploymentId": self.deployment_id}
        if status:
            kwargs["targetFilters"] = {"TargetStatus": [status]}
        ids: list[str] = []
        while True:
            resp = cd.list_deployment_targets(**kwargs)
            ids.extend(resp.get("targetIds", []))
            token = resp.get("nextToken")
            if not token:
                return ids
            kwargs["nextToken"] = token

    def failed_target_ids(self) -> list[str]:
        if not self.deployment():
            return []
        return self.memo("failed-target-ids", lambda: self._list_targets("Failed"))

    def target_ids(self) -> list[str]:
        """Every target of the deployment (instance ids); listed again only if some did not fail."""
        dep = self.deployment()
        if not dep:
            return []

        def load() -> list[str]:
            overview = dep.get("deploymentOverview") or {}
            failed = self.failed_target_ids()
            total = sum(int(v or 0) for v in overview.values())
            if overview and total == overview.get("Failed", 0) == len(failed):
                return failed
            return self._list_targets(None)

        return self.memo("target-ids", load)

    def failed_targets(self) -> list[dict[str, Any]]:
        """BatchGetDeploymentTargets for every failed target, 25 ids a call, concurrently."""

        def load() -> list[dict[str, Any]]:
            ids = self.failed_target_ids()
            cd = self.client("codedeploy")

            def batch(chunk: list[str]) -> list[dict[str, Any]]:
                resp = cd.batch_get_deployment_targets(
                    deploymentId=self.deployment_id, targetIds=chunk
                )
                return resp.get("deploymentTargets", [])

            out: list[dict[str, Any]] = []
            for part in self.fan_out(batch, chunks(ids, BATCH_TARGETS)):
                out.extend(part)
            return out

        if not self.deployment():
            return []
        return self.memo("failed-targets", load)

    def failures(self) -> list[interpret.Failure]:
        """The first failed lifecycle event of every failed target, interpreted."""

        def load() -> list[interpret.Failure]:
            out = []
            for t in self.failed_targets():
                f = interpret.first_failure(t)
                if f is not None:
                    out.append(f)
            return out

        return self.memo("failures", load)

    def active_targets(self) -> list[dict[str, Any]]:
        """BatchGetDeploymentTargets for the targets still InProgress or Pending (a deployment in
        flight: what it waits on). Empty for a finished deployment."""
        dep = self.deployment()
        if not dep or dep.get("status") not in (
            "Created",
            "Queued",
            "InProgress",
            "Baking",
            "Ready",
        ):
            return []

        def load() -> list[dict[str, Any]]:
            ids = self._list_targets("InProgress") + self._list_targets("Pending")
            cd = self.client("codedeploy")

            def batch(chunk: list[str]) -> list[dict[str, Any]]:
                return cd.batch_get_deployment_targets(
                    deploymentId=self.deployment_id, targetIds=chunk
                ).get("deploymentTargets", [])

            out: list[dict[str, Any]] = []
            for part in self.fan_out(batch, chunks(sorted(set(ids)), BATCH_TARGETS)):
                out.extend(part)
            return out

        return self.memo("active-targets", load)

    def waiting(self) -> list[interpret.Waiting]:
        """Where each in-flight target stands (see `interpret.waiting`)."""
        return [w for w in map(interpret.waiting, self.active_targets()) if w is not None]

    def failed_target_map(self) -> dict[str, dict[str, Any]]:
        out = {}
        for t in self.failed_targets():
            inst = t.get("instanceTarget") or {}
            tid = str(inst.get("targetId") or "").rsplit("/", 1)[-1]
            out[tid] = t
        return out

    # ------------------------------------------------------------------ 2. configuration
    def group(self) -> dict[str, Any]:
        """GetDeploymentGroup's deploymentGroupInfo (Unavailable when it does not exist)."""

        def load() -> dict[str, Any]:
            app, name = self.application, self.group_name
            if not (app and name):
                raise Unavailable("no application / deployment group to look at")
            try:
                return self.client("codedeploy").get_deployment_group(
                    applicationName=app, deploymentGroupName=name
                )["deploymentGroupInfo"]
            except Exception as exc:
                code = error_code(exc)
                if code in (
                    "DeploymentGroupDoesNotExistException",
                    "ApplicationDoesNotExistException",
                ):
                    raise Unavailable(
                        f"deployment group {app}/{name} does not exist", code=code
                    ) from exc
                raise

        return self.memo("group", load)

    def deployment_config(self) -> dict[str, Any]:
        def load() -> dict[str, Any]:
            dep = self.deployment()
            name = (dep or {}).get("deploymentConfigName") or self.group().get(
                "deploymentConfigName", "CodeDeployDefault.OneAtATime"
            )
            return self.client("codedeploy").get_deployment_config(deploymentConfigName=name)[
                "deploymentConfigInfo"
            ]

        return self.memo("config", load)

    def role(self, name: str) -> dict[str, Any] | None:
        """GetRole (None when it does not exist)."""

        def load() -> dict[str, Any] | None:
            try:
                return self.client("iam").get_role(RoleName=name)["Role"]
            except Exception as exc:
                if error_code(exc) == "NoSuchEntity":
                    return None
                raise

        return self.memo(("role", name), load)

    def attached_policies(self, role_name: str) -> list[dict[str, str]]:
        def load() -> list[dict[str, str]]:
            pages = self.client("iam").get_paginator("list_attached_role_policies")
            out: list[dict[str, str]] = []
            for page in pages.paginate(RoleName=role_name):
                out.extend(page.get("AttachedPolicies", []))
            return out

        return self.memo(("attached", role_name), load)

    def identity_policies(self, role_name: str) -> list[Any]:
        """Every policy document of a role (inline and attached): the weaker fallback."""

        def load() -> list[Any]:
            iam = self.client("iam")
            docs: list[Any] = []
            for page in iam.get_paginator("list_role_policies").paginate(RoleName=role_name):
                for pname in page.get("PolicyNames", []):
                    docs.append(
                        iam.get_role_policy(RoleName=role_name, PolicyName=pname)["PolicyDocument"]
                    )
            for att in self.attached_policies(role_name):
                pol = iam.get_policy(PolicyArn=att["PolicyArn"])["Policy"]
                ver = iam.get_policy_version(
                    PolicyArn=att["PolicyArn"], VersionId=pol["DefaultVersionId"]
                )
                docs.append(ver["PolicyVersion"]["Document"])
            return docs

        return self.memo(("identity-policies", role_name), load)

    def _tag_filter_sets(self) -> list[list[dict[str, Any]]]:
        g = self.group()
        if g.get("ec2TagSet", {}).get("ec2TagSetList"):
            return [lst for lst in g["ec2TagSet"]["ec2TagSetList"] if lst]
        if g.get("ec2TagFilters"):
            return [g["ec2TagFilters"]]
        return []

    @staticmethod
    def ec2_filter(tf: dict[str, Any]) -> list[dict[str, Any]]:
        ftype = tf.get("Type", "KEY_AND_VALUE")
        if ftype == "KEY_ONLY":
            return [{"Name": "tag-key", "Values": [tf.get("Key", "")]}]
        if ftype == "VALUE_ONLY":
            return [{"Name": "tag-value", "Values": [tf.get("Value", "")]}]
        return [{"Name": f"tag:{tf.get('Key', '')}", "Values": [tf.get("Value", "")]}]

    def _describe(self, filters: list[dict[str, Any]]) -> list[dict[str, Any]]:
        pages = self.client("ec2").get_paginator("describe_instances")
        out = []
        for page in pages.paginate(Filters=filters, PaginationConfig={"PageSize": 1000}):
            for res in page.get("Reservations", []):
                out.extend(res.get("Instances", []))
        return out

    def tagged_instances(self) -> dict[str, Any]:
        """Instances the group's tag filters select, per filter, in any state (one call each)."""

        def load() -> dict[str, Any]:
            sets = self._tag_filter_sets()
            flat = [tf for s in sets for tf in s]
            found = self.fan_out(lambda tf: self._describe(self.ec2_filter(tf)), flat)
            per_filter = {i: res for i, res in enumerate(found)}
            # union within a set, intersection across sets (ec2TagSet semantics)
            selected: dict[str, dict[str, Any]] | None = None
            pos = 0
            for s in sets:
                union: dict[str, dict[str, Any]] = {}
                for _ in s:
                    for inst in per_filter[pos]:
                        union[inst["InstanceId"]] = inst
                    pos += 1
                if selected is None:
                    selected = union
                else:
                    selected = {k: v for k, v in selected.items() if k in union}
            return {"filters": sets, "instances": selected or {}}

        return self.memo("tagged", load)

    def matched_instances(self) -> list[dict[str, Any]]:
        """Running instances the tag filters match (what CodeDeploy would deploy to now)."""
        insts = self.tagged_instances()["instances"].values()
        return [i for i in insts if i.get("State", {}).get("Name") == "running"]

    def asg_instance_ids(self) -> list[str]:
        """InService instances of the group's Auto Scaling groups: CodeDeploy deploys to them
        as well as to the instances its tag filters match ("Integrating CodeDeploy with Amazon
        EC2 Auto Scaling", User Guide). [] when the group has none or they cannot be read."""
        try:
            from checks.asg import describe_asgs

            groups = describe_asgs(self)
        except Exception:  # no group, or Auto Scaling denied: the tag filters still count
            return []
        return sorted(
            i["InstanceId"]
            for g in groups.values()
            if g
            for i in g.get("Instances") or []
            if i.get("LifecycleState") == "InService"
        )

    def fleet_ids(self) -> list[str]:
        """What CodeDeploy would deploy to now: running instances the tag filters match and
        InService instances of the group's Auto Scaling groups."""
        tagged = {i["InstanceId"] for i in self.matched_instances()}
        return sorted(tagged | set(self.asg_instance_ids()))

    def instance_ids(self) -> list[str]:
        """The instances under diagnosis: the deployment's targets, or the fleet's now."""
        if self.deployment():
            return [t for t in self.target_ids() if t.startswith("i-")] or self.target_ids()
        return self.fleet_ids()

    def instances(self) -> dict[str, dict[str, Any]]:
        """DescribeInstances for the instances under diagnosis (reusing the tag-filter results)."""

        def load() -> dict[str, dict[str, Any]]:
            ids = self.instance_ids()
            known: dict[str, dict[str, Any]] = {}
            try:
                known = dict(self.tagged_instances()["instances"])
            except Unavailable:
                pass
            missing = [i for i in ids if i not in known and i.startswith("i-")]
            ec2 = self.client("ec2")

            def describe(chunk: list[str]) -> list[dict[str, Any]]:
                out = []
                pages = ec2.get_paginator("describe_instances")
                filters = [{"Name": "instance-id", "Values": chunk}]
                for page in pages.paginate(Filters=filters):
                    for res in page.get("Reservations", []):
                        out.extend(res.get("Instances", []))
                return out

            for part in self.fan_out(describe, chunks(missing, BATCH_INSTANCES)):
                for inst in part:
                    known[inst["InstanceId"]] = inst
            return {i: known[i] for i in ids if i in known}

        return self.memo("instances", load)

    def pending_associations(self, ids: list[str]) -> dict[str, str]:
        """Profile associations still settling (associating) for instances without a profile."""

        def load() -> dict[str, str]:
            ec2 = self.client("ec2")

            def one(chunk: list[str]) -> list[dict[str, Any]]:
                out = []
                pages = ec2.get_paginator("describe_iam_instance_profile_associations")
                for page in pages.paginate(Filters=[{"Name": "instance-id", "Values": chunk}]):
                    out.extend(page.get("IamInstanceProfileAssociations", []))
                return out

            found: dict[str, str] = {}
            for part in self.fan_out(one, chunks(ids, 200)):
                for a in part:
                    found[a["InstanceId"]] = a.get("State", "")
            return found

        return self.memo(("associations", tuple(ids)), load)

    def instance_profile(self, arn_or_name: str) -> dict[str, Any] | None:
        """GetInstanceProfile (with its roles and their trust policies); None if missing."""
        name = arn_or_name.rsplit("/", 1)[-1]

        def load() -> dict[str, Any] | None:
            try:
                return self.client("iam").get_instance_profile(InstanceProfileName=name)[
                    "InstanceProfile"
                ]
            except Exception as exc:
                if error_code(exc) == "NoSuchEntity":
                    return None
                raise

        return self.memo(("profile", name), load)

    def instance_profiles(self) -> dict[str, dict[str, Any] | None]:
        """Every distinct profile of the instances under diagnosis, fetched once each."""

        def load() -> dict[str, dict[str, Any] | None]:
            arns = sorted(
                {
                    i["IamInstanceProfile"]["Arn"]
                    for i in self.instances().values()
                    if i.get("IamInstanceProfile", {}).get("Arn")
                }
            )
            return dict(zip(arns, self.fan_out(self.instance_profile, arns), strict=False))

        return self.memo("profiles", load)

    def instance_roles(self) -> dict[str, dict[str, Any]]:
        """Role ARN -> role (from the profiles), with the instance ids that use it."""
        out: dict[str, dict[str, Any]] = {}
        profiles = self.instance_profiles()
        for iid, inst in self.instances().items():
            arn = inst.get("IamInstanceProfile", {}).get("Arn")
            prof = profiles.get(arn) if arn else None
            for role in (prof or {}).get("Roles", []):
                entry = out.setdefault(role["Arn"], {"role": role, "instances": []})
                entry["instances"].append(iid)
        return out

    # ------------------------------------------------------------------ the revision
    def revision(self) -> dict[str, Any] | None:
        """The S3 location the deployment named (or, preflight, the group's target revision)."""
        dep = self.deployment()
        rev = (dep or {}).get("revision")
        if rev is None:
            try:
                rev = self.group().get("targetRevision")
            except Unavailable:
                rev = None
        if not rev or rev.get("revisionType") != "S3":
            return None
        return rev.get("s3Location")

    def head_object(self) -> dict[str, Any] | None:
        """HeadObject of the revision (None when there is no S3 revision); Unavailable if absent."""
        loc = self.revision()
        if not loc:
            return None

        def load() -> dict[str, Any]:
            kwargs: dict[str, Any] = {"Bucket": loc["bucket"], "Key": loc["key"]}
            if loc.get("version"):
                kwargs["VersionId"] = loc["version"]
            try:
                return self.client("s3").head_object(**kwargs)
            except Exception as exc:
                code = error_code(exc)
                if code in ("404", "NoSuchKey", "NotFound", "NoSuchVersion", "NoSuchBucket"):
                    raise Unavailable(
                        f"s3://{loc['bucket']}/{loc['key']} does not exist", code="NotFound"
                    ) from exc
                if code in ("403", *DENIED):
                    raise Unavailable(
                        f"HeadObject on s3://{loc['bucket']}/{loc['key']} was denied to you",
                        f"aws s3api head-object --bucket {loc['bucket']} --key {loc['key']}",
                        code="AccessDenied",
                    ) from exc
                raise

        return self.memo("head", load)

    def bucket_region(self) -> str | None:
        loc = self.revision()
        if not loc:
            return None

        def load() -> str:
            try:
                resp = self.client("s3").get_bucket_location(Bucket=loc["bucket"])
            except Exception as exc:
                code = error_code(exc)
                if code == "NoSuchBucket":
                    raise Unavailable(f"bucket {loc['bucket']} does not exist", code=code) from exc
                if code in DENIED:
                    raise Unavailable(
                        f"GetBucketLocation on {loc['bucket']} was denied to you",
                        f"aws s3api get-bucket-location --bucket {loc['bucket']}",
                        code=code,
                    ) from exc
                raise
            return resp.get("LocationConstraint") or "us-east-1"

        return self.memo("bucket-region", load)

    def bucket_policy(self) -> str | None:
        loc = self.revision()
        if not loc:
            return None

        def load() -> str | None:
            try:
                return self.client("s3").get_bucket_policy(Bucket=loc["bucket"])["Policy"]
            except Exception as exc:
                code = error_code(exc)
                if code in ("NoSuchBucketPolicy", "NoSuchBucket"):
                    return None
                if code in DENIED:
                    raise Unavailable(
                        "GetBucketPolicy was denied to you",
                        f"aws s3api get-bucket-policy --bucket {loc['bucket']}",
                        code=code,
                    ) from exc
                raise

        return self.memo("bucket-policy", load)

    def bundle_bytes(self, limit: int = 64 * 1024 * 1024) -> bytes:
        """The revision itself (for the appspec), at most `limit` bytes."""
        loc = self.revision()
        if not loc:
            raise Unavailable("the deployment has no S3 revision")
        return self.bundle_at(loc, limit, head=self.head_object)

    def bundle_at(
        self,
        loc: dict[str, Any],
        limit: int = 64 * 1024 * 1024,
        head: Callable[[], Any] | None = None,
    ) -> bytes:
        """The bytes of any S3 revision (`s3Location` shape), at most `limit`; Unavailable when
        it is too large, gone, or denied to the caller."""
        key = ("bundle-at", loc.get("bucket"), loc.get("key"), loc.get("version"))

        def load() -> bytes:
            kwargs: dict[str, Any] = {"Bucket": loc["bucket"], "Key": loc["key"]}
            if loc.get("version"):
                kwargs["VersionId"] = loc["version"]
            s3 = self.client("s3")
            try:
                meta = head() if head else s3.head_object(**kwargs)
            except Unavailable:
                raise
            except Exception as exc:
                code = error_code(exc)
                if code in ("404", "NoSuchKey", "NotFound", "NoSuchVersion", "NoSuchBucket"):
                    raise Unavailable(
                        f"s3://{loc['bucket']}/{loc['key']} does not exist (any more)",
                        code="NotFound",
                    ) from exc
                raise
            if int((meta or {}).get("ContentLength") or 0) > limit:
                raise Unavailable(
                    f"the bundle is larger than {limit // (1024 * 1024)} MiB; not downloaded",
                    f"aws s3 cp s3://{loc['bucket']}/{loc['key']} . && unzip -l "
                    f"{loc['key'].rsplit('/', 1)[-1]}",
                )
            try:
                return s3.get_object(**kwargs)["Body"].read()
            except Exception as exc:
                if error_code(exc) in ("403", *DENIED):
                    raise Unavailable(
                        f"GetObject on s3://{loc['bucket']}/{loc['key']} was denied to you",
                        f"aws s3 cp s3://{loc['bucket']}/{loc['key']} .",
                        code="AccessDenied",
                    ) from exc
                raise

        return self.memo(key, load)

    def appspec(self) -> dict[str, Any]:
        """What the bundle holds (see `checks.bundlefile.inspect`); Unavailable if not readable."""
        from checks import bundlefile

        def load() -> dict[str, Any]:
            return bundlefile.inspect(
                self.bundle_bytes(), (self.revision() or {}).get("bundleType")
            )

        return self.memo("appspec", load)

    def appspec_at(self, loc: dict[str, Any]) -> dict[str, Any]:
        """`bundlefile.inspect` of any S3 revision (the previous one, say)."""
        from checks import bundlefile

        key = ("appspec-at", loc.get("bucket"), loc.get("key"), loc.get("version"))
        return self.memo(
            key, lambda: bundlefile.inspect(self.bundle_at(loc), loc.get("bundleType"))
        )

    def deployment_info(self, deployment_id: str) -> dict[str, Any] | None:
        """GetDeployment of any deployment (None when it does not exist)."""

        def load() -> dict[str, Any] | None:
            try:
                return self.client("codedeploy").get_deployment(deploymentId=deployment_id)[
                    "deploymentInfo"
                ]
            except Exception as exc:
                if error_code(exc) in (
                    "DeploymentDoesNotExistException",
                    "InvalidDeploymentIdException",
                ):
                    return None
                raise

        return self.memo(("deployment-info", deployment_id), load)

    def previous_deployment(self, message: str = "") -> dict[str, Any] | None:
        """The last successful deployment before this one, whose ApplicationStop (and block-
        traffic) scripts the agent runs (hook_executor.rb: LastSuccessfulOrIgnore).

        The agent names its archive in a ScriptMissing message
        (`deployment-root/DG_ID/d-XXXXXXXXX/deployment-archive/…`), which is exactly the
        instance's last successful install; otherwise the group's lastSuccessfulDeployment
        (GetDeploymentGroup), else the newest Succeeded deployment created before this one.
        """
        import re

        m = re.search(r"deployment-root/[^/\s]+/([^/\s]+)/deployment-archive", message or "")
        current = self.deployment_id
        if m and m.group(1) != current:
            info = self.deployment_info(m.group(1))
            if info:
                return {**info, "_found_by": "the agent's archive path in the message"}

        def load() -> dict[str, Any] | None:
            try:
                last = (self.group().get("lastSuccessfulDeployment") or {}).get("deploymentId")
            except Unavailable:
                last = None
            if last and last != current:
                info = self.deployment_info(last)
                if info:
                    return {**info, "_found_by": "the group's lastSuccessfulDeployment"}
            cd = self.client("codedeploy")
            ids = cd.list_deployments(
                applicationName=self.application,
                deploymentGroupName=self.group_name,
                includeOnlyStatuses=["Succeeded"],
            ).get("deployments", [])
            ids = [i for i in ids if i != current][:BATCH_DEPLOYMENTS]
            if not ids:
                return None
            infos = cd.batch_get_deployments(deploymentIds=ids).get("deploymentsInfo", [])
            mine = str((self.deployment() or {}).get("createTime") or "")
            infos = [i for i in infos if not mine or str(i.get("createTime") or "") < mine]
            if not infos:
                return None
            infos.sort(key=lambda d: str(d.get("createTime") or ""), reverse=True)
            return {**infos[0], "_found_by": "the newest Succeeded deployment before this one"}

        return self.memo("previous-deployment", load)

    def simulate(
        self,
        role_arn: str,
        actions: list[str],
        resources: list[str],
        resource_policy: str | None = None,
    ) -> dict[str, Any]:
        """SimulatePrincipalPolicy: {action: decision}; Unavailable('denied') when we may not."""

        def load() -> dict[str, Any]:
            kwargs: dict[str, Any] = {
                "PolicySourceArn": role_arn,
                "ActionNames": actions,
                "ResourceArns": resources,
            }
            if resource_policy:
                kwargs["ResourcePolicy"] = resource_policy
            try:
                resp = self.client("iam").simulate_principal_policy(**kwargs)
            except NotImplementedError as exc:
                raise Unavailable("SimulatePrincipalPolicy is not available here") from exc
            except Exception as exc:
                code = error_code(exc)
                if code in DENIED:
                    raise Unavailable(
                        "you may not call iam:SimulatePrincipalPolicy",
                        f"aws iam simulate-principal-policy --policy-source-arn {role_arn} "
                        f"--action-names {' '.join(actions)} --resource-arns {' '.join(resources)}",
                        code="AccessDenied",
                    ) from exc
                if code in ("InvalidInput", "InvalidInputException") and resource_policy:
                    # AWS wants an IAM *user* as CallerArn to evaluate a resource policy for a
                    # role; the caller then simulates identity policies only
                    raise Unavailable(str(exc), code="InvalidInput") from exc
                if code in ("NotImplemented", "InternalFailure", "InternalError", "500") or (
                    "not" in str(exc).lower() and "implemented" in str(exc).lower()
                ):
                    raise Unavailable("SimulatePrincipalPolicy is not available here") from exc
                raise
            out: dict[str, Any] = {}
            for r in resp.get("EvaluationResults", []):
                out[r["EvalActionName"]] = r.get("EvalDecision")
            return out

        return self.memo(
            ("simulate", role_arn, tuple(actions), tuple(resources), resource_policy), load
        )

    # ------------------------------------------------------------------ 3. inside the instances
    def ssm_status(self) -> dict[str, str]:
        """PingStatus of every instance under diagnosis that SSM knows ('' when unknown)."""
        info = self.ssm_info()
        ids = [i for i in self.instance_ids() if i.startswith("i-")]
        return {i: (info.get(i) or {}).get("PingStatus", "") for i in ids}

    def ssm_info(self) -> dict[str, dict[str, Any]]:
        """DescribeInstanceInformation of every instance under diagnosis that SSM knows:
        PingStatus, PlatformName/PlatformVersion (the OS, as the SSM agent reports it)."""

        def load() -> dict[str, dict[str, Any]]:
            ids = [i for i in self.instance_ids() if i.startswith("i-")]
            ssm = self.client("ssm")

            def one(chunk: list[str]) -> list[dict[str, Any]]:
                out = []
                kwargs: dict[str, Any] = {
                    "Filters": [{"Key": "InstanceIds", "Values": chunk}],
                    "MaxResults": BATCH_SSM_INFO,
                }
                while True:
                    resp = ssm.describe_instance_information(**kwargs)
                    out.extend(resp.get("InstanceInformationList", []))
                    if not resp.get("NextToken"):
                        return out
                    kwargs["NextToken"] = resp["NextToken"]

            try:
                parts = self.fan_out(one, chunks(ids, BATCH_SSM_INFO))
            except Exception as exc:
                if error_code(exc) in DENIED:
                    raise Unavailable(
                        "you may not call ssm:DescribeInstanceInformation",
                        "aws ssm describe-instance-information",
                        code="AccessDenied",
                    ) from exc
                raise
            return {i["InstanceId"]: i for p in parts for i in p}

        return self.memo("ssm", load)

    def user_data(self, instance_id: str) -> str | None:
        """The instance's user data (DescribeInstanceAttribute userData), decoded; None when
        there is none or it may not be read. It shows whether and how the agent is installed."""

        def load() -> str | None:
            import base64

            try:
                resp = self.client("ec2").describe_instance_attribute(
                    InstanceId=instance_id, Attribute="userData"
                )
            except Exception:  # denied or unsupported: not evidence either way
                return None
            raw = (resp.get("UserData") or {}).get("Value")
            if not raw:
                return ""
            try:
                data = base64.b64decode(raw)
            except ValueError:
                return None
            if data[:2] == b"\x1f\x8b":  # gzip'd user data (cloud-init accepts it)
                import gzip

                try:
                    data = gzip.decompress(data)
                except OSError:
                    return None
            return data.decode("utf-8", "replace")

        return self.memo(("user-data", instance_id), load)

    def images(self) -> dict[str, dict[str, Any]]:
        """DescribeImages of the instances' AMIs (one call): Name, Description, PlatformDetails.
        An AMI that is deregistered or private to another account is simply absent."""

        def load() -> dict[str, dict[str, Any]]:
            ids = sorted({i.get("ImageId") for i in self.instances().values() if i.get("ImageId")})
            if not ids:
                return {}
            try:
                resp = self.client("ec2").describe_images(ImageIds=ids[:200])
            except Exception:  # one unknown id fails the call: ask one by one
                out = {}
                for image_id in ids[:20]:
                    try:
                        got = self.client("ec2").describe_images(ImageIds=[image_id])
                    except Exception:
                        continue
                    for img in got.get("Images", []):
                        out[img["ImageId"]] = img
                return out
            return {img["ImageId"]: img for img in resp.get("Images", [])}

        return self.memo("images", load)

    def look_inside(self, ids: list[str], script: list[str]) -> dict[str, InstanceLook]:
        """Run `script` (bracketed probes) on `ids` with Run Command; cached per (ids, script).

        Offline instances are reported as such without a call. SendCommand takes 50 instances per
        call; invocations are read back with ListCommandInvocations(Details=True), 50 per page.
        """
        key = ("look", tuple(ids), tuple(script))

        def load() -> dict[str, InstanceLook]:
            status = self.ssm_status()
            online = [i for i in ids if status.get(i) == "Online"]
            out: dict[str, InstanceLook] = {
                i: InstanceLook(i, "offline", detail=f"SSM PingStatus {status.get(i) or 'unknown'}")
                for i in ids
                if i not in online
            }
            if not online:
                return out
            ssm = self.client("ssm")

            def send(chunk: list[str]) -> tuple[str, list[str]]:
                resp = ssm.send_command(
                    InstanceIds=chunk,
                    DocumentName="AWS-RunShellScript",
                    Parameters={"commands": script, "executionTimeout": ["60"]},
                    Comment="codedeploy-wizard diagnose (read-only probes)",
                    TimeoutSeconds=60,
                )
                return resp["Command"]["CommandId"], chunk

            try:
                commands = self.fan_out(send, chunks(online, BATCH_SEND_COMMAND))
            except Exception as exc:
                reason = (
                    "you may not call ssm:SendCommand"
                    if error_code(exc) in DENIED
                    else f"SendCommand failed: {exc}"
                )
                for i in online:
                    out[i] = InstanceLook(i, "error", detail=reason)
                return out
            done = self.fan_out(lambda c: self._collect(*c), commands)
            for part in done:
                out.update(part)
            return out

        return self.memo(key, load)

    _TERMINAL = {"Success", "Failed", "TimedOut", "Cancelled", "Undeliverable", "Terminated"}

    def _collect(self, command_id: str, ids: list[str]) -> dict[str, InstanceLook]:
        ssm = self.client("ssm")
        deadline = time.monotonic() + self.ssm_timeout
        delay = 0.02 if getattr(self.aws, "sandbox", False) else 1.0
        time.sleep(delay)
        seen: dict[str, InstanceLook] = {}
        while True:
            kwargs: dict[str, Any] = {"CommandId": command_id, "Details": True, "MaxResults": 50}
            invocations: list[dict[str, Any]] = []
            while True:
                resp = ssm.list_command_invocations(**kwargs)
                invocations.extend(resp.get("CommandInvocations", []))
                if not resp.get("NextToken"):
                    break
                kwargs["NextToken"] = resp["NextToken"]
            for inv in invocations:
                iid = inv.get("InstanceId")
                st = inv.get("Status", "")
                if iid in ids and st in self._TERMINAL and iid not in seen:
                    plugins = inv.get("CommandPlugins") or [{}]
                    stdout = "\n".join(p.get("Output", "") or "" for p in plugins)
                    seen[iid] = InstanceLook(iid, st, parse_probes(stdout))
            if len(seen) == len(ids) or time.monotonic() > deadline:
                break
            time.sleep(delay)
            delay = min(delay * 2, 3.0)
        for iid in ids:
            seen.setdefault(iid, InstanceLook(iid, "TimedOut", detail="no answer from Run Command"))
        return seen
