"""`wizard apply [--yes]` (and `wizard setup --yes`): show the plan, confirm, carry it out, verify.

Asks before changing anything unless `--yes`; with no terminal to ask on and no `--yes` it exits 2.
One apply at a time per project directory (`wizard.projectlock`): a second one stops at once
with one line. A conflict stops it before any change. A failure stops it at that change, names
what was done, and exits 1 (AccessDenied names the action and the principal); Ctrl-C (or SIGTERM)
prints the same summary and exits 130; running it again finishes the job.

After applying, the diagnose checks that prove the setup run in preflight mode and decide the exit
code: 1 when one fails. What only needs time (the agent of an instance launched a minute ago) is
waited for first, with a progress line and a bounded timeout; `--no-wait` skips the wait and
reports such a result as "not verified yet" (`wizard.commands._verify`).

`wizard setup --yes` is apply plus what the TUI's Apply does next: it writes the files (appspec,
hook scripts, CI config; merged, backed up) unless `--no-files`.

A CI access key (`--create-access-key`) is a secret shown once: it is printed only to a terminal.
With stdout redirected the command refuses before creating anything unless `--print-secret`.
"""

from __future__ import annotations

import argparse
import signal
import sys
from typing import Any

from wizard.commands.plan import load_project, render_plan
from wizard.errors import UsageError, WizardError
from wizard.output import error_line, style, use_color

MARKS = {"done": ("[✓]", "green"), "failed": ("[✗]", "red")}


class _Interrupted(WizardError):
    """Ctrl-C or SIGTERM during apply (exit 130, or 143 for SIGTERM)."""

    exit_code = 130


def confirm(question: str, args: argparse.Namespace, command: str) -> bool:
    """True with --yes; asks on a terminal; without a terminal refuses (UsageError, exit 2)."""
    from wizard.commands._context import is_tty

    if getattr(args, "yes", False):
        return True
    if not is_tty():
        raise UsageError(
            f"wizard {command}: no terminal to confirm on; pass --yes to {command} without asking"
        )
    from wizard.output import ask_yes_no

    return ask_yes_no(question)


def progress_printer(stream: Any = None) -> Any:
    """A progress callback printing one line per change as it finishes."""
    out = stream or sys.stdout

    tty = bool(getattr(out, "isatty", lambda: False)())

    def progress(change: Any, state: str, message: str) -> None:
        if change.action == "noop":
            return
        what = f"{change.action} {change.resource} {change.name}"
        if state == "start":
            if tty:  # a transient line while the change runs (launching can take minutes)
                print(f"[…] {what}", end="\r", file=out, flush=True)
            return
        mark, colour = MARKS.get(state, ("[ ]", "dim"))
        line = f"{style(mark, colour, stream=out)} {what}"
        if state == "failed":
            line += f": {message}"
        print(line + ("\x1b[K" if tty else ""), file=out, flush=True)

    return progress


def report_failure(result: Any, verb: str, ctx: Any = None) -> int:
    """Stop message: the one-line error, what was already done, how to finish (with the embedded
    sandbox `ctx`, gone when the command ends: that running it again starts over)."""
    from wizard.commands._context import embedded

    err = result.error
    error_line(err)
    if result.done:
        print("Already done before it stopped:", file=sys.stderr)
        for ch in result.done:
            print(f"  - {ch.action} {ch.resource} {ch.name}", file=sys.stderr)
    else:
        untouched = result.failed is None or result.failed.action == "conflict"
        print(
            "Nothing was changed." if untouched else "No change had completed before this one.",
            file=sys.stderr,
        )
    stopped = isinstance(err, _Interrupted) and bool(result.done)
    if stopped or (result.failed is not None and result.failed.action != "conflict"):
        print(
            f"Run `wizard --sandbox {verb}` again: it starts over in a new, empty sandbox "
            "(this one ended with the command)."
            if embedded(ctx)
            else f"Run `wizard {verb}` again to finish: it picks up where this stopped.",
            file=sys.stderr,
        )
    return int(getattr(err, "exit_code", 1) or 1)


