"""Worlds with an Auto Scaling group behind an Application Load Balancer, built with boto3 calls.

`FleetWorld` extends `World` (IAM, S3, CodeDeploy) with what the wizard's `auto_scaling` and
`load_balancer` settings create on AWS: a launch template (AMI from the public SSM parameter,
instance profile, agent user data, IMDSv2 required), an Auto Scaling group on the default VPC's
subnets, an Application Load Balancer with a target group and a listener (and a security group
for the instances that admits the load balancer's), and a deployment group
that targets the Auto Scaling group IN_PLACE `WITH_TRAFFIC_CONTROL` through the target group with
automatic rollback. Nothing here reaches into moto: the same calls build the same world on AWS.
Used by the end-to-end tests and `bench/`.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from wizard.sandbox.world import AGENT_USER_DATA, TAG_KEY, World


@dataclass
class Balancer:
    load_balancer_arn: str
    target_group_arn: str
    target_group: str
    security_group: str
    instance_security_group: str  # admits the load balancer's group on the target port


class FleetWorld(World):
    """A `World` that can also build launch templates, Auto Scaling groups and load balancers."""

    def subnets(self) -> list[str]:
        """The default VPC's subnets (one per Availability Zone), as the wizard picks them."""
        ec2 = self.client("ec2")
        vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]
        subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])
        return [s["SubnetId"] for s in subnets["Subnets"]]

    def vpc(self) -> str:
        ec2 = self.client("ec2")
        return ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0][
            "VpcId"
        ]

    def load_balancer(
        self,
        *,
        health_check_path: str = "/",
        port: int = 80,
        interval: int = 30,
        healthy_threshold: int = 5,
        deregistration_delay: int | None = None,
        listener: bool = True,
    ) -> Balancer:
        """An internet-facing ALB on the default subnets, a target group, and a listener."""
        ec2, elbv2 = self.client("ec2"), self.client("elbv2")
        vpc = self.vpc()
        sg = ec2.create_security_group(
            GroupName=f"{self.name}-alb", Description="load balancer", VpcId=vpc
        )["GroupId"]
        ec2.authorize_security_group_ingress(
            GroupId=sg,
            IpPermissions=[
                {
                    "IpProtocol": "tcp",
                    "FromPort": 80,
                    "ToPort": 80,
                    "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
                }
            ],
        )
        instances_sg = ec2.create_security_group(
            GroupName=f"{self.name}-instances", Description="instances", VpcId=vpc
        )["GroupId"]
        ec2.authorize_security_group_ingress(
            GroupId=instances_sg,
            IpPermissions=[
                {
                    "IpProtocol": "tcp",
                    "FromPort": port,
                    "ToPort": port,
                    "UserIdGroupPairs": [{"GroupId": sg}],
                }
            ],
        )
        lb = elbv2.create_load_balancer(
            Name=f"{self.name}-alb"[:32],
            Subnets=self.subnets()[:2],
            SecurityGroups=[sg],
            Scheme="internet-facing",
            Type="application",
            Tags=[{"Key": TAG_KEY, "Value": self.name}],
        )["LoadBalancers"][0]
        tg = elbv2.create_target_group(
            Name=f"{self.name}-tg"[:32],
            Protocol="HTTP",
            Port=port,
            VpcId=vpc,
            HealthCheckPath=health_check_path,
            HealthCheckIntervalSeconds=interval,
            HealthyThresholdCount=healthy_threshold,
            TargetType="instance",
        )["TargetGroups"][0]
        if deregistration_delay is not None:
            elbv2.modify_target_group_attributes(
                TargetGroupArn=tg["TargetGroupArn"],
                Attributes=[
                    {
                        "Key": "deregistration_delay.timeout_seconds",
                        "Value": str(deregistration_delay),
                    }
                ],
            )
        if listener:
            elbv2.create_listener(
                LoadBalancerArn=lb["LoadBalancerArn"],
                Protocol="HTTP",
                Port=80,
                DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}],
            )
        return Balancer(
            lb["LoadBalancerArn"], tg["TargetGroupArn"], tg["TargetGroupName"], sg, instances_sg
        )

    def launch_template(
        self,
        profile: str,
        *,
        agent: bool = True,
        tags: dict[str, str] | None = None,
        ami: str = "al2023",
        instance_type: str = "t3.micro",
        security_groups: list[str] | None = None,
    ) -> str:
        """A launch template: AMI from SSM, the instance profile, agent user data, IMDSv2, and
        `security_groups` (the VPC's default group when None)."""
        user_data = AGENT_USER_DATA.format(region=self.region) if agent else "#!/bin/bash\n"
        all_tags = {TAG_KEY: self.name, **(tags or {})}
        name = f"{self.name}-lt"
        extra: dict[str, Any] = {"SecurityGroupIds": security_groups} if security_groups else {}
        self.client("ec2").create_launch_template(
            LaunchTemplateName=name,
            LaunchTemplateData={
                **extra,
                "ImageId": self.ami(ami),
                "InstanceType": instance_type,
                "IamInstanceProfile": {"Name": profile},
                "UserData": base64.b64encode(user_data.encode()).decode(),
                "MetadataOptions": {"HttpTokens": "required", "HttpEndpoint": "enabled"},
                "TagSpecifications": [
                    {
                        "ResourceType": "instance",
                        "Tags": [{"Key": k, "Value": v} for k, v in all_tags.items()],
                    }
                ],
            },
        )
        return name

    def auto_scaling_group(
        self,
        template: str,
        *,
        desired: int = 2,
        minimum: int | None = None,
        maximum: int | None = None,
        target_group_arns: list[str] | None = None,
        tags: dict[str, str] | None = None,
    ) -> str:
        """An Auto Scaling group on the default subnets (tags propagate to its instances)."""
        name = f"{self.name}-asg"
        all_tags = {TAG_KEY: self.name, **(tags or {})}
        self.client("autoscaling").create_auto_scaling_group(
            AutoScalingGroupName=name,
            LaunchTemplate={"LaunchTemplateName": template, "Version": "$Latest"},
            MinSize=desired if minimum is None else minimum,
            MaxSize=max(desired, maximum or desired),
            DesiredCapacity=desired,
            VPCZoneIdentifier=",".join(self.subnets()[:2]),
            TargetGroupARNs=list(target_group_arns or []),
            HealthCheckType="ELB" if target_group_arns else "EC2",
            Tags=[
                {
                    "Key": k,
                    "Value": v,
                    "PropagateAtLaunch": True,
                    "ResourceId": name,
                    "ResourceType": "auto-scaling-group",
                }
                for k, v in all_tags.items()
            ],
        )
        return name

    def fleet_application(
        self,
        service_role_arn: str,
        asg: str,
        *,
        target_group: str | None = None,
        config: str = "CodeDeployDefault.AllAtOnce",
        rollback: bool = True,
        traffic_control: bool = True,
    ) -> tuple[str, str]:
        """Application + deployment group on the Auto Scaling group (IN_PLACE, traffic control
        through `target_group`, DEPLOYMENT_FAILURE rollback)."""
        cd = self.client("codedeploy")
        app, group = self.name, f"{self.name}-group"
        cd.create_application(applicationName=app, computePlatform="Server")
        kwargs: dict[str, Any] = {
            "applicationName": app,
            "deploymentGroupName": group,
            "deploymentConfigName": config,
            "serviceRoleArn": service_role_arn,
            "autoScalingGroups": [asg],
            "deploymentStyle": {
                "deploymentType": "IN_PLACE",
                "deploymentOption": "WITH_TRAFFIC_CONTROL"
                if traffic_control and target_group
                else "WITHOUT_TRAFFIC_CONTROL",
            },
            "autoRollbackConfiguration": {
                "enabled": rollback,
                "events": ["DEPLOYMENT_FAILURE"] if rollback else [],
            },
        }
        if target_group:
            kwargs["loadBalancerInfo"] = {"targetGroupInfoList": [{"name": target_group}]}
        cd.create_deployment_group(**kwargs)
        return app, group

    def set_tag(self, instance_ids: list[str], key: str, value: str) -> None:
        self.client("ec2").create_tags(Resources=instance_ids, Tags=[{"Key": key, "Value": value}])

    def asg_instances(self, asg: str, state: str | None = "InService") -> list[str]:
        g = self.client("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=[asg])[
            "AutoScalingGroups"
        ][0]
        return sorted(
            i["InstanceId"]
            for i in g.get("Instances", [])
            if state is None or i["LifecycleState"] == state
        )
