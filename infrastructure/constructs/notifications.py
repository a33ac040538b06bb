"""The notification topic on-call staff subscribe to, and the key that encrypts it.

Every producer must be able to publish: the functions (through their grants), this account's
CloudWatch alarms (the failed-executions and dead-letter alarms) and EventBridge rules. The
AWS-managed key `alias/aws/sns` cannot admit the CloudWatch and EventBridge services, so the
topic has its own key, rotated yearly, whose policy admits exactly those two services of this
account, as does the topic policy."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct
from dr_autopilot.config import NotificationConfig

# Service principal -> the ARNs of its resources in this account that may publish (aws:SourceArn)
PRODUCERS = {"cloudwatch.amazonaws.com": "alarm:*", "events.amazonaws.com": "rule/*"}


class Notifications(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: NotificationConfig) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.key = kms.Key(
            self,
            "TopicKey",
            description="DR Autopilot: encrypts the notification topic",
            enable_key_rotation=True,
        )
        self.topic = sns.Topic(self, "Topic", display_name="DR Autopilot", master_key=self.key, enforce_ssl=True)
        for service, resource in PRODUCERS.items():
            source = {
                "StringEquals": {"aws:SourceAccount": stack.account},
                "ArnLike": {
                    "aws:SourceArn": f"arn:{stack.partition}:{service.split('.')[0]}:{stack.region}:{stack.account}:{resource}"
                },
            }
            self.key.add_to_resource_policy(
                iam.PolicyStatement(
                    principals=[iam.ServicePrincipal(service)],
                    actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                    resources=["*"],  # in a key policy, "*" is this key
                    conditions=source,
                )
            )
            self.topic.add_to_resource_policy(
                iam.PolicyStatement(
                    principals=[iam.ServicePrincipal(service)],
                    actions=["sns:Publish"],
                    resources=[self.topic.topic_arn],
                    conditions=source,
                )
            )
        for email in config.emails:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))
