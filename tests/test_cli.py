"""The CLI contract: commands, global flags, exit codes, fast --help, no tracebacks."""

from __future__ import annotations

import subprocess
import sys

import pytest

from wizard import cli
from wizard.cli import COMMANDS, build_parser

DESIGN_COMMANDS = {
    "setup", "plan", "apply", "files", "validate", "deploy", "diagnose", "destroy", "sandbox",
    "whoami",
}  # fmt: skip


def test_every_design_command_is_listed_in_help(capsys):
    assert set(COMMANDS) == DESIGN_COMMANDS
    with pytest.raises(SystemExit) as info:
        cli.main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for name in DESIGN_COMMANDS:
        assert name in out


def test_version(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--version"])
    assert capsys.readouterr().out.startswith("wizard 0.")


@pytest.mark.parametrize(
    "argv",
    [
        ["--region", "eu-west-1", "whoami", "--json"],
        ["whoami", "--json", "--region", "eu-west-1"],
    ],
)
def test_global_flags_before_or_after_the_command(argv):
    args = cli._normalise(build_parser().parse_args(argv))
    assert args.region == "eu-west-1" and args.json is True and args.command == "whoami"


def test_no_command_means_setup():
    args = cli._normalise(build_parser().parse_args(["--sandbox"]))
    assert args.command == "setup" and args.sandbox is True


def test_diagnose_flags():
    args = build_parser().parse_args(
        [
            "diagnose",
            "d-0QBAGMJSZ",
            "--json",
            "--check",
            "s3.*",
            "--check",
            "agent.running",
            "--fix",
        ]
    )
    assert (
        args.deployment_id == "d-0QBAGMJSZ" and args.check == ["s3.*", "agent.running"] and args.fix
    )


def test_usage_error_exits_2(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["no-such-command"])
    assert info.value.code == 2


def test_help_imports_neither_boto3_nor_textual():
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "wizard", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    imported = {line.split("|")[-1].strip() for line in proc.stderr.splitlines()}
    heavy = {m for m in imported if m.split(".")[0] in {"boto3", "botocore", "textual", "moto"}}
    assert not heavy, heavy


def test_expected_failure_is_one_line_without_traceback(run_wizard, tmp_path):
    proc = run_wizard("whoami", "--profile", "nope")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "error: unknown AWS profile 'nope'. List profiles with `aws configure list-profiles`."
    ]


@pytest.mark.parametrize(
    ("args", "env", "fragment"),
    [
        ((), {"AWS_REGION": "us-east-1"}, "no AWS credentials"),
        ((), {"AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b"}, "no AWS region"),
        (
            (
                "--endpoint-url",
                "localhost:1",
            ),
            {"AWS_REGION": "us-east-1"},
            "malformed endpoint",
        ),
        (
            ("--endpoint-url", "http://127.0.0.1:9"),
            {"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b"},
            "cannot reach",
        ),
    ],
)
def test_credential_and_endpoint_failures(run_wizard, args, env, fragment):
    from tests.conftest import clean_env

    # IMDS lookups would slow the no-credentials case; disable them as a user without EC2 would
    proc = run_wizard("whoami", *args, env=clean_env(AWS_EC2_METADATA_DISABLED="true", **env))
    assert proc.returncode == 2, proc.stderr
    assert fragment in proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_verbose_shows_the_traceback(run_wizard):
    from tests.conftest import clean_env

    proc = run_wizard(
        "-v", "whoami", env=clean_env(AWS_EC2_METADATA_DISABLED="true", AWS_REGION="us-east-1")
    )
    assert proc.returncode == 2
    assert "Traceback" in proc.stderr and "no AWS credentials" in proc.stderr


def test_error_and_hint_read_as_two_sentences():
    from wizard.errors import UsageError

    assert UsageError("no project file at /x/.y.yml", hint="Run `wizard`.").one_line() == (
        "no project file at /x/.y.yml. Run `wizard`."
    )
    assert UsageError("bad value.", hint="Fix it.").one_line() == "bad value. Fix it."
    assert UsageError("bad value").one_line() == "bad value"


