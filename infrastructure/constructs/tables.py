"""The workflow's two DynamoDB tables: Powertools idempotency records and the failover lock."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct


class FailoverTables(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        # Powertools' default schema: partition key `id`, TTL attribute `expiration`.
        self.idempotency = self._table("IdempotencyTable", time_to_live_attribute="expiration")
        # The lock item (`id` = the lock id) naming the execution that holds it, and one item per
        # execution recording its final message (sent exactly once). Both expire by `expiresAt`.
        self.lock = self._table("FailoverLockTable", time_to_live_attribute="expiresAt")

    def _table(self, construct_id: str, time_to_live_attribute: str | None = None) -> dynamodb.Table:
        return dynamodb.Table(
            self,
            construct_id,
            partition_key=dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            time_to_live_attribute=time_to_live_attribute,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            removal_policy=RemovalPolicy.DESTROY,
        )