def verify(ctx: Any, project: Any, check_ids: list[str], args: argparse.Namespace) -> Any:
    """Run the checks that prove the setup (preflight), wait for what only needs time, print.

    Returns a `_verify.Outcome`; its `problems` decide the exit code. See `wizard.commands._verify`
    for what is waited for and how.
    """
    from wizard.commands import _verify
    from wizard.commands._context import embedded, later

    if not check_ids:
        return _verify.Outcome()
    try:
        from checks import registry
        from checks.runner import diagnose
    except ImportError:  # pragma: no cover - checks ships with the wizard
        print(f"\nVerify with: wizard diagnose --preflight --check {' --check '.join(check_ids)}")
        return _verify.Outcome()
    known = {c.id for c in registry.all_checks()}
    ids = [c for c in check_ids if c in known]
    if not ids:
        return _verify.Outcome()
    region = project.effective_region(ctx.region)

    def run_checks(selected: list[str]) -> Any:
        return diagnose(
            ctx,
            application=project.application,
            deployment_group=project.deployment_group,
            check_ids=selected,
            preflight=True,
        )

    print("\nVerifying (diagnose --preflight):", flush=True)
    try:
        report = run_checks(ids)
        young = _verify.young_instances(ctx, project) if report.problems or _warned(report) else {}
        pending = _verify.settling(report, young, bool(project.roles.ssm))
        if pending and getattr(args, "no_wait", False):
            _verify.not_yet(
                pending, young, later=(lambda c: later(ctx, c)) if embedded(ctx) else None
            )
            _drop_causes(report, pending)
        elif pending:
            timeout = float(getattr(args, "wait_timeout", None) or _verify.DEFAULT_TIMEOUT)
            settled = _verify.wait_until_settled(
                ctx, project, region, pending, young, timeout=timeout, run_checks=run_checks
            )
            report = run_checks(ids)  # one consistent report, as it is now
            if not settled:
                _verify.timed_out(_verify.settling(report, young, True), timeout)
    except KeyboardInterrupt:
        print(
            "\nStopped verifying: the setup is applied. Check it later with "
            f"{later(ctx, 'wizard diagnose --preflight')}.",
            file=sys.stderr,
        )
        raise _Interrupted("interrupted while verifying", exit_code=130) from None
    except WizardError as exc:
        error_line(exc)
        print(
            "The setup is applied; the checks could not run. Run "
            f"{later(ctx, 'wizard diagnose --preflight')}."
        )
        return _verify.Outcome(broken=True)
    except Exception as exc:  # a broken check must not read as a crash of a good apply
        print(f"  could not run the checks: {type(exc).__name__}: {exc}")
        return _verify.Outcome(broken=True)
    try:
        from checks.reporters.text import render

        print(render(report, verbose=False, color=use_color()))
    except ImportError:  # pragma: no cover
        for res in report.results:
            print(f"  {res.status:<5} {res.id}: {res.summary}")
    return _verify.Outcome(report)


def _warned(report: Any) -> bool:
    from checks.model import Status

    return any(r.status is Status.WARN for r in report.results)


def _drop_causes(report: Any, results: list[Any]) -> None:
    gone = {r.id for r in results}
    report.root_causes = [c for c in report.root_causes if c not in gone]


def next_steps(
    project: Any, result: Any, *, files_written: bool = False, embedded: bool = False
) -> list[str]:
    """The lines under "Next steps:", each one true where it is read. `embedded`: the sandbox
    this command started, gone when it ends: the commands that need what it set up are given for
    a `wizard sandbox` server that outlives them (the first command sets it up there again)."""
    if embedded:
        from wizard.commands._context import KEEP_A_SANDBOX

        return [
            KEEP_A_SANDBOX,
            "  wizard setup --yes     set it up in that sandbox (the files here are kept)",
            "  wizard deploy --wait   bundle this folder, deploy it and follow it",
            "  wizard diagnose        if a deployment fails: the root cause and the fix",
            "Or all in one window: `wizard --sandbox` (the setup wizard deploys from its Done "
            "screen).",
        ]
    steps = []
    if not files_written:
        steps.append("wizard files          write appspec.yml, hook scripts and the CI config")
    steps += [
        "wizard deploy --wait  bundle this folder, deploy it and follow it",
        "wizard diagnose       if a deployment fails: the root cause and the fix",
    ]
    if result.outputs.get("load_balancer_url"):
        steps.append(
            f"Load balancer: {result.outputs['load_balancer_url']} (it serves the instances that "
            "pass the health check)"
        )
    if project.ci.provider == "github" and result.outputs.get("deploy_role_arn"):
        steps.append(f"GitHub Actions role to assume: {result.outputs['deploy_role_arn']}")
    if project.ci.provider == "travis" and not result.outputs.get("access_key"):
        steps.append(
            "Travis CI needs an access key: `wizard apply --create-access-key` makes one "
            "(printed once, on a terminal, never saved)"
        )
    return steps


