"""Every name the wizard derives from the project: one home, beside the project file model.

The setup steps, file generation (`wizard.render`), diagnose's hints and the TUI all call these,
so a role created by `apply` is the role the GitHub workflow assumes, the bucket `files` writes into
`.travis.yml` is the bucket `apply` creates, and a fix names the profile setup made. Only the
standard library: `wizard.config`, `wizard.render` and `checks/` import this without pulling in
boto3 or the setup engine.

Naming rules come from AWS: IAM names are `[\\w+=,.@-]{1,64}` (IAM API reference, CreateRole
`RoleName`), CodeDeploy names at most 100 characters (CreateDeploymentGroup), S3 bucket names
3-63 lower-case letters, digits and hyphens (S3 user guide, "Bucket naming rules").
"""

from __future__ import annotations

import re

# The longest slug leaves room for the longest suffix below within IAM's 64 characters.
_SLUG_MAX = 40
OIDC_HOST = "token.actions.githubusercontent.com"  # GitHub Actions' OIDC issuer


def slug(application: str) -> str:
    """`application` with every character IAM refuses replaced by `-`, at most 40 characters
    ("app" when nothing is left). The base of every IAM name below."""
    return re.sub(r"[^\w+=,.@-]+", "-", application, flags=re.ASCII)[:_SLUG_MAX] or "app"


# Latin letters Unicode does not decompose (NFKD leaves them whole): their usual ASCII spelling
_LETTERS = str.maketrans(
    {
        "ß": "ss", "ẞ": "SS", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ø": "o", "Ø": "O",
        "đ": "d", "Đ": "D", "ð": "d", "Ð": "D", "ł": "l", "Ł": "L", "þ": "th", "Þ": "Th",
        "ı": "i", "ħ": "h", "Ħ": "H", "ŋ": "n", "Ŋ": "N", "ŧ": "t", "Ŧ": "T",
    }
)  # fmt: skip


def application_from_folder(folder: str) -> str:
    """The default application name for a project folder: its name in ASCII, every run of
    other characters one `-`, at most 100 characters ("app" when nothing is left).

    Accented letters keep their base letter (Unicode NFKD, combining marks dropped: `ü` → `u`,
    `é` → `e`), the Latin letters that do not decompose get their usual spelling (`ø` → `o`,
    `ß` → `ss`), so "My App (ü) ünïcødé" becomes "My-App-u-unicode". The result obeys
    `wizard.config.check_application`: a CodeDeploy name (CreateApplication: 1-100 characters)
    that is also a tag value (no ',').
    """
    import unicodedata

    text = unicodedata.normalize("NFKD", folder.translate(_LETTERS))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    name = re.sub(r"[^A-Za-z0-9._+=@-]+", "-", text).strip("-")
    return name[:100].rstrip("-") or "app"


def deployment_group(application: str) -> str:
    """Default deployment group: `<application>-group` (within CodeDeploy's 100 characters)."""
    return f"{application[:94]}-group"


def instance_role(application: str) -> str:
    """Default EC2 instance role: `<slug>-codedeploy-ec2`."""
    return f"{slug(application)}-codedeploy-ec2"


def instance_profile(application: str) -> str:
    """Default instance profile: named like the instance role it holds (as the console does)."""
    return instance_role(application)


def service_role(application: str) -> str:
    """Default CodeDeploy service role: `<slug>-codedeploy-service`."""
    return f"{slug(application)}-codedeploy-service"


def deploy_role(application: str) -> str:
    """The GitHub Actions deploy role (ci.provider github): `<slug>-codedeploy-deploy`."""
    return f"{slug(application)}-codedeploy-deploy"


def ci_user(application: str) -> str:
    """The Travis CI IAM user (ci.provider travis): `<slug>-codedeploy-ci`."""
    return f"{slug(application)}-codedeploy-ci"


def role_arn(name: str, account: str, partition: str = "aws") -> str:
    """`arn:PARTITION:iam::ACCOUNT:role/NAME`."""
    return f"arn:{partition}:iam::{account}:role/{name}"


def deploy_role_arn(application: str, account: str, partition: str = "aws") -> str:
    """ARN of the GitHub Actions deploy role."""
    return role_arn(deploy_role(application), account, partition)


def oidc_provider_arn(account: str, partition: str = "aws") -> str:
    """ARN of the account's GitHub Actions OIDC provider (one per URL in an account)."""
    return f"arn:{partition}:iam::{account}:oidc-provider/{OIDC_HOST}"


def bucket(application: str, account: str, region: str) -> str:
    """Default revision bucket: `<application>-codedeploy-<account>-<region>`, lower-cased, every
    other character a hyphen, cut so that the whole stays within S3's 63 characters."""
    base = re.sub(r"[^a-z0-9-]+", "-", application.lower()).strip("-") or "app"
    suffix = f"-codedeploy-{account}-{region}"
    return (base[: 63 - len(suffix)].rstrip("-") or "app") + suffix


def destination(application: str, os_name: str = "linux") -> str:
    """Default deploy folder on the instances: `/var/www/<slug>` or `C:\\<slug>`."""
    return f"/var/www/{slug(application)}" if os_name == "linux" else f"C:\\{slug(application)}"


# --------------------------------------------------------------------------- fleets that scale
# (instances.auto_scaling, load_balancer): each follows the rule of the API that creates it.
LAUNCH_TEMPLATE_POLICY = "codedeploy-wizard-launch-template"  # inline, on the service role


def launch_template(application: str) -> str:
    """`<application>-codedeploy`; CreateLaunchTemplate: 3-128 of letters, digits and ().-/_."""
    base = re.sub(r"[^A-Za-z0-9().\-/_]+", "-", application).strip("-") or "app"
    return base[:100] + "-codedeploy"


def auto_scaling_group(application: str) -> str:
    """`<application>-asg`; CreateAutoScalingGroup: ASCII 33-126 without ':', 255 at most."""
    return (re.sub(r"[^!-9;-~]+", "-", application) or "app")[:250] + "-asg"


def _elb(application: str, suffix: str) -> str:
    """ELB names: at most 32 letters, digits and hyphens, no hyphen at either end, and a load
    balancer's not starting with `internal-` (CreateLoadBalancer, CreateTargetGroup)."""
    base = re.sub(r"[^A-Za-z0-9]+", "-", application).strip("-") or "app"
    if base.lower().startswith("internal-"):
        base = "app-" + base
    return base[: 32 - len(suffix)].rstrip("-") + suffix


def target_group(application: str) -> str:
    """`<application>-tg` within ELB's 32 characters."""
    return _elb(application, "-tg")


def load_balancer(application: str) -> str:
    """`<application>-alb` within ELB's 32 characters."""
    return _elb(application, "-alb")


def _security_group(application: str, suffix: str) -> str:
    """CreateSecurityGroup: at most 255 characters, not starting with `sg-`."""
    base = "app-" + application if application.lower().startswith("sg-") else application
    return base[:240] + suffix


def alb_security_group(application: str) -> str:
    """The load balancer's security group: `<application>-alb`."""
    return _security_group(application, "-alb")


def instance_security_group(application: str) -> str:
    """The Auto Scaling instances' security group: `<application>-instances`."""
    return _security_group(application, "-instances")
