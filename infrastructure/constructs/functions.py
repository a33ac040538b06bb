"""The workflow's Lambda functions: one per task state, made by one factory from the state table
(`dr_autopilot.states.TASKS`), each with exactly the environment and permissions its state needs."""

from __future__ import annotations

from typing import Any

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
from dr_autopilot.environment import (
    POWERTOOLS_LOG_LEVEL,
    POWERTOOLS_METRICS_NAMESPACE,
    POWERTOOLS_SERVICE_NAME,
    Variable,
)
from dr_autopilot.observability import NAMESPACE, SERVICE
from dr_autopilot.states import FUNCTIONS, Need, StateName, TaskSpec, Watcher

from infrastructure.bundling import RUNTIME, lambda_code
from infrastructure.constructs import drs_permissions
from infrastructure.names import execution_arns

XRAY_WILDCARD = (
    "Resource '*' is only for xray:PutTraceSegments and xray:PutTelemetryRecords (active tracing), "
    "which support no resource-level permissions"
)
EC2_WILDCARD = (
    "; and ec2:DescribeInstances (read-only address lookup of the recovered instance), which supports none either"
)
BASIC_EXECUTION_ROLE = "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"


class WorkflowFunctions(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: FailoverConfig,
        api_token: secretsmanager.ISecret | None,
        topic: sns.ITopic,
        idempotency_table: dynamodb.ITable,
        lock_table: dynamodb.ITable,
    ) -> None:
        super().__init__(scope, construct_id)
        self._config = config
        self._code = lambda_code()
        self._values = {
            Variable.TOPIC_ARN: topic.topic_arn,
            Variable.LOCK_TABLE: lock_table.table_name,
            Variable.IDEMPOTENCY_TABLE: idempotency_table.table_name,
        }
        self._zone_arn = Stack.of(self).format_arn(
            service="route53", region="", account="", resource="hostedzone", resource_name=config.dns.hosted_zone_id
        )
        self.by_state: dict[StateName | Watcher, lambda_.Function] = {}
        self._nag_acknowledgements: dict[StateName | Watcher, list[dict[str, Any]]] = {t.state: [] for t in FUNCTIONS}
        for task in FUNCTIONS:
            function = self._function(task)
            self._grant(task, function, api_token, topic, idempotency_table, lock_table)
            self._acknowledge_findings(task, function)
            self.by_state[task.state] = function

    def __getitem__(self, state: StateName | Watcher) -> lambda_.Function:
        return self.by_state[state]

    def _function(self, task: TaskSpec) -> lambda_.Function:
        """The one way this project makes a function: same runtime, code asset, logging and tracing."""
        log_group = logs.LogGroup(
            self, f"{task.state}Logs", retention=logs.RetentionDays.THREE_MONTHS, removal_policy=RemovalPolicy.DESTROY
        )
        environment = {
            Variable.CONFIG.value: self._config.to_environment(),
            POWERTOOLS_SERVICE_NAME: SERVICE,
            POWERTOOLS_METRICS_NAMESPACE: NAMESPACE,
            POWERTOOLS_LOG_LEVEL: "INFO",
            **{variable.value: self._values[variable] for variable in sorted(task.variables)},
        }
        return lambda_.Function(
            self,
            task.state.value,
            description=f"DR Autopilot: the {task.state} state",
            runtime=RUNTIME,
            architecture=lambda_.Architecture.X86_64,
            code=self._code,
            handler=task.handler,
            memory_size=256,
            timeout=Duration.seconds(task.timeout(self._config)),
            environment=environment,
            tracing=lambda_.Tracing.ACTIVE,
            logging_format=lambda_.LoggingFormat.JSON,
            log_group=log_group,
        )

    def _grant(
        self,
        task: TaskSpec,
        function: lambda_.Function,
        api_token: secretsmanager.ISecret | None,
        topic: sns.ITopic,
        idempotency_table: dynamodb.ITable,
        lock_table: dynamodb.ITable,
    ) -> None:
        """Exactly what the state table says the task needs, each as narrow as AWS allows."""
        if Need.PROVIDER in task.needs:
            if api_token is not None:  # CloudEndure: the token is all it needs of AWS
                api_token.grant_read(function)
            if self._config.drs is not None and self._config.provider == "drs":
                self._nag_acknowledgements[task.state] += drs_permissions.grant_read(function)
        if Need.PROVIDER_LAUNCH in task.needs and self._config.drs is not None and self._config.provider == "drs":
            self._nag_acknowledgements[task.state] += drs_permissions.grant_launch(function, self._config.drs.region)
        if Need.PROVIDER_CLEANUP in task.needs and self._config.drs is not None and self._config.provider == "drs":
            self._nag_acknowledgements[task.state] += drs_permissions.grant_terminate(function, self._config.drs.region)
        if Need.TOPIC in task.needs:
            topic.grant_publish(function)
        if Need.LOCK_TABLE in task.needs:
            lock_table.grant_read_write_data(function)
        if Need.IDEMPOTENCY_TABLE in task.needs:
            idempotency_table.grant_read_write_data(function)
        if Need.EC2_READ in task.needs:
            # EC2 DescribeInstances supports no resource-level scoping; it only reads.
            function.add_to_role_policy(iam.PolicyStatement(actions=["ec2:DescribeInstances"], resources=["*"]))
        if Need.DNS_READ in task.needs:
            function.add_to_role_policy(
                iam.PolicyStatement(actions=["route53:ListResourceRecordSets"], resources=[self._zone_arn])
            )
        if Need.ZONE_READ in task.needs:
            function.add_to_role_policy(
                iam.PolicyStatement(actions=["route53:GetHostedZone"], resources=[self._zone_arn])
            )
        if Need.DNS_CHANGE in task.needs:
            self._grant_dns_change(function)
        if Need.DRILL_RECORD_RESTORE in task.needs and self._config.dns.drill_record_name:
            self._grant_drill_record_restore(function)
        # On the failover state machine's executions, named without a reference to the state
        # machine (a function inside it would otherwise make a dependency cycle).
        actions = [
            *(["states:DescribeExecution"] if {Need.EXECUTION_STATUS, Need.HISTORY_READ} & task.needs else []),
            *(["states:GetExecutionHistory"] if Need.HISTORY_READ in task.needs else []),
        ]
        if actions:
            function.add_to_role_policy(
                iam.PolicyStatement(actions=actions, resources=[execution_arns(Stack.of(self))])
            )

    def _grant_dns_change(self, function: lambda_.Function) -> None:
        """UPSERT only the configured record names and type in the one zone, and read its changes."""
        dns = self._config.dns
        self._grant_record_changes(function, [n for n in (dns.record_name, dns.drill_record_name) if n], ["UPSERT"])
        change_arn = Stack.of(self).format_arn(
            service="route53", region="", account="", resource="change", resource_name="*"
        )
        function.add_to_role_policy(iam.PolicyStatement(actions=["route53:GetChange"], resources=[change_arn]))

    def _grant_drill_record_restore(self, function: lambda_.Function) -> None:
        """Delete the drill record (and create its earlier value) in the one zone: nothing else."""
        assert self._config.dns.drill_record_name is not None
        self._grant_record_changes(function, [self._config.dns.drill_record_name], ["DELETE", "CREATE"])

    def _grant_record_changes(self, function: lambda_.Function, names: list[str], actions: list[str]) -> None:
        """route53:ChangeResourceRecordSets in the one zone, only for these record names, the
        configured type and these change actions (IAM's condition keys for Route 53 changes)."""
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["route53:ChangeResourceRecordSets"],
                resources=[self._zone_arn],
                conditions={
                    "ForAllValues:StringEquals": {
                        "route53:ChangeResourceRecordSetsNormalizedRecordNames": names,
                        "route53:ChangeResourceRecordSetsRecordTypes": [self._config.dns.record_type],
                        "route53:ChangeResourceRecordSetsActions": actions,
                    }
                },
            )
        )

    def _acknowledge_findings(self, task: TaskSpec, function: lambda_.Function) -> None:
        """cdk-nag findings that stay, each with the reason it is acceptable for that role."""
        assert function.role is not None
        suppressions: list[dict[str, Any]] = [
            {
                "id": "AwsSolutions-IAM4",
                "reason": "AWSLambdaBasicExecutionRole grants only logs:CreateLogGroup/CreateLogStream/PutLogEvents for "
                "the function's own logging; it carries no data access",
                "appliesTo": [BASIC_EXECUTION_ROLE],
            },
            {
                "id": "AwsSolutions-IAM5",
                "reason": XRAY_WILDCARD + (EC2_WILDCARD if Need.EC2_READ in task.needs else ""),
                "appliesTo": ["Resource::*"],
            },
        ]
        if Need.TOPIC in task.needs:
            suppressions.append(
                {
                    "id": "AwsSolutions-IAM5",
                    "reason": "Publishing to the encrypted topic needs kms:GenerateDataKey* (the data-key variants "
                    "SNS may ask for), granted on the topic's own key only",
                    "appliesTo": ["Action::kms:GenerateDataKey*"],
                }
            )
        if Need.DNS_CHANGE in task.needs:
            suppressions.append(
                {
                    "id": "AwsSolutions-IAM5",
                    "reason": "route53:GetChange reads the status of the change this function just made; change ids "
                    "are generated per request, so the ARN cannot name them in advance",
                    "appliesTo": ["Resource::arn:<AWS::Partition>:route53:::change/*"],
                }
            )
        if {Need.EXECUTION_STATUS, Need.HISTORY_READ} & task.needs:
            suppressions.append(
                {
                    "id": "AwsSolutions-IAM5",
                    "reason": "states:DescribeExecution (and for ReportEnd states:GetExecutionHistory) on the executions "
                    "of this stack's one failover state machine; execution ARNs are made per run, so the ARN ends "
                    "in '<state machine name>:*'",
                    "appliesTo": [{"regex": "/^Resource::arn:<AWS::Partition>:states:.*:execution:.*:\\*$/g"}],
                }
            )
        suppressions += self._nag_acknowledgements[task.state]
        NagSuppressions.add_resource_suppressions(function.role, suppressions, apply_to_children=True)
