"""The failover state machine (Standard, JSONPath).

ValidateInput -> AcquireLock -> [WaitForApproval] -> CheckReplication -> ChooseRecoveryPoint -> CheckDnsRecord
-> DryRun? -> LaunchRecovery
-> PollJob <-> WaitForJob -> FindTargets -> HealthCheck <-> WaitForHealth -> UpdateDns
-> ReportSuccess. Any failure after the input is accepted: ReportFailure -> FailoverFailed (a
readiness run's refused check: ReportFailure -> SiteNotReady, a verdict and not a failure).

Every state is named from `dr_autopilot.states.StateName`, and every task's function and result
path come from the state table. Waits come from the data (`$.job.waitSeconds`,
`$.health.waitSeconds`), so the loops are adaptive and a local drill can run them short; every
loop has a bound enforced by its Lambda (job timeout, health-check attempts) and the whole
execution has a timeout.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from cdk_nag import NagSuppressions
from constructs import Construct
from dr_autopilot.config import ConfigError, FailoverConfig
from dr_autopilot.errors import (
    ApprovalTimedOut,
    CleanupPending,
    DnsChangePending,
    DnsThrottled,
    FinalMessageInFlight,
    LaunchInProgress,
    NotificationFailed,
    ServiceUnavailable,
)
from dr_autopilot.models import NOT_READY, Mode
from dr_autopilot.states import TASK_BY_STATE, StateName, Watcher

from infrastructure.constructs.functions import WorkflowFunctions
from infrastructure.names import state_machine_name

# Errors that mean "the provider or AWS had a bad moment": worth retrying the step.
# Every step is safe to repeat: reads are reads, the launch is idempotent per execution and the
# DNS change is an UPSERT. Sandbox.Timedout / Lambda.Unknown: the function timed out or crashed.
TRANSIENT = [ServiceUnavailable.__name__, "Sandbox.Timedout", "Lambda.Unknown"]
DNS_PENDING = [DnsChangePending.__name__, DnsThrottled.__name__]
# Lambda refused to start the function (concurrency or rate limit): nothing ran, so any task may
# simply be invoked again, with back-off and jitter so that retries of a storm spread out.
THROTTLED = ["Lambda.TooManyRequestsException"]
# Steps after the launch, which wait longer for a provider that keeps failing: two read only,
# and a drill's clean-up, which terminates nothing twice.
PATIENT_READS = (StateName.POLL_JOB, StateName.FIND_TARGETS, StateName.CLEAN_UP_DRILL)


class FailoverWorkflow(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, config: FailoverConfig, functions: WorkflowFunctions
    ) -> None:
        super().__init__(scope, construct_id)
        self._config = config
        self._functions = functions
        self._report_failure = self._failure_path()

        check_replication = self._task(StateName.CHECK_REPLICATION)
        check_replication.next(self._task(StateName.CHOOSE_RECOVERY_POINT)).next(
            self._task(StateName.CHECK_DNS_RECORD)
        ).next(self._dry_run_or_launch())
        definition = (
            self._validate_input()
            .next(self._task(StateName.ACQUIRE_LOCK))
            .next(self._lock_decision(self._approval_gate(check_replication)))
        )

        # Under /aws/vendedlogs/: Step Functions delivers logs through CloudWatch Logs' vended
        # delivery, whose resource policy has a size limit that other prefixes fill in busy accounts.
        self.log_group = logs.LogGroup(
            self,
            "ExecutionLogs",
            log_group_name=f"/aws/vendedlogs/states/{Stack.of(self).stack_name}-failover",
            retention=logs.RetentionDays.THREE_MONTHS,
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            state_machine_name=state_machine_name(Stack.of(self)),
            comment="DR Autopilot: automated failover to the recovered site",
            definition_body=sfn.DefinitionBody.from_chainable(definition),
            state_machine_type=sfn.StateMachineType.STANDARD,
            timeout=Duration.seconds(config.workflow_timeout_seconds),
            tracing_enabled=True,
            logs=sfn.LogOptions(destination=self.log_group, level=sfn.LogLevel.ALL, include_execution_data=True),
        )
        self._report_every_end()
        self._acknowledge_findings()

    def _report_every_end(self) -> None:
        """Every end the workflow cannot report itself (timed out, aborted, failed before or while
        reporting) reaches ReportEnd through Step Functions' status-change events."""
        report_end = self._functions[Watcher.REPORT_END]
        self.end_rule = events.Rule(
            self,
            "ExecutionEnded",
            description="Give every DR Autopilot execution that ended without its report one final message",
            event_pattern=events.EventPattern(
                source=["aws.states"],
                detail_type=["Step Functions Execution Status Change"],
                detail={
                    "stateMachineArn": [self.state_machine.state_machine_arn],
                    "status": ["FAILED", "TIMED_OUT", "ABORTED"],
                },
            ),
        )
        self.end_rule.add_target(targets.LambdaFunction(report_end, retry_attempts=8, max_event_age=Duration.hours(2)))

    # ------------------------------------------------------------------------------ the path
    def _validate_input(self) -> tasks.LambdaInvoke:
        """The first task: its input is the execution's input plus its id, name and start time."""
        validate_input = tasks.LambdaInvoke(
            self,
            StateName.VALIDATE_INPUT,
            lambda_function=self._functions[StateName.VALIDATE_INPUT],
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
            result_selector={TASK_BY_STATE[StateName.VALIDATE_INPUT].result_key: sfn.JsonPath.object_at("$")},
            result_path="$",
        )
        self._retry_throttled(validate_input)
        # The input may not even be an object, so the error replaces the state instead of joining it.
        input_rejected = sfn.Fail(self, StateName.INPUT_REJECTED, error_path="$.Error", cause_path="$.Cause")
        validate_input.add_catch(input_rejected, errors=["States.ALL"], result_path="$")
        return validate_input

    def _lock_decision(self, proceed: sfn.IChainable) -> sfn.Choice:
        """Go on with the lock; an alarm that finds it taken is a duplicate, a console start is refused."""
        deduplicated = sfn.Succeed(
            self,
            StateName.DEDUPLICATED,
            comment="Another failover holds the lock: this alarm was recorded, nothing launched",
        )
        # The Fail state's error is its own name: what `dr-autopilot watch` and the console show.
        in_progress = sfn.Fail(
            self, StateName.FAILOVER_IN_PROGRESS, error=StateName.FAILOVER_IN_PROGRESS, cause_path="$.lock.detail"
        )
        return (
            sfn.Choice(self, StateName.LOCK_ACQUIRED)
            .when(sfn.Condition.boolean_equals("$.lock.acquired", True), proceed)
            .when(sfn.Condition.string_equals("$.request.trigger", "alarm"), deduplicated)
            .otherwise(in_progress)
        )

    def _approval_gate(self, proceed: sfn.IChainable) -> sfn.IChainable:
        """Alarm-started runs wait for on-call approval when `trigger.approval` is `approve`."""
        trigger = self._config.trigger
        if trigger is None or trigger.approval == "auto":
            return proceed
        wait_for_approval = tasks.LambdaInvoke(
            self,
            StateName.WAIT_FOR_APPROVAL,
            lambda_function=self._functions[StateName.WAIT_FOR_APPROVAL],
            integration_pattern=sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
            payload=sfn.TaskInput.from_object(
                {"taskToken": sfn.JsonPath.task_token, "state": sfn.JsonPath.object_at("$")}
            ),
            task_timeout=sfn.Timeout.duration(Duration.seconds(trigger.approval_timeout_seconds)),
            result_path=TASK_BY_STATE[StateName.WAIT_FOR_APPROVAL].result_path,
        )
        self._retry_throttled(wait_for_approval)
        if trigger.on_approval_timeout == "proceed":
            on_timeout: sfn.IChainable = sfn.Pass(
                self,
                StateName.APPROVAL_TIMED_OUT_PROCEEDING,
                result=sfn.Result.from_object({"decision": "proceed after timeout"}),
                result_path=TASK_BY_STATE[StateName.WAIT_FOR_APPROVAL].result_path,
            ).next(proceed)
        else:
            on_timeout = sfn.Pass(
                self,
                StateName.APPROVAL_TIMED_OUT,
                result=sfn.Result.from_object(
                    {
                        "Error": ApprovalTimedOut.__name__,
                        "Cause": f"nobody approved within {trigger.approval_timeout_seconds} s; aborted as configured",
                    }
                ),
                result_path="$.error",
            ).next(self._report_failure)
        wait_for_approval.add_catch(on_timeout, errors=["States.Timeout"], result_path="$.timeout")
        wait_for_approval.add_catch(self._report_failure, errors=["States.ALL"], result_path="$.error")
        return (
            sfn.Choice(self, StateName.APPROVAL_REQUIRED)
            .when(sfn.Condition.boolean_equals("$.lock.approvalRequired", True), wait_for_approval.next(proceed))
            .otherwise(proceed)
        )

    def _dry_run_or_launch(self) -> sfn.Choice:
        """A dry run ends after the checks; a real run launches and follows the job to DNS."""
        report_success = self._task(StateName.REPORT_SUCCESS)
        # The summary is the message that matters: a passing SNS error must not turn a finished
        # failover into FAILED (releasing the lock again and repeating the message are harmless).
        report_success.add_retry(
            errors=[NotificationFailed.__name__], interval=Duration.seconds(2), max_attempts=3, backoff_rate=2
        )
        self._retry_final_message_in_flight(report_success)
        report_success.next(sfn.Succeed(self, StateName.FAILOVER_SUCCEEDED, output_path="$.summary"))
        update_dns = self._task(StateName.UPDATE_DNS)
        update_dns.add_retry(errors=DNS_PENDING, interval=Duration.seconds(5), max_attempts=3, backoff_rate=2)
        update_dns.next(self._drill_clean_up(then=report_success))
        launch = self._task(StateName.LAUNCH_RECOVERY)
        # An attempt that died after launching leaves Powertools' in-progress record for its
        # function's timeout (300 s): 30 + 45 + 68 + 101 + 152 s outlast it, and the next attempt
        # adopts the job that one started.
        launch.add_retry(
            errors=[LaunchInProgress.__name__], interval=Duration.seconds(30), max_attempts=6, backoff_rate=1.5
        )
        find_targets = self._task(StateName.FIND_TARGETS)
        find_targets.next(self._health_loop(then=update_dns))
        # A recovery plan: after each wave's job, its check; then the next wave or FindTargets.
        after_job = find_targets if self._config.waves is None else self._wave_loop(launch, then=find_targets)
        launch.next(self._job_loop(then=after_job))
        return (
            sfn.Choice(self, StateName.DRY_RUN)
            .when(sfn.Condition.boolean_equals("$.request.dryRun", True), report_success)
            .otherwise(launch)
        )

    def _drill_clean_up(self, then: sfn.IChainable) -> sfn.IChainable:
        """A drill holds its site for `drill.holdMinutes` (or until `dr-autopilot drill-cleanup`),
        then puts the drill record back and terminates its instances; a recovery goes straight on."""
        drill = self._config.drill
        if not drill.clean_up:
            return then
        clean_up = self._task(StateName.CLEAN_UP_DRILL)
        # The instances take minutes to terminate: each attempt waits up to 4 minutes, then
        # 30 + 60 + 120 s between attempts (CLEANUP_SECONDS in the configuration covers them).
        clean_up.add_retry(
            errors=[CleanupPending.__name__], interval=Duration.seconds(30), max_attempts=3, backoff_rate=2
        )
        clean_up.next(then)
        first: sfn.IChainable = clean_up if drill.hold_minutes == 0 else self._hold(drill.hold_minutes, clean_up)
        return (
            sfn.Choice(self, StateName.DRILL_TO_CLEAN_UP)
            .when(sfn.Condition.string_equals("$.request.mode", Mode.DRILL.value), first)
            .otherwise(then)
        )

    def _hold(self, minutes: int, clean_up: sfn.IChainable) -> sfn.IChainable:
        """Wait for a task token (`dr-autopilot drill-cleanup`) or `minutes`; either way, clean up.
        The answer is discarded, whatever someone sends (found by the red team: selecting a field
        of it raised States.Runtime on an answer without it, and a large one exceeds the state's
        size; neither is caught by States.ALL, so the drill would end uncleaned). Who answered
        is in the execution's history (TaskSucceeded)."""
        result_path = TASK_BY_STATE[StateName.HOLD_DRILL].result_path
        hold = tasks.LambdaInvoke(
            self,
            StateName.HOLD_DRILL,
            lambda_function=self._functions[StateName.HOLD_DRILL],
            integration_pattern=sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
            payload=sfn.TaskInput.from_object(
                {"taskToken": sfn.JsonPath.task_token, "state": sfn.JsonPath.object_at("$")}
            ),
            task_timeout=sfn.Timeout.duration(Duration.minutes(minutes)),
            result_path=sfn.JsonPath.DISCARD,
        )
        self._retry_throttled(hold)
        self._retry_transient(hold)
        ended = sfn.Pass(
            self,
            StateName.HOLD_ENDED,
            result=sfn.Result.from_object(
                {"endedBy": "on demand (dr-autopilot drill-cleanup, or a task-token answer)"}
            ),
            result_path=result_path,
        )
        expired = sfn.Pass(
            self,
            StateName.HOLD_EXPIRED,
            result=sfn.Result.from_object({"endedBy": f"the hold's timer ({minutes} min)"}),
            result_path=result_path,
        )
        # The notice could not be sent: clean up now rather than never.
        interrupted = sfn.Pass(
            self,
            StateName.HOLD_INTERRUPTED,
            parameters={
                "endedBy": sfn.JsonPath.format("the hold ended early ({})", sfn.JsonPath.string_at("$.hold.Error"))
            },
            result_path=result_path,
        )
        hold.add_catch(expired, errors=["States.Timeout"], result_path=result_path)
        hold.add_catch(interrupted, errors=["States.ALL"], result_path=result_path)
        for then in (ended, expired, interrupted):
            then.next(clean_up)
        return hold.next(ended)

    def _job_loop(self, then: sfn.IChainable) -> sfn.IChainable:
        """PollJob, and wait $.job.waitSeconds until the job completes (PollJob raises on failure or timeout)."""
        poll = self._task(StateName.POLL_JOB)
        wait = sfn.Wait(self, StateName.WAIT_FOR_JOB, time=sfn.WaitTime.seconds_path("$.job.waitSeconds"))
        wait.next(poll)
        return poll.next(
            sfn.Choice(self, StateName.JOB_COMPLETED)
            .when(sfn.Condition.string_equals("$.job.status", "COMPLETED"), then)
            .otherwise(wait)
        )

    def _wave_loop(self, launch: sfn.IChainable, then: sfn.IChainable) -> sfn.IChainable:
        """CheckWave until the wave's service answers (CheckWave raises after the wave's check
        timeout: the plan stops there); then, after its pause, LaunchRecovery launches the next
        wave, or after the last wave the plan goes on to the webserver."""
        check = self._task(StateName.CHECK_WAVE)
        wait = sfn.Wait(self, StateName.WAIT_FOR_WAVE, time=sfn.WaitTime.seconds_path("$.waveCheck.waitSeconds"))
        wait.next(check)
        pause = sfn.Wait(
            self, StateName.PAUSE_BEFORE_NEXT_WAVE, time=sfn.WaitTime.seconds_path("$.waveCheck.pauseSeconds")
        )
        pause.next(launch)
        more = (
            sfn.Choice(self, StateName.MORE_WAVES)
            .when(sfn.Condition.boolean_equals("$.waveCheck.lastWave", True), then)
            .otherwise(pause)
        )
        return check.next(
            sfn.Choice(self, StateName.WAVE_READY)
            .when(sfn.Condition.boolean_equals("$.waveCheck.ready", True), more)
            .otherwise(wait)
        )

    def _health_loop(self, then: sfn.IChainable) -> sfn.IChainable:
        """HealthCheck, and wait $.health.waitSeconds until healthy (HealthCheck raises after maxAttempts)."""
        health_check = self._task(StateName.HEALTH_CHECK)
        wait = sfn.Wait(self, StateName.WAIT_FOR_HEALTH, time=sfn.WaitTime.seconds_path("$.health.waitSeconds"))
        wait.next(health_check)
        return health_check.next(
            sfn.Choice(self, StateName.TARGET_HEALTHY)
            .when(sfn.Condition.boolean_equals("$.health.healthy", True), then)
            .otherwise(wait)
        )

    # ------------------------------------------------------------------------ failure path
    def _failure_path(self) -> tasks.LambdaInvoke:
        """ReportFailure (retried, since it is the message that matters) -> FailoverFailed; if even
        the report fails, FailoverFailedUnreported says so."""
        failed = sfn.Fail(self, StateName.FAILOVER_FAILED, error_path="$.error.Error", cause_path="$.summary.headline")
        failed_unreported = sfn.Fail(
            self,
            StateName.FAILOVER_FAILED_UNREPORTED,
            error_path="$.error.Error",
            cause="The failover failed and the failure notification could not be sent",
        )
        report_failure = tasks.LambdaInvoke(
            self,
            StateName.REPORT_FAILURE,
            lambda_function=self._functions[StateName.REPORT_FAILURE],
            payload_response_only=True,
            result_path=TASK_BY_STATE[StateName.REPORT_FAILURE].result_path,
        )
        self._retry_throttled(report_failure)
        self._retry_transient(report_failure)
        # A missing setting will be missing on every attempt: do not spend the retries below on it.
        report_failure.add_retry(errors=[ConfigError.__name__], max_attempts=0)
        self._retry_final_message_in_flight(report_failure)
        report_failure.add_retry(
            errors=["States.TaskFailed"], interval=Duration.seconds(2), max_attempts=3, backoff_rate=2
        )
        report_failure.add_catch(failed_unreported, errors=["States.ALL"], result_path="$.reportError")
        # A readiness run whose checks refused a recovery ends with its verdict, not as a failed
        # execution: it did its job, and a FAILED end would also raise the failed-executions alarm
        # every rate. The readiness alarm (FailoverReady) is what tells on-call.
        site_not_ready = sfn.Succeed(
            self,
            StateName.SITE_NOT_READY,
            comment="A readiness run: a recovery now would be refused (the summary says why)",
            output_path="$.summary",
        )
        report_failure.next(
            sfn.Choice(self, StateName.NOT_READY_REPORTED)
            .when(sfn.Condition.string_equals("$.summary.outcome", NOT_READY), site_not_ready)
            .otherwise(failed)
        )
        return report_failure

    @staticmethod
    def _retry_final_message_in_flight(task: tasks.LambdaInvoke) -> None:
        """Another attempt holds the final message's claim, for at most its function's timeout:
        wait it out (10 + 20 + 40 + 80 s outlast the report functions' timeouts)."""
        task.add_retry(
            errors=[FinalMessageInFlight.__name__], interval=Duration.seconds(10), max_attempts=4, backoff_rate=2
        )

    def _task(self, state: StateName) -> tasks.LambdaInvoke:
        """A task of the state table: its function, its result path, transient errors retried with
        backoff and jitter, every other error to ReportFailure."""
        task = tasks.LambdaInvoke(
            self,
            state,
            lambda_function=self._functions[state],
            payload_response_only=True,
            result_path=TASK_BY_STATE[state].result_path,
        )
        self._retry_throttled(task)
        if state in PATIENT_READS:
            self._retry_provider_unavailable_longer(task)
        self._retry_transient(task)
        task.add_catch(self._report_failure, errors=["States.ALL"], result_path="$.error")
        return task

    @staticmethod
    def _retry_throttled(task: tasks.LambdaInvoke) -> None:
        task.add_retry(
            errors=THROTTLED,
            interval=Duration.seconds(2),
            max_attempts=6,
            backoff_rate=2,
            jitter_strategy=sfn.JitterType.FULL,
        )

    @staticmethod
    def _retry_provider_unavailable_longer(task: tasks.LambdaInvoke) -> None:
        """A read-only step after the launch (the job is running, the site is down): a provider
        throttling or failing for minutes must not end the failover. 5 + 10 + 20 + 40 + 80 + 160 s
        (full jitter) before ReportFailure, against the other steps' 3 + 6 + 12 s."""
        task.add_retry(
            errors=[ServiceUnavailable.__name__],
            interval=Duration.seconds(5),
            max_attempts=6,
            backoff_rate=2,
            jitter_strategy=sfn.JitterType.FULL,
        )

    @staticmethod
    def _retry_transient(task: tasks.LambdaInvoke) -> None:
        task.add_retry(
            errors=TRANSIENT,
            interval=Duration.seconds(3),
            max_attempts=3,
            backoff_rate=2,
            jitter_strategy=sfn.JitterType.FULL,
        )

    def _acknowledge_findings(self) -> None:
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
