"""The notification topic on-call staff subscribe to."""

from __future__ import annotations

from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct
from dr_autopilot.config import NotificationConfig


class Notifications(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: NotificationConfig) -> None:
        super().__init__(scope, construct_id)
        self.topic = sns.Topic(
            self,
            "Topic",
            display_name="DR Autopilot",
            master_key=kms.Alias.from_alias_name(self, "SnsManagedKey", "alias/aws/sns"),
            enforce_ssl=True,
        )
        for email in config.emails:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))
