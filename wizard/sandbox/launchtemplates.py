"""Launch templates as EC2 applies them: the instance profile and metadata options too.

moto launches an instance from a launch template with the template's AMI, instance type, user
data and tags, but drops its `IamInstanceProfile` and `MetadataOptions`; an Auto Scaling group
always launches the template's default version; and CreateLaunchTemplateVersion ignores
`SourceVersion` and stores `UserData` undecoded (which breaks the next launch). On AWS the
instance gets everything the version names (Amazon EC2 User Guide, "Launch an instance from a
launch template"; EC2 API Reference, `RequestLaunchTemplateData`); an Auto Scaling group launches
the version it was given (`$Latest`, `$Default` or a number; Amazon EC2 Auto Scaling User Guide,
"Launch templates"); a new version starts from `SourceVersion` with the given data overriding it
(EC2 API Reference, `CreateLaunchTemplateVersion`). Both matter here: without the profile the
CodeDeploy agent has no credentials, and IMDSv2 (`HttpTokens: required`) decides which agent
versions can work.
"""

from __future__ import annotations

import contextvars
from typing import Any

# the launch template version an Auto Scaling group is launching right now
_ASG_VERSION: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "sandbox_asg_version", default=None
)


def launching_version(version: str | None) -> contextvars.Token:
    """Make the next launches from a template use `version` (reset with `done(token)`)."""
    return _ASG_VERSION.set(version)


def done(token: contextvars.Token) -> None:
    _ASG_VERSION.reset(token)


def install() -> None:
    """Patch moto's EC2 instance backend (idempotent)."""
    from moto.ec2.models import instances as m
    from moto.ec2.models.instances import MetadataOptions

    backend_cls = m.InstanceBackend
    if getattr(backend_cls, "_sandbox_templates", False):
        return
    original_get = backend_cls._get_template_from_args
    original_run = backend_cls.run_instances

    def _get_template_from_args(self: Any, launch_template_arg: dict[str, Any]) -> Any:
        version = _ASG_VERSION.get()
        if version and "Version" not in launch_template_arg:
            launch_template_arg = {**launch_template_arg, "Version": version}
        return original_get(self, launch_template_arg)

    def run_instances(
        self: Any,
        image_id: str,
        count: int,
        user_data: str | None,
        security_group_names: list[str],
        **kwargs: Any,
    ) -> Any:
        from wizard.sandbox import clock

        # the sandbox's one lock: deployments iterate the instances this adds to
        with clock.LOCK:
            reservation = original_run(
                self, image_id, count, user_data, security_group_names, **kwargs
            )
        spec = kwargs.get("launch_template")
        if not spec:
            return reservation
        data = self._get_template_from_args(spec).data or {}
        profile = data.get("IamInstanceProfile") or {}
        options = data.get("MetadataOptions") or {}
        for instance in reservation.instances:
            if profile and not kwargs.get("iam_instance_profile"):
                self.associate_iam_instance_profile(
                    instance_id=instance.id,
                    iam_instance_profile_name=profile.get("Name"),
                    iam_instance_profile_arn=profile.get("Arn"),
                )
            if options and not kwargs.get("metadata_options"):
                instance.metadata_options = MetadataOptions(
                    {k: v for k, v in options.items() if v is not None}
                )
        return reservation

    def create_launch_template_version(self: Any) -> Any:
        import copy

        from moto.core.responses import ActionResult
        from moto.ec2.utils import parse_user_data

        name = self._get_param("LaunchTemplateName")
        tmpl_id = self._get_param("LaunchTemplateId")
        template = (
            self.ec2_backend.get_launch_template(tmpl_id)
            if tmpl_id
            else self.ec2_backend.get_launch_template_by_name(name)
        )
        data = dict(self._get_param("LaunchTemplateData", {}) or {})
        if "UserData" in data:
            data["UserData"] = parse_user_data(self._get_param("LaunchTemplateData.UserData"))
        source = self._get_param("SourceVersion")
        if source:
            base = copy.deepcopy(template.get_version(source).data or {})
            base.update(data)
            data = base
        self.error_on_dryrun()
        version = template.create_version(data, self._get_param("VersionDescription"))
        return ActionResult(
            {
                "LaunchTemplateVersion": {
                    "CreateTime": version.create_time,
                    "CreatedBy": f"arn:{self.partition}:iam::{self.current_account}:root",
                    "DefaultVersion": template.is_default(version),
                    "LaunchTemplateData": version.data,
                    "LaunchTemplateId": template.id,
                    "LaunchTemplateName": template.name,
                    "VersionDescription": version.description,
                    "VersionNumber": version.number,
                }
            }
        )

    from moto.ec2.responses.launch_templates import LaunchTemplates

    LaunchTemplates.create_launch_template_version = create_launch_template_version
    backend_cls._get_template_from_args = _get_template_from_args
    backend_cls.run_instances = run_instances
    backend_cls._sandbox_templates = True
