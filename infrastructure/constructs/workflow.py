"""The failover state machine (Standard, JSONPath).

ValidateInput -> AcquireLock -> [WaitForApproval] -> CheckReplication -> ChooseRecoveryPoint -> DryRun? -> LaunchRecovery
-> PollJob <-> WaitForJob -> FindTargets -> HealthCheck <-> WaitForHealth -> UpdateDns
-> ReportSuccess. Any failure after the input is accepted: ReportFailure -> FailoverFailed.

Waits come from the data (`$.job.waitSeconds`, `$.health.waitSeconds`), so the loops are
adaptive and a local drill can run them short; every loop has a bound enforced by its Lambda
(job timeout, health-check attempts) and the whole execution has a timeout.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from cdk_nag import NagSuppressions
from constructs import Construct
from dr_autopilot.config import FailoverConfig

from infrastructure.constructs.functions import WorkflowFunctions

# Errors that mean "the provider or AWS had a bad moment": worth retrying the step.
# Every step is safe to repeat: reads are reads, the launch is idempotent per execution and the
# DNS change is an UPSERT. Sandbox.Timedout / Lambda.Unknown: the function timed out or crashed.
TRANSIENT = ["ServiceUnavailable", "Sandbox.Timedout", "Lambda.Unknown"]
DNS_PENDING = ["DnsChangePending", "DnsThrottled"]


class FailoverWorkflow(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, config: FailoverConfig, functions: WorkflowFunctions
    ) -> None:
        super().__init__(scope, construct_id)
        self._functions = functions

        input_rejected = sfn.Fail(self, "InputRejected", error_path="$.Error", cause_path="$.Cause")
        failed = sfn.Fail(self, "FailoverFailed", error_path="$.error.Error", cause_path="$.summary.headline")
        failed_unreported = sfn.Fail(
            self,
            "FailoverFailedUnreported",
            error_path="$.error.Error",
            cause="The failover failed and the failure notification could not be sent",
        )
        report_failure = self._task("ReportFailure", functions.report_failure, "$.summary")
        report_failure.add_retry(
            errors=["States.TaskFailed"], interval=Duration.seconds(2), max_attempts=3, backoff_rate=2
        )
        report_failure.add_catch(failed_unreported, errors=["States.ALL"], result_path="$.reportError")
        report_failure.next(failed)

        validate_input = tasks.LambdaInvoke(
            self,
            "ValidateInput",
            lambda_function=functions.validate_input,
            payload=sfn.TaskInput.from_object(
                {
                    "input": sfn.JsonPath.object_at("$"),
                    "execution": {
                        "id": sfn.JsonPath.execution_id,
                        "name": sfn.JsonPath.execution_name,
                        "startTime": sfn.JsonPath.execution_start_time,
                    },
                }
            ),
            payload_response_only=True,
            result_selector={"request": sfn.JsonPath.object_at("$")},
            result_path="$",
        )
        # The input may not even be an object, so the error replaces the state instead of joining it.
        validate_input.add_catch(input_rejected, errors=["States.ALL"], result_path="$")

        acquire_lock = self._task("AcquireLock", functions.acquire_lock, "$.lock", report_failure)
        deduplicated = sfn.Succeed(
            self, "Deduplicated", comment="Another failover holds the lock: this alarm was recorded, nothing launched"
        )
        in_progress = sfn.Fail(self, "FailoverInProgress", error="FailoverInProgress", cause_path="$.lock.detail")
        check_replication = self._task("CheckReplication", functions.check_replication, "$.replication", report_failure)
        choose_point = self._task(
            "ChooseRecoveryPoint", functions.choose_recovery_point, "$.recoveryPoint", report_failure
        )
        launch = self._task("LaunchRecovery", functions.launch_recovery, "$.launch", report_failure)
        poll = self._task("PollJob", functions.poll_job, "$.job", report_failure)
        find_targets = self._task("FindTargets", functions.find_targets, "$.target", report_failure)
        health_check = self._task("HealthCheck", functions.health_check, "$.health", report_failure)
        update_dns = self._task("UpdateDns", functions.update_dns, "$.dns", report_failure)
        update_dns.add_retry(errors=DNS_PENDING, interval=Duration.seconds(5), max_attempts=3, backoff_rate=2)
        report_success = self._task("ReportSuccess", functions.report_success, "$.summary", report_failure)
        succeeded = sfn.Succeed(self, "FailoverSucceeded", output_path="$.summary")

        wait_for_job = sfn.Wait(self, "WaitForJob", time=sfn.WaitTime.seconds_path("$.job.waitSeconds"))
        wait_for_health = sfn.Wait(self, "WaitForHealth", time=sfn.WaitTime.seconds_path("$.health.waitSeconds"))
        job_done = (
            sfn.Choice(self, "JobCompleted?")
            .when(sfn.Condition.string_equals("$.job.status", "COMPLETED"), find_targets)
            .otherwise(wait_for_job)
        )
        wait_for_job.next(poll)
        healthy = (
            sfn.Choice(self, "TargetHealthy?")
            .when(sfn.Condition.boolean_equals("$.health.healthy", True), update_dns)
            .otherwise(wait_for_health)
        )
        wait_for_health.next(health_check)
        dry_run = (
            sfn.Choice(self, "DryRun?")
            .when(sfn.Condition.boolean_equals("$.request.dryRun", True), report_success)
            .otherwise(launch)
        )

        lock_taken = (
            sfn.Choice(self, "LockAcquired?")
            .when(
                sfn.Condition.boolean_equals("$.lock.acquired", True),
                self._approval_gate(config, check_replication, report_failure),
            )
            .when(sfn.Condition.string_equals("$.request.trigger", "alarm"), deduplicated)
            .otherwise(in_progress)
        )
        definition = validate_input.next(acquire_lock).next(lock_taken)
        check_replication.next(choose_point).next(dry_run)
        launch.next(poll)
        poll.next(job_done)
        find_targets.next(health_check)
        health_check.next(healthy)
        update_dns.next(report_success)
        report_success.next(succeeded)

        self.log_group = logs.LogGroup(
            self, "ExecutionLogs", retention=logs.RetentionDays.THREE_MONTHS, removal_policy=RemovalPolicy.DESTROY
        )
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            comment="DR Autopilot: automated failover to the recovered site",
            definition_body=sfn.DefinitionBody.from_chainable(definition),
            state_machine_type=sfn.StateMachineType.STANDARD,
            timeout=Duration.seconds(config.workflow_timeout_seconds),
            tracing_enabled=True,
            logs=sfn.LogOptions(destination=self.log_group, level=sfn.LogLevel.ALL, include_execution_data=True),
        )
        NagSuppressions.add_resource_suppressions(
            self.state_machine.role,
            [
                {
                    "id": "AwsSolutions-IAM5",
                    "reason": "The state machine invokes only this workflow's own functions; '<function ARN>:*' is how "
                    "Step Functions grants invoking their versions and aliases",
                    "appliesTo": [{"regex": "/^Resource::<Functions[A-Za-z0-9]+\\.Arn>:\\*$/g"}],
                },
                {
                    "id": "AwsSolutions-IAM5",
                    "reason": "Resource '*' is only for X-Ray tracing (xray:PutTraceSegments/PutTelemetryRecords/GetSampling*) "
                    "and CloudWatch Logs vended delivery (logs:*LogDelivery*, PutResourcePolicy, Describe*), which support "
                    "no resource-level permissions",
                    "appliesTo": ["Resource::*"],
                },
            ],
            apply_to_children=True,
        )

    def _approval_gate(
        self, config: FailoverConfig, proceed: sfn.IChainable, report_failure: sfn.IChainable
    ) -> sfn.IChainable:
        """Alarm-started runs wait for on-call approval when `trigger.approval` is `approve`."""
        trigger = config.trigger
        if trigger is None or trigger.approval == "auto":
            return proceed
        wait_for_approval = tasks.LambdaInvoke(
            self,
            "WaitForApproval",
            lambda_function=self._functions.request_approval,
            integration_pattern=sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
            payload=sfn.TaskInput.from_object(
                {"taskToken": sfn.JsonPath.task_token, "state": sfn.JsonPath.object_at("$")}
            ),
            task_timeout=sfn.Timeout.duration(Duration.seconds(trigger.approval_timeout_seconds)),
            result_path="$.approval",
        )
        if trigger.on_approval_timeout == "proceed":
            on_timeout: sfn.IChainable = sfn.Pass(
                self,
                "ApprovalTimedOutProceeding",
                result=sfn.Result.from_object({"decision": "proceed after timeout"}),
                result_path="$.approval",
            ).next(proceed)
        else:
            on_timeout = sfn.Pass(
                self,
                "ApprovalTimedOut",
                result=sfn.Result.from_object(
                    {
                        "Error": "ApprovalTimedOut",
                        "Cause": f"nobody approved within {trigger.approval_timeout_seconds} s; aborted as configured",
                    }
                ),
                result_path="$.error",
            ).next(report_failure)
        wait_for_approval.add_catch(on_timeout, errors=["States.Timeout"], result_path="$.timeout")
        wait_for_approval.add_catch(report_failure, errors=["States.ALL"], result_path="$.error")
        return (
            sfn.Choice(self, "ApprovalRequired?")
            .when(sfn.Condition.boolean_equals("$.lock.approvalRequired", True), wait_for_approval.next(proceed))
            .otherwise(proceed)
        )

    def _task(
        self,
        state: str,
        function: object,
        result_path: str,
        on_failure: sfn.IChainable | None = None,
        retry_transient: bool = True,
    ) -> tasks.LambdaInvoke:
        task = tasks.LambdaInvoke(
            self,
            state,
            lambda_function=function,
            payload_response_only=True,
            result_path=result_path,
        )
        if retry_transient:
            task.add_retry(
                errors=TRANSIENT,
                interval=Duration.seconds(3),
                max_attempts=3,
                backoff_rate=2,
                jitter_strategy=sfn.JitterType.FULL,
            )
        if on_failure is not None:
            task.add_catch(on_failure, errors=["States.ALL"], result_path="$.error")
        return task
