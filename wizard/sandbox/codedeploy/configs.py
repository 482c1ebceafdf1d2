"""Deployment configurations: the predefined ones, custom ones, and their handlers."""

from __future__ import annotations

import math
import uuid
from datetime import datetime
from typing import Any

from moto.core.responses import ActionResult, EmptyResult
from moto.core.utils import utcnow

from wizard.sandbox.codedeploy.common import err, paginate

SERVER_CONFIGS = {
    "CodeDeployDefault.AllAtOnce": {"type": "FLEET_PERCENT", "value": 0},
    "CodeDeployDefault.HalfAtATime": {"type": "FLEET_PERCENT", "value": 50},
    # what GetDeploymentConfig really returns for OneAtATime (not in botocore's enum)
    "CodeDeployDefault.OneAtATime": {"type": "MOST_CONCURRENCY", "value": 1},
}
LAMBDA_CONFIGS = {
    "CodeDeployDefault.LambdaAllAtOnce": {"type": "AllAtOnce"},
    **{
        f"CodeDeployDefault.LambdaCanary10Percent{m}Minutes": {
            "type": "TimeBasedCanary",
            "timeBasedCanary": {"canaryPercentage": 10, "canaryInterval": m},
        }
        for m in (5, 10, 15, 30)
    },
    **{
        f"CodeDeployDefault.LambdaLinear10PercentEvery{m}Minute{'s' if m > 1 else ''}": {
            "type": "TimeBasedLinear",
            "timeBasedLinear": {"linearPercentage": 10, "linearInterval": m},
        }
        for m in (1, 2, 3, 10)
    },
}
ECS_CONFIGS = {
    "CodeDeployDefault.ECSAllAtOnce": {"type": "AllAtOnce"},
    "CodeDeployDefault.ECSLinear10PercentEvery1Minutes": {
        "type": "TimeBasedLinear",
        "timeBasedLinear": {"linearPercentage": 10, "linearInterval": 1},
    },
    "CodeDeployDefault.ECSLinear10PercentEvery3Minutes": {
        "type": "TimeBasedLinear",
        "timeBasedLinear": {"linearPercentage": 10, "linearInterval": 3},
    },
    "CodeDeployDefault.ECSCanary10Percent5Minutes": {
        "type": "TimeBasedCanary",
        "timeBasedCanary": {"canaryPercentage": 10, "canaryInterval": 5},
    },
    "CodeDeployDefault.ECSCanary10Percent15Minutes": {
        "type": "TimeBasedCanary",
        "timeBasedCanary": {"canaryPercentage": 10, "canaryInterval": 15},
    },
}
BUILTIN_CREATED = datetime(2014, 11, 12)


