"""Start the failover from CloudWatch alarms: an EventBridge rule on ALARM for the configured
alarms (or for the alarm on a Route 53 health check of the primary that this construct makes).

EventBridge rules see only their own region's alarms: the names in `trigger.alarmNames` must be
alarms of the stack's region (README). A start the rule could not deliver after its retries lands
in an encrypted dead-letter queue, and an alarm on that queue tells on-call staff."""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from cdk_nag import NagSuppressions
from constructs import Construct
from dr_autopilot.config import ConfigError, TriggerConfig

ALARM_INPUT_REQUESTED_BY = "cloudwatch-alarm"


class AlarmTrigger(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: TriggerConfig,
        state_machine: sfn.IStateMachine,
        topic: sns.ITopic,
    ) -> None:
        super().__init__(scope, construct_id)
        self.alarm_names = list(config.alarm_names)
        if not self.alarm_names and config.primary_health_check is not None:
            self.alarm_names.append(self._primary_alarm(config).alarm_name)
        self.rule = events.Rule(
            self,
            "AlarmRule",
            description="Start the DR Autopilot failover when a site alarm goes to ALARM",
            event_pattern=events.EventPattern(
                source=["aws.cloudwatch"],
                detail_type=["CloudWatch Alarm State Change"],
                detail={"alarmName": self.alarm_names, "state": {"value": ["ALARM"]}},
            ),
        )
        self.rule.add_target(
            targets.SfnStateMachine(
                state_machine,
                input=events.RuleTargetInput.from_object(
                    {
                        "requestedBy": ALARM_INPUT_REQUESTED_BY,
                        "alarm": {
                            "name": events.EventField.from_path("$.detail.alarmName"),
                            "reason": events.EventField.from_path("$.detail.state.reason"),
                            "time": events.EventField.time,
                        },
                    }
                ),
                retry_attempts=3,
                max_event_age=Duration.minutes(15),
                dead_letter_queue=self._dead_letters(topic),
            )
        )

    def _dead_letters(self, topic: sns.ITopic) -> sqs.Queue:
        """Alarm events the rule could not turn into an execution, kept 14 days, and an alarm."""
        queue = sqs.Queue(
            self,
            "UndeliveredAlarms",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        undelivered = cloudwatch.Alarm(
            self,
            "AlarmNotDelivered",
            alarm_description="An alarm event could not start the DR Autopilot failover: see the dead-letter queue "
            "and start the failover by hand if the site is down",
            metric=queue.metric_approximate_number_of_messages_visible(period=Duration.minutes(1), statistic="Maximum"),
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        undelivered.add_alarm_action(actions.SnsAction(topic))
        NagSuppressions.add_resource_suppressions(
            queue,
            [
                {
                    "id": "AwsSolutions-SQS3",
                    "reason": "This queue is the dead-letter queue of the alarm rule's target; a dead-letter queue "
                    "needs none of its own",
                }
            ],
        )
        return queue

    def _primary_alarm(self, config: TriggerConfig) -> cloudwatch.Alarm:
        check = config.primary_health_check
        assert check is not None
        region = Stack.of(self).region
        if region != "us-east-1":
            raise ConfigError(
                "drAutopilot.trigger.primaryHealthCheck: Route 53 health-check metrics exist only in us-east-1, "
                f"but this stack deploys to {region}; deploy in us-east-1 or name existing alarms in trigger.alarmNames"
            )
        health_check = route53.CfnHealthCheck(
            self,
            "PrimaryHealthCheck",
            health_check_config=route53.CfnHealthCheck.HealthCheckConfigProperty(
                type=check.type,
                fully_qualified_domain_name=check.fqdn,
                port=check.port,
                resource_path=check.path if check.type != "TCP" else None,
                search_string=check.search_string,
                failure_threshold=check.failure_threshold,
                request_interval=30,
            ),
        )
        return cloudwatch.Alarm(
            self,
            "PrimaryDown",
            alarm_name=f"{Stack.of(self).stack_name}-primary-site-down",
            alarm_description=f"The primary site {check.fqdn} fails its Route 53 health check",
            metric=cloudwatch.Metric(
                namespace="AWS/Route53",
                metric_name="HealthCheckStatus",
                dimensions_map={"HealthCheckId": health_check.attr_health_check_id},
                statistic="Minimum",
                period=Duration.minutes(1),
            ),
            threshold=1,
            comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            evaluation_periods=check.alarm_evaluation_periods,
            # A gap in the metrics is not evidence that the primary is down: it must never start an
            # unattended production failover on its own.
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
