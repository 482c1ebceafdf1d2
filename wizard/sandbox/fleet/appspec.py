"""The appspec as the 1.x agent reads it (lenient where the agent is lenient)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class AppSpecError(Exception):
    """The agent rejected the appspec (message as the agent words it)."""


@dataclass
class AppSpec:
    os: str
    files: list[tuple[str, str]]
    permissions: list[dict[str, Any]]
    hooks: dict[str, list[dict[str, Any]]]
    file_exists_behavior: str | None


def parse_appspec(text: str, instance_os: str = "linux") -> AppSpec:
    """Parse and check an appspec the way the 1.x agent does (lenient where it is lenient)."""
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        context = getattr(exc, "context", None)
        detail = f"{problem} {context}" if context else problem
        raise AppSpecError(f"(<unknown>): {detail}{where}") from None
    if data is None or isinstance(data, (str, int, float)):
        raise AppSpecError("undefined method `[]' for nil:NilClass")
    if not isinstance(data, dict):
        raise AppSpecError("no implicit conversion of String into Integer")
    version = data.get("version")
    if isinstance(version, bool) or not isinstance(version, (int, float)) or version != 0:
        shown = "" if version is None else version
        raise AppSpecError(
            f"The deployment failed because an invalid version value ({shown}) was entered in "
            'the application specification file. Make sure your AppSpec file specifies "0.0" '
            "as the version, and then try again."
        )
    os_name = data.get("os")
    if os_name not in ("linux", "windows") or os_name != instance_os:
        raise AppSpecError(
            "The deployment failed because the application specification file specifies an "
            f"unsupported operating system ({'' if os_name is None else os_name}). Specify "
            'either "linux" or "windows" in the os section of the AppSpec file, and then try '
            "again."
        )
    hooks: dict[str, list[dict[str, Any]]] = {}
    raw_hooks = data.get("hooks") or {}
    if not isinstance(raw_hooks, dict):
        raise AppSpecError(f"undefined method `each_pair' for {type(raw_hooks).__name__}")
    for event, scripts in raw_hooks.items():
        current = []
        for script in scripts or []:
            if (
                not isinstance(script, dict)
                or script.get("location") is None
                or not str(script.get("location")).strip()
            ):
                raise AppSpecError(
                    "The deployment failed because the application specification file "
                    "specifies a script with no location value. Specify the location in the "
                    "hooks section of the AppSpec file, and then try again."
                )
            timeout = script.get("timeout") or 3600
            try:
                timeout = int(str(timeout).strip().split(".")[0])
            except ValueError:
                timeout = 0
            if timeout <= 0:
                raise AppSpecError(
                    "The deployment failed because an invalid timeout value was provided for a "
                    "script in the application specification file. Make corrections in the hooks "
                    "section of the AppSpec file, and then try again."
                )
            runas = script.get("runas")
            current.append(
                {
                    "location": str(script["location"]).strip(),
                    "timeout": timeout,
                    "runas": None if runas is None else str(runas).strip(),
                }
            )
        hooks[str(event)] = current
    files = []
    for mapping in data.get("files") or []:
        if not isinstance(mapping, dict):
            raise AppSpecError("no implicit conversion of String into Integer")
        src, dst = mapping.get("source"), mapping.get("destination")
        if src is None or str(src) == "":
            raise AppSpecError(
                "The deployment failed because the application specification file specifies "
                "a file with no source value. Update the files section of the AppSpec file, "
                "and then try again."
            )
        if dst is None or str(dst) == "":
            raise AppSpecError(
                "The deployment failed because the application specification file specifies "
                "a file with no destination value. Update the files section of the AppSpec "
                "file, and then try again."
            )
        files.append((str(src), str(dst)))
    permissions = []
    for perm in data.get("permissions") or []:
        if not isinstance(perm, dict) or perm.get("object") is None:
            raise AppSpecError(
                "The deployment failed because a permission listed in the application "
                "specification file has no object value. Update the permissions section of the "
                "AppSpec file, and then try again."
            )
        for kind in perm.get("type") or ["file", "directory"]:
            if kind not in ("file", "directory"):
                raise AppSpecError(
                    "The deployment failed because the application specification file "
                    "specifies a permission for an object type not supported for permissions "
                    f"({kind}). Update the permissions section of the AppSpec file, and then try "
                    "again."
                )
        permissions.append(perm)
    feb = data.get("file_exists_behavior")
    if feb is not None and str(feb).upper() not in ("DISALLOW", "OVERWRITE", "RETAIN"):
        raise AppSpecError(
            "The deployment failed because an invalid option was specified for "
            f"fileExistsBehavior: {feb}. Valid options include OVERWRITE, RETAIN, and DISALLOW."
        )
    return AppSpec(
        os=str(os_name),
        files=files,
        permissions=permissions,
        hooks=hooks,
        file_exists_behavior=str(feb).upper() if feb is not None else None,
    )