def config_info(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    info: dict[str, Any] = {
        "deploymentConfigId": str(uuid.uuid5(uuid.NAMESPACE_URL, name)),
        "deploymentConfigName": name,
        "createTime": spec.get("createTime", BUILTIN_CREATED),
        "computePlatform": spec.get("computePlatform", "Server"),
    }
    if "minimumHealthyHosts" in spec:
        info["minimumHealthyHosts"] = spec["minimumHealthyHosts"]
    if "trafficRoutingConfig" in spec:
        info["trafficRoutingConfig"] = spec["trafficRoutingConfig"]
    if spec.get("zonalConfig"):
        info["zonalConfig"] = spec["zonalConfig"]
    return info


def builtin_configs() -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for name, mhh in SERVER_CONFIGS.items():
        out[name] = {"computePlatform": "Server", "minimumHealthyHosts": mhh}
    for name, trc in LAMBDA_CONFIGS.items():
        out[name] = {"computePlatform": "Lambda", "trafficRoutingConfig": trc}
    for name, trc in ECS_CONFIGS.items():
        out[name] = {"computePlatform": "ECS", "trafficRoutingConfig": trc}
    return out


def custom_configs(backend: Any) -> dict[str, dict[str, Any]]:
    if not hasattr(backend, "_sandbox_configs"):
        backend._sandbox_configs = {}
    return backend._sandbox_configs


def all_configs(backend: Any) -> dict[str, dict[str, Any]]:
    return {**builtin_configs(), **custom_configs(backend)}


def get_config(backend: Any, name: str | None) -> dict[str, Any]:
    if not name:
        raise err("DeploymentConfigNameRequiredException", "Deployment config name is required.")
    config = all_configs(backend).get(str(name))
    if config is None:
        raise err(
            "DeploymentConfigDoesNotExistException",
            f"The deployment configuration {name} does not exist with the user or AWS account.",
        )
    return config


def min_healthy(config: dict[str, Any], n: int) -> tuple[int, int, bool]:
    """(minimum healthy hosts, batch size, one-at-a-time rule) for a fleet of n instances."""
    mhh = config.get("minimumHealthyHosts") or {"type": "FLEET_PERCENT", "value": 0}
    kind, value = mhh.get("type"), int(mhh.get("value", 0))
    if kind == "MOST_CONCURRENCY":
        return max(n - value, 0), max(value, 1), True
    minimum = value if kind == "HOST_COUNT" else math.ceil(n * value / 100)
    return minimum, max(n - minimum, 1), False


def list_deployment_configs(self: Any) -> ActionResult:
    names = sorted(all_configs(self.codedeploy_backend))
    page, nxt = paginate(names, self._get_param("nextToken"), 100)
    result: dict[str, Any] = {"deploymentConfigsList": page}
    if nxt:
        result["nextToken"] = nxt
    return ActionResult(result)


def get_deployment_config(self: Any) -> ActionResult:
    name = self._get_param("deploymentConfigName")
    config = get_config(self.codedeploy_backend, name)
    return ActionResult({"deploymentConfigInfo": config_info(name, config)})


def create_deployment_config(self: Any) -> ActionResult:
    backend = self.codedeploy_backend
    name = self._get_param("deploymentConfigName")
    if not name:
        raise err(
            "DeploymentConfigNameRequiredException",
            "The deployment configuration name was not specified.",
        )
    if name.startswith("CodeDeployDefault.") or name in all_configs(backend):
        if name in all_configs(backend):
            raise err(
                "DeploymentConfigAlreadyExistsException",
                f"A deployment configuration with the name {name} already exists.",
            )
        raise err(
            "InvalidDeploymentConfigNameException",
            f"The deployment configuration name {name} is reserved.",
        )
    platform = self._get_param("computePlatform") or "Server"
    mhh = self._get_param("minimumHealthyHosts")
    spec: dict[str, Any] = {"computePlatform": platform, "createTime": utcnow()}
    if platform == "Server":
        if not mhh or mhh.get("type") not in ("HOST_COUNT", "FLEET_PERCENT"):
            raise err(
                "InvalidMinimumHealthyHostValueException",
                "The minimum healthy instance value was specified in an invalid format.",
            )
        value = int(mhh.get("value", 0))
        if value < 0 or (mhh["type"] == "FLEET_PERCENT" and value > 99):
            raise err(
                "InvalidMinimumHealthyHostValueException",
                "The minimum healthy instance value was specified in an invalid format.",
            )
        spec["minimumHealthyHosts"] = {"type": mhh["type"], "value": value}
    else:
        spec["trafficRoutingConfig"] = self._get_param("trafficRoutingConfig") or {
            "type": "AllAtOnce"
        }
    if self._get_param("zonalConfig"):
        spec["zonalConfig"] = self._get_param("zonalConfig")
    custom_configs(backend)[name] = spec
    return ActionResult({"deploymentConfigId": config_info(name, spec)["deploymentConfigId"]})


def delete_deployment_config(self: Any) -> EmptyResult:
    backend = self.codedeploy_backend
    name = self._get_param("deploymentConfigName")
    if not name:
        raise err(
            "DeploymentConfigNameRequiredException",
            "The deployment configuration name was not specified.",
        )
    if name in builtin_configs():
        raise err(
            "InvalidOperationException", "A predefined deployment configuration cannot be deleted."
        )
    for groups in backend.deployment_groups.values():
        for g in groups.values():
            if str(g.deployment_config_name) == name:
                raise err(
                    "DeploymentConfigInUseException",
                    f"The deployment configuration {name} is in use.",
                )
    custom_configs(backend).pop(name, None)
    return EmptyResult()


HANDLERS = {
    "list_deployment_configs": list_deployment_configs,
    "get_deployment_config": get_deployment_config,
    "create_deployment_config": create_deployment_config,
    "delete_deployment_config": delete_deployment_config,
}
