"""What a function needs of AWS Elastic Disaster Recovery, and nothing more.

Source: AWS's Service Authorization Reference, "Actions, resources, and condition keys for AWS
Elastic Disaster Recovery"
(https://docs.aws.amazon.com/service-authorization/latest/reference/list_awselasticdisasterrecovery.html):
the Describe* actions support no resource-level permissions (Resource "*"); StartRecovery acts on
source servers and lists *dependent actions*, permissions its caller must hold because DRS uses
them on the caller's behalf to build the recovery instances (launch templates, volumes,
snapshots, security groups, instances, passing the instance role). The provider tags every job
with the execution at creation, which needs drs:TagResource.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_

READ_ACTIONS = [
    "drs:DescribeSourceServers",
    "drs:DescribeRecoverySnapshots",
    "drs:DescribeJobs",
    "drs:DescribeJobLogItems",
    "drs:DescribeRecoveryInstances",
]
LAUNCH_ACTIONS = ["drs:StartRecovery", "drs:TagResource", "drs:CreateRecoveryInstanceForDrs", "drs:ListTagsForResource"]
# StartRecovery's dependent actions on EC2 (Service Authorization Reference, above).
EC2_ACTIONS_FOR_START_RECOVERY = [
    "ec2:AttachVolume",
    "ec2:AuthorizeSecurityGroupEgress",
    "ec2:AuthorizeSecurityGroupIngress",
    "ec2:CreateLaunchTemplate",
    "ec2:CreateLaunchTemplateVersion",
    "ec2:CreateSnapshot",
    "ec2:CreateTags",
    "ec2:CreateVolume",
    "ec2:DeleteLaunchTemplateVersions",
    "ec2:DeleteSnapshot",
    "ec2:DeleteVolume",
    "ec2:DescribeAccountAttributes",
    "ec2:DescribeAvailabilityZones",
    "ec2:DescribeImages",
    "ec2:DescribeInstanceAttribute",
    "ec2:DescribeInstanceStatus",
    "ec2:DescribeInstanceTypes",
    "ec2:DescribeInstances",
    "ec2:DescribeLaunchTemplateVersions",
    "ec2:DescribeLaunchTemplates",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSnapshots",
    "ec2:DescribeSubnets",
    "ec2:DescribeVolumes",
    "ec2:DetachVolume",
    "ec2:ModifyInstanceAttribute",
    "ec2:ModifyLaunchTemplate",
    "ec2:RevokeSecurityGroupEgress",
    "ec2:RunInstances",
    "ec2:StartInstances",
    "ec2:StopInstances",
    "ec2:TerminateInstances",
]


def _drs_arn(stack: Stack, region: str | None, resource: str) -> str:
    arn: str = stack.format_arn(
        service="drs",
        region=region or stack.region,
        resource=resource,
        resource_name="*",
        arn_format=ArnFormat.SLASH_RESOURCE_NAME,
    )
    return arn


def grant_read(function: lambda_.Function) -> list[dict[str, Any]]:
    """DRS's read actions; returns the cdk-nag acknowledgements they need."""
    function.add_to_role_policy(iam.PolicyStatement(actions=READ_ACTIONS, resources=["*"]))
    return [
        {
            "id": "AwsSolutions-IAM5",
            "reason": "The DRS read actions (drs:DescribeSourceServers, DescribeRecoverySnapshots, DescribeJobs, "
            "DescribeJobLogItems, DescribeRecoveryInstances) support no resource-level permissions",
            "appliesTo": ["Resource::*"],
        }
    ]


def grant_launch(function: lambda_.Function, region: str | None) -> list[dict[str, Any]]:
    """drs:StartRecovery on source servers, tagging its job, and the actions it depends on."""
    stack = Stack.of(function)
    drs_resources = [_drs_arn(stack, region, kind) for kind in ("source-server", "job", "recovery-instance")]
    function.add_to_role_policy(iam.PolicyStatement(actions=LAUNCH_ACTIONS, resources=drs_resources))
    function.add_to_role_policy(iam.PolicyStatement(actions=EC2_ACTIONS_FOR_START_RECOVERY, resources=["*"]))
    function.add_to_role_policy(
        iam.PolicyStatement(
            actions=["iam:PassRole"],
            resources=["*"],
            conditions={"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}},
        )
    )
    return [
        {
            "id": "AwsSolutions-IAM5",
            "reason": "drs:StartRecovery's dependent actions (Service Authorization Reference): DRS builds the "
            "recovery instances with the caller's EC2 rights (launch templates, volumes, snapshots, security groups, "
            "instances) and passes the instance role to EC2 (iam:PassRole only to ec2.amazonaws.com); the launch "
            "templates, volumes and instances are created by DRS per launch, so no ARN can name them in advance",
            "appliesTo": ["Resource::*"],
        },
        {
            "id": "AwsSolutions-IAM5",
            "reason": "drs:StartRecovery and drs:TagResource act on this account's DRS source servers, jobs and "
            "recovery instances in the configured region; jobs and recovery instances are made per launch",
            "appliesTo": [
                {"regex": "/^Resource::arn:<AWS::Partition>:drs:.*:(source-server|job|recovery-instance)/\\*$/g"}
            ],
        },
    ]


# TerminateRecoveryInstances' dependent actions (Service Authorization Reference, above): DRS
# terminates the instances and deletes their volumes with its caller's rights.
EC2_ACTIONS_FOR_TERMINATION = ["ec2:TerminateInstances", "ec2:DeleteVolume"]
EC2_READS_FOR_TERMINATION = ["ec2:DescribeInstances", "ec2:DescribeVolumes"]


def grant_terminate(function: lambda_.Function, region: str | None) -> list[dict[str, Any]]:
    """drs:TerminateRecoveryInstances on recovery instances, and what it needs of EC2: terminating
    instances and deleting volumes in this account and region only."""
    stack = Stack.of(function)
    function.add_to_role_policy(
        iam.PolicyStatement(
            actions=["drs:TerminateRecoveryInstances"], resources=[_drs_arn(stack, region, "recovery-instance")]
        )
    )
    ec2 = [
        stack.format_arn(
            service="ec2",
            region=region or stack.region,
            resource=kind,
            resource_name="*",
            arn_format=ArnFormat.SLASH_RESOURCE_NAME,
        )
        for kind in ("instance", "volume")
    ]
    function.add_to_role_policy(iam.PolicyStatement(actions=EC2_ACTIONS_FOR_TERMINATION, resources=ec2))
    function.add_to_role_policy(iam.PolicyStatement(actions=EC2_READS_FOR_TERMINATION, resources=["*"]))
    return [
        {
            "id": "AwsSolutions-IAM5",
            "reason": "drs:TerminateRecoveryInstances' dependent actions (Service Authorization Reference): DRS "
            "terminates the drill's instances and deletes their volumes with the caller's rights, on this account's "
            "instances and volumes in the configured region (made per launch, so no ARN names them in advance); the "
            "clean-up code itself terminates only instances this drill's jobs launched; ec2:DescribeInstances and "
            "ec2:DescribeVolumes support no resource-level permissions",
            "appliesTo": [
                "Resource::*",
                {"regex": "/^Resource::arn:<AWS::Partition>:ec2:.*:(instance|volume)/\\*$/g"},
            ],
        },
        {
            "id": "AwsSolutions-IAM5",
            "reason": "drs:TerminateRecoveryInstances acts on this account's DRS recovery instances in the configured "
            "region; they are made per launch",
            "appliesTo": [{"regex": "/^Resource::arn:<AWS::Partition>:drs:.*:recovery-instance/\\*$/g"}],
        },
    ]
