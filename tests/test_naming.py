"""One home for derived names (`wizard.naming`): the project model, the setup steps, the generated
CI files and diagnose's hints all name the same resources, and file generation does not depend on
the setup engine."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from wizard import config, naming, policies
from wizard.render.files import deploy_role_arn_for, plan_files
from wizard.steps import ci

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("app", ["renderer", "My App!", "x" * 100, "rôle", "a.b_c@d"])
def test_project_defaults_come_from_naming(app: str) -> None:
    safe = app if config.check_codedeploy_name(app) is None else "renderer"
    p = config.from_dict({"application": safe}, check_region_known=False)
    assert p.deployment_group == naming.deployment_group(safe)
    assert p.roles.instance_role == naming.instance_role(safe)
    assert p.roles.service_role == naming.service_role(safe)
    assert p.bundle.destination == naming.destination(safe)
    assert p.bucket_name("123456789012", "eu-west-1") == naming.bucket(
        safe, "123456789012", "eu-west-1"
    )
    # every derived IAM name is one IAM accepts (ASCII word characters only, at most 64)
    for name in (
        naming.instance_role(app),
        naming.service_role(app),
        naming.deploy_role(app),
        naming.ci_user(app),
    ):
        assert config.check_iam_name(name) is None, name
    assert config.check_bucket_name(naming.bucket(app, "123456789012", "ap-southeast-2")) is None


def test_steps_and_render_name_the_same_deploy_role(tmp_path: Path) -> None:
    p = config.from_dict(
        {
            "application": "renderer",
            "region": "eu-west-1",
            "ci": {"provider": "github", "repository": "octo/renderer"},
        }
    )
    arn = ci.deploy_role_arn(p, "123456789012")
    assert arn == "arn:aws:iam::123456789012:role/renderer-codedeploy-deploy"
    assert deploy_role_arn_for(p, "123456789012", "eu-west-1") == arn
    changes = plan_files(p, tmp_path, account="123456789012")
    workflow = next(c for c in changes if c.kind == "workflow")
    assert arn in workflow.new_text
    assert ci.ci_user_name(p) == "renderer-codedeploy-ci"
    trust = policies.github_trust("aws", "123456789012", "octo/renderer", "main")
    principal = trust["Statement"][0]["Principal"]["Federated"]
    assert principal == naming.oidc_provider_arn("123456789012")


def test_china_partition_in_the_workflow_role(tmp_path: Path) -> None:
    p = config.from_dict({"application": "renderer"}, check_region_known=False)
    assert deploy_role_arn_for(p, "1", "cn-north-1").startswith("arn:aws-cn:iam::1:role/")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return out


def test_render_does_not_import_the_setup_engine() -> None:
    for path in sorted((ROOT / "wizard" / "render").glob("*.py")):
        bad = {m for m in _imports(path) if m.startswith("wizard.steps")}
        assert not bad, f"{path.name} imports {bad}"
    assert _imports(ROOT / "wizard" / "naming.py") <= {"__future__", "re", "unicodedata"}


@pytest.mark.parametrize(
    "folder,name",
    [
        ("My App (ü) ünïcødé", "My-App-u-unicode"),  # the newcomer's folder: no letter dropped
        ("Straße", "Strasse"),
        ("Ærø Œuvre", "AEro-OEuvre"),
        ("ﬁle Ｆｕｌｌ", "file-Full"),  # compatibility forms (ligature, full width)
        ("a,b c", "a-b-c"),  # ',' is no tag value character
        ("日本", "app"),  # nothing Latin left
        ("---", "app"),
        ("x" * 150, "x" * 100),  # CodeDeploy: 1-100 characters
    ],
)
def test_application_from_folder_transliterates_to_a_valid_name(folder, name):
    from wizard.config import check_application
    from wizard.naming import application_from_folder

    assert application_from_folder(folder) == name
    assert check_application(name) is None


def test_the_wizard_names_the_application_after_its_folder(tmp_path):
    from wizard.tui_support import _load_project

    folder = tmp_path / "My App (ü) ünïcødé"
    folder.mkdir()
    project, error = _load_project(folder)
    assert (project.application, error) == ("My-App-u-unicode", None)
