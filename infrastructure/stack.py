"""The DR Autopilot stack: it composes constructs and nothing else."""

from __future__ import annotations

from typing import Any

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct
from dr_autopilot.config import FailoverConfig

from infrastructure.constructs.functions import WorkflowFunctions
from infrastructure.constructs.monitoring import Monitoring
from infrastructure.constructs.notifications import Notifications
from infrastructure.constructs.trigger import AlarmTrigger
from infrastructure.constructs.workflow import FailoverWorkflow


class DrAutopilotStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: FailoverConfig, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        assert config.cloudendure is not None
        api_token = secretsmanager.Secret.from_secret_name_v2(
            self, "ApiToken", config.cloudendure.api_token_secret_name
        )
        notifications = Notifications(self, "Notifications", config=config.notifications)
        idempotency_table = dynamodb.Table(
            self,
            "IdempotencyTable",
            partition_key=dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            time_to_live_attribute="expiration",
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            removal_policy=RemovalPolicy.DESTROY,
        )
        lock_table = dynamodb.Table(
            self,
            "FailoverLockTable",
            partition_key=dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            removal_policy=RemovalPolicy.DESTROY,
        )
        functions = WorkflowFunctions(
            self,
            "Functions",
            config=config,
            api_token=api_token,
            topic=notifications.topic,
            idempotency_table=idempotency_table,
            lock_table=lock_table,
        )
        self.workflow = FailoverWorkflow(self, "Failover", config=config, functions=functions)
        self.topic = notifications.topic
        self.trigger = (
            AlarmTrigger(self, "AlarmTrigger", config=config.trigger, state_machine=self.workflow.state_machine)
            if config.trigger is not None
            else None
        )
        Monitoring(self, "Monitoring", state_machine=self.workflow.state_machine, topic=notifications.topic)
