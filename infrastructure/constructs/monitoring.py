"""A dashboard of the failover pipeline (and of continuous readiness) and an alarm on failed executions."""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct
from dr_autopilot.observability import NAMESPACE, SERVICE, ReadinessMetric

from infrastructure.constructs.readiness import ReadinessCheck


def _metric(name: str, statistic: str = "Sum") -> cloudwatch.Metric:
    return cloudwatch.Metric(
        namespace=NAMESPACE,
        metric_name=name,
        dimensions_map={"service": SERVICE},
        statistic=statistic,
        period=Duration.minutes(5),
    )


class Monitoring(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        state_machine: sfn.StateMachine,
        topic: sns.ITopic,
        readiness: ReadinessCheck | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        # Every way an execution can end badly, so that none ends unheard of: failed (the workflow
        # also reports those itself), timed out and aborted (it cannot), throttled (never started).
        ends = {
            "FailedExecutions": (state_machine.metric_failed, "failed: read the ReportFailure message"),
            "TimedOutExecutions": (state_machine.metric_timed_out, "timed out: find what it launched in its history"),
            "AbortedExecutions": (state_machine.metric_aborted, "was aborted: find what it launched in its history"),
            "ThrottledExecutions": (state_machine.metric_throttled, "start was throttled: start it again"),
        }
        self.end_alarms: dict[str, cloudwatch.Alarm] = {}
        for name, (metric, what) in ends.items():
            alarm = cloudwatch.Alarm(
                self,
                name,
                alarm_description=f"A DR Autopilot failover execution {what}",
                metric=metric(period=Duration.minutes(1), statistic="Sum"),
                threshold=1,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
            alarm.add_alarm_action(actions.SnsAction(topic))
            self.end_alarms[name] = alarm
        stack = Stack.of(self)
        # Dashboard names are per account, across regions: two copies of the stack must not collide.
        self.dashboard = cloudwatch.Dashboard(self, "Dashboard", dashboard_name=f"{stack.stack_name}-{stack.region}")
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Failover executions",
                left=[state_machine.metric_started(), state_machine.metric_succeeded(), state_machine.metric_failed()],
            ),
            cloudwatch.GraphWidget(
                title="Failovers started / DNS switched / duplicates suppressed",
                left=[_metric("FailoversStarted"), _metric("DnsSwitched"), _metric("DuplicateAlarmsSuppressed")],
            ),
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(title="Replication lag (s)", left=[_metric("ReplicationLagSeconds", "Maximum")]),
            cloudwatch.GraphWidget(
                title="Job duration and RTO (s)",
                left=[_metric("JobDurationSeconds", "Maximum"), _metric("RecoveryTimeSeconds", "Maximum")],
            ),
        )
        if readiness is not None:
            self._readiness_widgets(readiness)

    def _readiness_widgets(self, readiness: ReadinessCheck) -> None:
        """Would a recovery be accepted now, and how far each run found replication from it."""
        self.dashboard.add_widgets(
            cloudwatch.AlarmStatusWidget(
                title="Failover readiness", alarms=[readiness.not_ready, readiness.not_reported], width=6
            ),
            cloudwatch.GraphWidget(
                title="Failover ready (1) or refused (0)",
                left=[readiness.metrics[ReadinessMetric.FAILOVER_READY]],
                left_y_axis=cloudwatch.YAxisProps(min=0, max=1),
                left_annotations=[cloudwatch.HorizontalAnnotation(value=1, label="ready")],
                width=6,
            ),
            cloudwatch.GraphWidget(
                title="Readiness: ready machines / largest replication lag (s)",
                left=[readiness.metrics[ReadinessMetric.READY_MACHINES]],
                right=[readiness.metrics[ReadinessMetric.MAX_REPLICATION_LAG]],
                width=12,
            ),
        )
