"""Continuous readiness: an EventBridge Scheduler schedule starts a readiness dry run every
`readiness.rateMinutes`, and two alarms tell on-call when a recovery would be refused.

The run takes no lock and launches nothing (a dry run), so it never blocks or delays a failover.
Its functions emit `FailoverReady` (1/0), `ReadyMachines` and `MaxReplicationLagSeconds`; its
one final message names the reason when it is not ready.

- FailoverNotReady: the last verdict was 0. Missing data keeps the alarm where it is: between
  two runs there is nothing new to say.
- ReadinessNotReported: no verdict for two rates (the schedule stopped or was deleted, runs fail
  to start or end without a verdict): the site's readiness is unknown, which on-call must hear.
"""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as scheduler_targets
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct
from dr_autopilot.config import ReadinessConfig
from dr_autopilot.models import FailoverInput
from dr_autopilot.observability import NAMESPACE, SERVICE, ReadinessMetric

READINESS_REQUESTED_BY = "readiness-schedule"


def readiness_input(config: ReadinessConfig) -> dict[str, object]:
    """The execution input the schedule sends: a readiness dry run of a recovery, validated by the
    same model ValidateInput uses (a schedule that could only start refused runs fails synth)."""
    return FailoverInput(
        dry_run=True,
        readiness=True,
        requested_by=READINESS_REQUESTED_BY,
        reason=f"continuous readiness: every {config.rate_minutes} minutes",
    ).to_execution_input()


class ReadinessCheck(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: ReadinessConfig,
        state_machine: sfn.IStateMachine,
        topic: sns.ITopic,
    ) -> None:
        super().__init__(scope, construct_id)
        self.rate = Duration.minutes(config.rate_minutes)
        stack = Stack.of(self)
        # Only EventBridge Scheduler of this account, for schedules of its default group, may
        # assume the role; the role may only start this one state machine.
        self.role = iam.Role(
            self,
            "ScheduleRole",
            description="EventBridge Scheduler starts the DR Autopilot readiness dry run",
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com",
                conditions={
                    "StringEquals": {
                        "aws:SourceAccount": stack.account,
                        "aws:SourceArn": stack.format_arn(
                            service="scheduler", resource="schedule-group", resource_name="default"
                        ),
                    }
                },
            ),
        )
        self.schedule = scheduler.Schedule(
            self,
            "Schedule",
            description=f"DR Autopilot continuous readiness: a dry run of a recovery every {config.rate_minutes} min",
            schedule=scheduler.ScheduleExpression.rate(self.rate),
            target=scheduler_targets.StepFunctionsStartExecution(
                state_machine,
                input=scheduler.ScheduleTargetInput.from_object(readiness_input(config)),
                role=self.role,
                # A run that could not be started is the next rate's to make; ReadinessNotReported
                # says so if that keeps happening. No dead-letter queue: nothing there to act on.
                retry_attempts=2,
                max_event_age=Duration.minutes(min(config.rate_minutes, 60)),
            ),
        )
        self.metrics = {
            name: self.metric(name, statistic)
            for name, statistic in (
                (ReadinessMetric.FAILOVER_READY, "Minimum"),
                (ReadinessMetric.READY_MACHINES, "Minimum"),
                (ReadinessMetric.MAX_REPLICATION_LAG, "Maximum"),
            )
        }
        self.not_ready = cloudwatch.Alarm(
            self,
            "FailoverNotReady",
            alarm_description="DR Autopilot readiness: a recovery started now would be refused. The readiness run's "
            "message ('[DR Autopilot] recovery not ready') and `dr-autopilot status` name the reason, such as the "
            "machine that lags and its lag.",
            metric=self.metrics[ReadinessMetric.FAILOVER_READY],
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.IGNORE,
        )
        self.not_reported = cloudwatch.Alarm(
            self,
            "ReadinessNotReported",
            alarm_description=f"DR Autopilot readiness: no verdict for {2 * config.rate_minutes} minutes. The "
            "schedule may be disabled, or its runs fail to start or end without a verdict (see the state machine's "
            "executions): whether a recovery would be accepted is unknown.",
            metric=self.metric(ReadinessMetric.FAILOVER_READY, "SampleCount", periods=2),
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
        )
        for alarm in (self.not_ready, self.not_reported):
            alarm.add_alarm_action(actions.SnsAction(topic))
            alarm.add_ok_action(actions.SnsAction(topic))  # back to ready: on-call may stand down

    def metric(self, name: ReadinessMetric, statistic: str, periods: int = 1) -> cloudwatch.Metric:
        """A readiness metric over `periods` rates (one run per rate)."""
        return cloudwatch.Metric(
            namespace=NAMESPACE,
            metric_name=name,
            dimensions_map={"service": SERVICE},
            statistic=statistic,
            period=Duration.minutes(self.rate.to_minutes() * periods),
        )