def check_secret_output(args: argparse.Namespace, project: Any, command: str) -> None:
    """Refuse, before anything is created, to print a new secret anywhere but a terminal."""
    if not getattr(args, "create_access_key", False) or project.ci.provider != "travis":
        return
    if getattr(args, "print_secret", False) or sys.stdout.isatty():
        return
    raise UsageError(
        f"wizard {command} --create-access-key: stdout is not a terminal, and the new secret "
        "access key would land in a file or pipe; nothing was changed",
        hint="Run it on a terminal, or add --print-secret to print the key anyway.",
    )


def print_access_key(result: Any, sandbox: bool = False) -> None:
    """The new key, once: to a terminal (or where --print-secret was given). Never saved."""
    from wizard.steps.ci import travis_commands

    key = result.outputs.get("access_key")
    if not key:
        return
    user = result.outputs.get("ci_user", "the CI user")
    print(f"\nAccess key for {user}: shown once, saved nowhere. Store both in Travis CI now:")
    print(f"  AWS_ACCESS_KEY_ID      {key['AccessKeyId']}")
    print(f"  AWS_SECRET_ACCESS_KEY  {key['SecretAccessKey']}")
    print("In the repository's folder (the secret is read from the terminal, not a command line):")
    for line in travis_commands(key):
        print(f"  {line}")
    if sandbox:
        print("SANDBOX: this key is made up by the emulator; it works nowhere else.")


class _Tracker:
    """Wraps the progress printer to know what was done when Ctrl-C arrives."""

    def __init__(self, printer: Any) -> None:
        self.printer = printer
        self.done: list[Any] = []
        self.current: Any = None

    def __call__(self, change: Any, state: str, message: str) -> None:
        if state == "start":
            self.current = change
        elif state == "done":
            if change.action != "noop":
                self.done.append(change)
            self.current = None
        self.printer(change, state, message)


def _on_sigterm(signum: int, frame: Any) -> None:
    raise _Interrupted("terminated (SIGTERM)", exit_code=143)


