"""The workflow's Lambda functions: one per state, made by one factory, each with only the
permissions its state needs."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from constructs import Construct
from dr_autopilot.config import FailoverConfig
from dr_autopilot.observability import NAMESPACE, SERVICE

from infrastructure.bundling import RUNTIME, lambda_code


class WorkflowFunctions(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: FailoverConfig,
        api_token: secretsmanager.ISecret,
        topic: sns.ITopic,
        idempotency_table: dynamodb.ITable,
    ) -> None:
        super().__init__(scope, construct_id)
        self._config = config
        self._code = lambda_code()
        self._environment = {
            "DR_AUTOPILOT_CONFIG": config.to_environment(),
            "POWERTOOLS_SERVICE_NAME": SERVICE,
            "POWERTOOLS_METRICS_NAMESPACE": NAMESPACE,
            "POWERTOOLS_LOG_LEVEL": "INFO",
        }
        zone_arn = Stack.of(self).format_arn(
            service="route53", region="", account="", resource="hostedzone", resource_name=config.dns.hosted_zone_id
        )

        self.validate_input = self._function("ValidateInput", "validate_input")
        self.check_replication = self._function("CheckReplication", "check_replication", timeout=120)
        self.choose_recovery_point = self._function("ChooseRecoveryPoint", "choose_recovery_point", timeout=300)
        self.launch_recovery = self._function(
            "LaunchRecovery",
            "launch_recovery",
            timeout=300,
            environment={"IDEMPOTENCY_TABLE_NAME": idempotency_table.table_name},
        )
        self.poll_job = self._function("PollJob", "poll_job", timeout=60)
        self.find_targets = self._function("FindTargets", "find_targets", timeout=120)
        self.health_check = self._function(
            "HealthCheck", "health_check", timeout=int(config.health_check.timeout_seconds) + 15
        )
        self.update_dns = self._function("UpdateDns", "update_dns", timeout=config.dns.insync_timeout_seconds + 60)
        self.report_success = self._function(
            "ReportSuccess", "report_success", environment={"NOTIFICATION_TOPIC_ARN": topic.topic_arn}
        )
        self.report_failure = self._function(
            "ReportFailure", "report_failure", environment={"NOTIFICATION_TOPIC_ARN": topic.topic_arn}
        )

        for function in (
            self.check_replication,
            self.choose_recovery_point,
            self.launch_recovery,
            self.poll_job,
            self.find_targets,
        ):
            api_token.grant_read(function)
        idempotency_table.grant_read_write_data(self.launch_recovery)
        topic.grant_publish(self.report_success)
        topic.grant_publish(self.report_failure)
        # EC2 DescribeInstances supports no resource-level scoping; it only reads.
        self.find_targets.add_to_role_policy(iam.PolicyStatement(actions=["ec2:DescribeInstances"], resources=["*"]))
        read_zone = iam.PolicyStatement(actions=["route53:ListResourceRecordSets"], resources=[zone_arn])
        self.update_dns.add_to_role_policy(read_zone)
        self.report_failure.add_to_role_policy(read_zone)
        record_names = [name for name in (config.dns.record_name, config.dns.drill_record_name) if name]
        self.update_dns.add_to_role_policy(
            iam.PolicyStatement(
                actions=["route53:ChangeResourceRecordSets"],
                resources=[zone_arn],
                conditions={
                    "ForAllValues:StringEquals": {
                        "route53:ChangeResourceRecordSetsNormalizedRecordNames": record_names,
                        "route53:ChangeResourceRecordSetsRecordTypes": [config.dns.record_type],
                        "route53:ChangeResourceRecordSetsActions": ["UPSERT"],
                    }
                },
            )
        )
        self.update_dns.add_to_role_policy(
            iam.PolicyStatement(
                actions=["route53:GetChange"],
                resources=[
                    Stack.of(self).format_arn(
                        service="route53", region="", account="", resource="change", resource_name="*"
                    )
                ],
            )
        )

    @property
    def all(self) -> list[lambda_.IFunction]:
        return [
            self.validate_input,
            self.check_replication,
            self.choose_recovery_point,
            self.launch_recovery,
            self.poll_job,
            self.find_targets,
            self.health_check,
            self.update_dns,
            self.report_success,
            self.report_failure,
        ]

    def _function(
        self, state: str, module: str, timeout: int = 30, environment: dict[str, str] | None = None
    ) -> lambda_.Function:
        """The one way this project makes a function: same runtime, code asset, logging and tracing."""
        log_group = logs.LogGroup(
            self, f"{state}Logs", retention=logs.RetentionDays.THREE_MONTHS, removal_policy=RemovalPolicy.DESTROY
        )
        return lambda_.Function(
            self,
            state,
            description=f"DR Autopilot: the {state} state",
            runtime=RUNTIME,
            architecture=lambda_.Architecture.X86_64,
            code=self._code,
            handler=f"dr_autopilot.handlers.{module}.handler",
            memory_size=256,
            timeout=Duration.seconds(timeout),
            environment={**self._environment, **(environment or {})},
            tracing=lambda_.Tracing.ACTIVE,
            logging_format=lambda_.LoggingFormat.JSON,
            log_group=log_group,
        )
