"""Start the failover from CloudWatch alarms: an EventBridge rule on ALARM for the configured
alarms (or for the alarm on a Route 53 health check of the primary that this construct makes)."""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct
from dr_autopilot.config import ConfigError, TriggerConfig

ALARM_INPUT_REQUESTED_BY = "cloudwatch-alarm"


class AlarmTrigger(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, config: TriggerConfig, state_machine: sfn.IStateMachine
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
            )
        )

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
            treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
        )
