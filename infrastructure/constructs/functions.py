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
from cdk_nag import NagSuppressions
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
        lock_table: dynamodb.ITable,
    ) -> None:
        super().__init__(scope, construct_id)
        self._code = lambda_code()
        self._environment = {
            "DR_AUTOPILOT_CONFIG": config.to_environment(),
            "POWERTOOLS_SERVICE_NAME": SERVICE,
            "POWERTOOLS_METRICS_NAMESPACE": NAMESPACE,
            "POWERTOOLS_LOG_LEVEL": "INFO",
        }
        notify = {"NOTIFICATION_TOPIC_ARN": topic.topic_arn}
        lock = {"LOCK_TABLE_NAME": lock_table.table_name}
        health_timeout = int(config.health_check.timeout_seconds) + 15

        self.validate_input = self._function("ValidateInput", "validate_input")
        self.acquire_lock = self._function("AcquireLock", "acquire_lock", environment={**notify, **lock})
        self.request_approval = self._function("RequestApproval", "request_approval", environment=notify)
        self.check_replication = self._function(
            "CheckReplication", "check_replication", timeout=120, environment=notify
        )
        self.choose_recovery_point = self._function("ChooseRecoveryPoint", "choose_recovery_point", timeout=300)
        self.launch_recovery = self._function(
            "LaunchRecovery",
            "launch_recovery",
            timeout=300,
            environment={**notify, "IDEMPOTENCY_TABLE_NAME": idempotency_table.table_name},
        )
        self.poll_job = self._function("PollJob", "poll_job", timeout=60, environment=notify)
        self.find_targets = self._function("FindTargets", "find_targets", timeout=120)
        self.health_check = self._function("HealthCheck", "health_check", timeout=health_timeout, environment=notify)
        self.update_dns = self._function(
            "UpdateDns", "update_dns", timeout=config.dns.insync_timeout_seconds + 60, environment=notify
        )
        self.report_success = self._function("ReportSuccess", "report_success", environment={**notify, **lock})
        self.report_failure = self._function("ReportFailure", "report_failure", environment={**notify, **lock})

        for function in (
            self.check_replication,
            self.choose_recovery_point,
            self.launch_recovery,
            self.poll_job,
            self.find_targets,
        ):
            api_token.grant_read(function)
        idempotency_table.grant_read_write_data(self.launch_recovery)
        for function in (self.acquire_lock, self.report_success, self.report_failure):
            lock_table.grant_read_write_data(function)
        for function in (
            self.acquire_lock,
            self.request_approval,
            self.check_replication,
            self.launch_recovery,
            self.poll_job,
            self.health_check,
            self.update_dns,
            self.report_success,
            self.report_failure,
        ):
            topic.grant_publish(function)
        # EC2 DescribeInstances supports no resource-level scoping; it only reads.
        self.find_targets.add_to_role_policy(iam.PolicyStatement(actions=["ec2:DescribeInstances"], resources=["*"]))
        self._grant_dns(config)
        self._acknowledge_findings()

    def _acknowledge_findings(self) -> None:
        """cdk-nag findings that stay, each with the reason it is acceptable for that role."""
        functions = [
            self.validate_input,
            self.acquire_lock,
            self.request_approval,
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
        for function in functions:
            assert function.role is not None
            wildcard_reason = (
                "Resource '*' is only for xray:PutTraceSegments and xray:PutTelemetryRecords (active tracing), "
                "which support no resource-level permissions"
            )
            if function is self.find_targets:
                wildcard_reason += "; and ec2:DescribeInstances (read-only address lookup of the recovered instance), which supports none either"
            suppressions = [
                {
                    "id": "AwsSolutions-IAM4",
                    "reason": "AWSLambdaBasicExecutionRole grants only logs:CreateLogGroup/CreateLogStream/PutLogEvents for the "
                    "function's own logging; it carries no data access",
                    "appliesTo": [
                        "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
                    ],
                },
                {"id": "AwsSolutions-IAM5", "reason": wildcard_reason, "appliesTo": ["Resource::*"]},
            ]
            if function is self.update_dns:
                suppressions.append(
                    {
                        "id": "AwsSolutions-IAM5",
                        "reason": "route53:GetChange reads the status of the change UpdateDns just made; change ids are "
                        "generated per request, so the ARN cannot name them in advance",
                        "appliesTo": ["Resource::arn:<AWS::Partition>:route53:::change/*"],
                    }
                )
            NagSuppressions.add_resource_suppressions(function.role, suppressions, apply_to_children=True)

    def _grant_dns(self, config: FailoverConfig) -> None:
        """UpdateDns may only UPSERT the configured record names and type in the one zone."""
        stack = Stack.of(self)
        zone_arn = stack.format_arn(
            service="route53", region="", account="", resource="hostedzone", resource_name=config.dns.hosted_zone_id
        )
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
        change_arn = stack.format_arn(service="route53", region="", account="", resource="change", resource_name="*")
        self.update_dns.add_to_role_policy(iam.PolicyStatement(actions=["route53:GetChange"], resources=[change_arn]))

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