def apply_changes(ctx: Any, project: Any, plan: Any, create_key: bool) -> Any:
    """engine.apply_plan with a line per change; Ctrl-C/SIGTERM end as a failure would."""
    from wizard.steps import engine
    from wizard.steps.base import ApplyResult

    tracker = _Tracker(progress_printer())
    previous = None
    try:
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    except ValueError:  # not the main thread: no handler, the default applies
        previous = None
    try:
        return engine.apply_plan(ctx, project, plan, tracker, create_access_key=create_key)
    except (KeyboardInterrupt, _Interrupted) as exc:
        print(file=sys.stdout, flush=True)
        current = tracker.current
        what = f" during {current.action} {current.resource} {current.name}" if current else ""
        err = exc if isinstance(exc, _Interrupted) else _Interrupted("interrupted (Ctrl-C)")
        err.message = f"{err.message}{what}" + (": it may be half done" if current else "")
        result = ApplyResult(plan=plan, done=list(tracker.done), failed=current, error=err)
        result.checks = []
        return result
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def run(args: argparse.Namespace, *, command: str = "apply") -> int:
    """apply (and setup --yes, with `command="setup"`): plan, confirm, apply, files, verify."""
    from wizard.commands._context import aws_context
    from wizard.projectlock import project_lock
    from wizard.steps import engine

    timeout = getattr(args, "wait_timeout", None)
    if timeout is not None and not 0 <= timeout <= 86400:  # NaN fails both comparisons
        raise UsageError(f"--wait-timeout must be between 0 and 86400 seconds, not {timeout:g}")
    project = load_project(args)
    create_key = bool(getattr(args, "create_access_key", False))
    check_secret_output(args, project, command)
    write_files = command == "setup" and not getattr(args, "no_files", False)
    verb = "setup --yes" if command == "setup" else "apply"
    if write_files:  # before AWS is touched: a read-only folder must not stop it half way
        from wizard.commands.files import preflight_writable

        preflight_writable(
            project,
            args.project_dir,
            region=args.region,
            hint="Nothing was changed. Run it in a folder you can write, or add --no-files.",
        )
    with project_lock(args.project_dir, verb), aws_context(args) as ctx:
        plan = engine.build_plan(ctx, project, create_access_key=create_key)
        if command == "setup" and _launch_instead(ctx, project, plan, args):
            plan = engine.build_plan(ctx, project, create_access_key=create_key)
        print(render_plan(plan, engine.resolved(ctx, project)))
        if plan.conflicts:
            result = engine.apply_plan(ctx, project, plan)  # refuses: reports the conflict
            print()
            return report_failure(result, verb, ctx)
        if plan.mutating:
            n = len(plan.mutating)
            if not confirm(f"\nApply these {n} change{'s' * (n != 1)}?", args, command):
                print("Nothing changed.")
                return 1
            print()
            result = apply_changes(ctx, project, plan, create_key)
            if not result.ok:
                return report_failure(result, verb, ctx)
            print(style(f"\nApplied {len(result.done)} change(s).", "bold"))
        else:
            result = engine.apply_plan(ctx, project, plan)
            print(style("\nNothing to do: everything is set up.", "bold"))
        print_access_key(result, sandbox=bool(getattr(ctx, "sandbox", False)))
        files_status = 0
        if write_files:
            files_status = _write_files(ctx, project, plan, result, args)
        outcome = verify(ctx, project, result.checks, args)
    print("\nNext steps:")
    from wizard.commands._context import embedded

    for line in next_steps(project, result, files_written=write_files, embedded=embedded(ctx)):
        print(f"  {line}")
    if outcome.problems:
        n = len(outcome.problems)
        print(
            style(
                f"\nThe setup is applied, but {n} check{'s' * (n != 1)} failed "
                f"({', '.join(outcome.problems)}): see above.",
                "red",
            ),
            file=sys.stderr,
        )
        return 1
    return files_status


def _launch_instead(ctx: Any, project: Any, plan: Any, args: argparse.Namespace) -> bool:
    """setup --yes does what the TUI's defaults do: when no running instance carries the group's
    tag and the project file says nothing about instances, launch some instead of creating a
    group that can only fail with NO_INSTANCES. Records `instances.launch` in the project file
    (merged, comments kept) so a later plan/apply agrees. True when the project was changed.

    An explicit `instances.launch` (0 included: "adopt, I will tag my own") is left alone.
    """
    from wizard import config
    from wizard.steps.instances import default_launch

    inst = project.instances
    if inst.launch or inst.auto_scaling is not None or getattr(args, "config", None):
        return False
    if not any(c.step == "instances" and c.blocks_deploy for c in plan.changes):
        return False
    try:
        import yaml

        raw = yaml.safe_load(config.project_path(args.project_dir).read_text(encoding="utf-8"))
    except Exception:
        return False  # load_project read it already; anything odd here: change nothing
    said = raw.get("instances") if isinstance(raw, dict) else None
    if isinstance(said, dict) and "launch" in said:
        return False
    inst.launch = default_launch(bool(getattr(ctx, "sandbox", False)))
    try:
        config.save(project, args.project_dir)
    except WizardError as exc:  # NotWritable: nothing was changed in AWS yet
        exc.hint = (
            "Nothing was changed: setup records instances.launch in it before it launches; "
            "run it in a folder you can write."
        )
        raise
    print(
        f"No running instance carries the tag {inst.tag.key}={inst.tag.value}, so setup launches "
        f"{inst.launch} (as the wizard's Instances step does); recorded as instances.launch in "
        f"{config.project_path(args.project_dir).name}. Set it to 0 to adopt instances you tag."
    )
    return True


def _write_files(ctx: Any, project: Any, plan: Any, result: Any, args: argparse.Namespace) -> int:
    """What the TUI's Apply does after the AWS changes: appspec, hook scripts, CI config."""
    from pathlib import Path

    from wizard.commands import files

    print("\nFiles (--no-files skips them):")
    return files.write_and_report(
        project,
        Path(args.project_dir),
        account=plan.account,
        region=plan.region,
        deploy_role_arn=result.outputs.get("deploy_role_arn"),
        yes=True,
        sandbox_note=bool(getattr(ctx, "sandbox", False)),
    )
