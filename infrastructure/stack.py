"""The DR Autopilot stack: it composes constructs and nothing else."""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct
from dr_autopilot.config import FailoverConfig

from infrastructure.constructs.functions import WorkflowFunctions
from infrastructure.constructs.monitoring import Monitoring
from infrastructure.constructs.notifications import Notifications
from infrastructure.constructs.readiness import ReadinessCheck
from infrastructure.constructs.tables import FailoverTables
from infrastructure.constructs.trigger import AlarmTrigger
from infrastructure.constructs.workflow import FailoverWorkflow


class DrAutopilotStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: FailoverConfig, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        # CloudEndure's API token lives in Secrets Manager; DRS needs none (its calls are IAM-signed).
        api_token = (
            secretsmanager.Secret.from_secret_name_v2(self, "ApiToken", config.cloudendure.api_token_secret_name)
            if config.provider == "cloudendure" and config.cloudendure is not None
            else None
        )
        notifications = Notifications(self, "Notifications", config=config.notifications)
        tables = FailoverTables(self, "Tables")
        functions = WorkflowFunctions(
            self,
            "Functions",
            config=config,
            api_token=api_token,
            topic=notifications.topic,
            idempotency_table=tables.idempotency,
            lock_table=tables.lock,
        )
        self.workflow = FailoverWorkflow(self, "Failover", config=config, functions=functions)
        self.topic = notifications.topic
        self.trigger = (
            AlarmTrigger(
                self,
                "AlarmTrigger",
                config=config.trigger,
                state_machine=self.workflow.state_machine,
                topic=notifications.topic,
            )
            if config.trigger is not None
            else None
        )
        self.readiness = (
            ReadinessCheck(
                self,
                "Readiness",
                config=config.readiness,
                state_machine=self.workflow.state_machine,
                topic=notifications.topic,
            )
            if config.readiness.enabled
            else None
        )
        Monitoring(
            self,
            "Monitoring",
            state_machine=self.workflow.state_machine,
            topic=notifications.topic,
            readiness=self.readiness,
        )