def test_a_region_no_partition_has_is_one_line_exit_2(run_wizard, tmp_path):
    from tests.conftest import clean_env

    (tmp_path / ".codedeploy-wizard.yml").write_text("application: shop\n")
    env = clean_env(AWS_ACCESS_KEY_ID="a", AWS_SECRET_ACCESS_KEY="b", AWS_REGION="us-east1")
    for args in (("plan",), ("whoami",), ("--region", "nowhere-1", "diagnose", "--preflight")):
        proc = run_wizard(*args, "--project-dir", str(tmp_path), env=env)
        assert proc.returncode == 2, (args, proc.stderr)
        assert proc.stderr.strip().splitlines()[-1].startswith("error: unknown AWS region"), args
        assert "Traceback" not in proc.stderr and "unexpected" not in proc.stderr


def test_an_endpoint_without_sts_is_not_an_error_by_itself(monkeypatch):
    """The sandbox probe (STS) must not fail a command on an endpoint that only lacks STS."""
    import argparse

    import pytest

    from wizard.aws import AwsContext
    from wizard.commands._context import aws_context
    from wizard.errors import CredentialsError, WizardError

    for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "a")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "b")
    args = argparse.Namespace(
        profile=None, region="us-east-1", endpoint_url="http://127.0.0.1:9", sandbox=False
    )

    def no_sts(self):
        raise WizardError("sts:GetCallerIdentity is not served here")

    monkeypatch.setattr(AwsContext, "identity", no_sts)
    with aws_context(args) as ctx:
        assert ctx.sandbox is False

    def unreachable(self):
        raise CredentialsError("cannot reach the AWS endpoint http://127.0.0.1:9")

    monkeypatch.setattr(AwsContext, "identity", unreachable)
    with pytest.raises(CredentialsError), aws_context(args):
        pass


def test_sandbox_without_the_extra_says_how_to_install_it():
    """Installed without [sandbox] (no moto, no werkzeug): one line naming the extra, exit 2."""
    blocker = (
        "import importlib.abc, sys\n"
        "class B(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('moto', 'werkzeug'):\n"
        "            raise ImportError(name)\n"
        "sys.meta_path.insert(0, B())\n"
        "from wizard.cli import main\n"
        "sys.exit(main(['--sandbox', 'whoami']))\n"
    )
    from tests.conftest import clean_env

    proc = subprocess.run(
        [sys.executable, "-c", blocker], capture_output=True, text=True, env=clean_env()
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        "error: the sandbox needs the emulator: pip install 'codedeploy-wizard[sandbox]'"
    )


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["whoami", "--region"], "argument --region: expected one argument"),
        (["plan", "--jsn"], "unrecognized arguments: --jsn"),
        (["deploi"], "invalid choice: 'deploi'"),
        (["whoami", "--region", ""], "argument --region: must not be empty"),
        (["diagnose", "d-" + "A" * 100_000], "is not a deployment id"),
        (["sandbox", "--port", "70000"], "is not a port"),
    ],
)
def test_a_bad_flag_is_one_short_line_pointing_to_help(capsys, argv, fragment):
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and fragment in err[0] and "--help" in err[0], err
    assert len(err[0]) < 300


def test_an_error_line_never_holds_a_control_character_or_a_megabyte():
    from wizard.errors import MAX_LINE, UsageError

    line = UsageError("bad name 'a\nb\x1b[2J'", hint="Fix it.").one_line()
    assert line == "bad name 'a\\nb\\x1b[2J'. Fix it."
    long = UsageError("x" * 100_000).one_line()
    assert len(long) <= MAX_LINE and "…" in long


def test_the_setup_wizard_needs_a_terminal(capsys, monkeypatch, tmp_path):
    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    monkeypatch.chdir(tmp_path)
    for argv in (["setup"], [], ["--sandbox"]):
        assert cli.main(argv) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert err == [
            "error: the setup wizard needs a terminal (stdin and stdout are not one). Without a "
            "terminal, put the answers in .codedeploy-wizard.yml and run `wizard setup --yes`."
        ]
    assert list(tmp_path.iterdir()) == []
