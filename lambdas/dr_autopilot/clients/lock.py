"""The failover lock: one DynamoDB item, taken with a conditional write.

While a failover runs, the item names its execution and expires at start + workflow timeout
(so a crashed run cannot hold it forever). When the run ends the item expires at end +
cool-down. Alarm-started runs may take the lock only when it is free or expired; console runs
ignore the cool-down but never a running failover. Conditional writes are atomic in DynamoDB,
so of any number of concurrent starts exactly one wins.
"""

from __future__ import annotations

import time
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from dr_autopilot.clients.aws import client
from dr_autopilot.errors import ServiceUnavailable
from dr_autopilot.models import Mode, ReadinessVerdict
from dr_autopilot.ports import Claim, LockState

# One lock item per scope: a drill never blocks, delays or de-duplicates a recovery.
LOCK_IDS = {Mode.RECOVERY: "failover-lock", Mode.DRILL: "drill-lock"}


def _held(item: dict[str, Any]) -> LockState:
    """The lock as its item says, seen by a run that does not hold it."""
    return LockState(
        acquired=False,
        holder=item.get("holder", {}).get("S"),
        holder_state=item.get("holderState", {}).get("S"),
        expires_at=int(item["expiresAt"]["N"]) if "expiresAt" in item else None,
        suppressed=int(item.get("suppressed", {}).get("N", "0")),
    )


class DynamoDbFailoverLock:
    """The lock item in the lock table (satisfies `ports.FailoverLock`)."""

    def __init__(self, table_name: str, dynamodb: Any | None = None) -> None:
        self._table = table_name
        self._dynamodb = dynamodb or client("dynamodb")

    def acquire(
        self, scope: Mode, execution_id: str, trigger: str, hold_seconds: int, honour_cooldown: bool
    ) -> LockState:
        now = int(time.time())
        free = "attribute_not_exists(id) OR expiresAt < :now OR holder = :me"
        condition = free if honour_cooldown else free + " OR holderState = :finished"
        try:
            self._dynamodb.put_item(
                TableName=self._table,
                Item={
                    "id": {"S": LOCK_IDS[scope]},
                    "holder": {"S": execution_id},
                    "holderState": {"S": "RUNNING"},
                    "trigger": {"S": trigger},
                    "acquiredAt": {"N": str(now)},
                    "expiresAt": {"N": str(now + hold_seconds)},
                    "suppressed": {"N": "0"},
                },
                ConditionExpression=condition,
                ExpressionAttributeValues={
                    ":now": {"N": str(now)},
                    ":me": {"S": execution_id},
                    **({} if honour_cooldown else {":finished": {"S": "FINISHED"}}),
                },
            )
            return LockState(True, execution_id, "RUNNING", now + hold_seconds, 0)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise ServiceUnavailable(f"could not take the failover lock: {error}") from error
        except BotoCoreError as error:
            raise ServiceUnavailable(f"could not take the failover lock: {error}") from error
        return self._record_suppressed(scope, now)

    def _record_suppressed(self, scope: Mode, now: int) -> LockState:
        try:
            item = self._dynamodb.update_item(
                TableName=self._table,
                Key={"id": {"S": LOCK_IDS[scope]}},
                UpdateExpression="ADD suppressed :one SET lastSuppressedAt = :now",
                ExpressionAttributeValues={":one": {"N": "1"}, ":now": {"N": str(now)}},
                ReturnValues="ALL_NEW",
            )["Attributes"]
        except (ClientError, BotoCoreError) as error:
            raise ServiceUnavailable(f"could not read the failover lock: {error}") from error
        return _held(item)

    def peek(self, scope: Mode) -> LockState | None:
        try:
            item = self._dynamodb.get_item(
                TableName=self._table, Key={"id": {"S": LOCK_IDS[scope]}}, ConsistentRead=True
            ).get("Item")
        except (ClientError, BotoCoreError) as error:
            raise ServiceUnavailable(f"could not read the failover lock: {error}") from error
        if item is None:
            return None
        return _held(item)

    def holds(self, scope: Mode, execution_id: str) -> bool:
        held = self.peek(scope)
        return (
            held is not None
            and held.holder == execution_id
            and held.holder_state == "RUNNING"
            and (held.expires_at or 0) > int(time.time())
        )

    def release(self, scope: Mode, execution_id: str, cooldown_seconds: int) -> bool:
        """End this execution's hold; the cool-down starts now. False if another run holds it."""
        now = int(time.time())
        try:
            self._dynamodb.update_item(
                TableName=self._table,
                Key={"id": {"S": LOCK_IDS[scope]}},
                UpdateExpression="SET holderState = :finished, expiresAt = :until, releasedAt = :now",
                ConditionExpression="holder = :me",
                ExpressionAttributeValues={
                    ":finished": {"S": "FINISHED"},
                    ":until": {"N": str(now + cooldown_seconds)},
                    ":now": {"N": str(now)},
                    ":me": {"S": execution_id},
                },
            )
            return True
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise ServiceUnavailable(f"could not release the failover lock: {error}") from error
        except BotoCoreError as error:
            raise ServiceUnavailable(f"could not release the failover lock: {error}") from error

    def remove(self, scope: Mode, holder: str) -> bool:
        """Delete the `scope` lock if `holder` still holds it (`dr-autopilot unlock`, a last resort):
        no holder, no cool-down. False if the lock changed meanwhile."""
        try:
            self._dynamodb.delete_item(
                TableName=self._table,
                Key={"id": {"S": LOCK_IDS[scope]}},
                ConditionExpression="holder = :holder",
                ExpressionAttributeValues={":holder": {"S": holder}},
            )
            return True
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise ServiceUnavailable(f"could not remove the failover lock: {error}") from error
        except BotoCoreError as error:
            raise ServiceUnavailable(f"could not remove the failover lock: {error}") from error


FINAL_MESSAGE_PREFIX = "final-message#"
KEEP_FINAL_MESSAGE_RECORDS = 30 * 24 * 3600  # then DynamoDB's TTL removes them


class DynamoDbFinalMessageLedger:
    """One item per execution in the lock table, `id` = prefix + execution ARN (satisfies
    `ports.FinalMessageLedger`). A claim is a conditional write: of any number of concurrent
    report attempts for one execution exactly one may send; a claim that outlived its invocation
    (the function died after claiming) may be taken over; a sent record is final."""

    def __init__(self, table_name: str, dynamodb: Any | None = None) -> None:
        self._table = table_name
        self._dynamodb = dynamodb or client("dynamodb")

    def claim(self, execution_id: str, for_seconds: int) -> Claim:
        now = int(time.time())
        try:
            self._dynamodb.put_item(
                TableName=self._table,
                Item={
                    "id": {"S": FINAL_MESSAGE_PREFIX + execution_id},
                    "messageState": {"S": "SENDING"},
                    "claimedUntil": {"N": str(now + max(1, for_seconds))},
                    "expiresAt": {"N": str(now + KEEP_FINAL_MESSAGE_RECORDS)},
                },
                ConditionExpression="attribute_not_exists(id) OR (messageState = :sending AND claimedUntil < :now)",
                ExpressionAttributeValues={":sending": {"S": "SENDING"}, ":now": {"N": str(now)}},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
            return Claim.CLAIMED
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                held = error.response.get("Item", {}).get("messageState", {}).get("S")
                return Claim.SENT if held == "SENT" else Claim.BUSY
            raise ServiceUnavailable(f"could not claim the final message: {error}") from error
        except BotoCoreError as error:
            raise ServiceUnavailable(f"could not claim the final message: {error}") from error

    def sent(self, execution_id: str) -> None:
        self._update(execution_id, "SET messageState = :sent, sentAt = :now", {":sent": {"S": "SENT"}})

    def unclaim(self, execution_id: str) -> None:
        self._update(execution_id, "SET claimedUntil = :now", {})

    def _update(self, execution_id: str, expression: str, values: dict[str, Any]) -> None:
        try:
            self._dynamodb.update_item(
                TableName=self._table,
                Key={"id": {"S": FINAL_MESSAGE_PREFIX + execution_id}},
                UpdateExpression=expression,
                ExpressionAttributeValues={":now": {"N": str(int(time.time()) - 1)}, **values},
            )
        except (ClientError, BotoCoreError) as error:
            raise ServiceUnavailable(f"could not record the final message: {error}") from error


READINESS_ID = "readiness"  # the one item with the last readiness verdict


class DynamoDbReadinessRecord:
    """The last readiness verdict, one item in the lock table (satisfies `ports.ReadinessRecord`).
    Its own item: writing it never touches a lock, so a readiness run never blocks a failover. A
    verdict older than the one kept (a slow run finishing after a later one) is not written."""

    def __init__(self, table_name: str, dynamodb: Any | None = None) -> None:
        self._table = table_name
        self._dynamodb = dynamodb or client("dynamodb")

    def record(self, verdict: ReadinessVerdict) -> bool:
        checked_at = verdict.checked_at.timestamp()
        try:
            self._dynamodb.put_item(
                TableName=self._table,
                Item={
                    "id": {"S": READINESS_ID},
                    "checkedAt": {"N": repr(checked_at)},
                    "verdict": {"S": verdict.model_dump_json(by_alias=True, exclude_none=True)},
                },
                ConditionExpression="attribute_not_exists(id) OR checkedAt <= :checked",
                ExpressionAttributeValues={":checked": {"N": repr(checked_at)}},
            )
            return True
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise ServiceUnavailable(f"could not record the readiness verdict: {error}") from error
        except BotoCoreError as error:
            raise ServiceUnavailable(f"could not record the readiness verdict: {error}") from error

    def last(self) -> ReadinessVerdict | None:
        try:
            item = self._dynamodb.get_item(TableName=self._table, Key={"id": {"S": READINESS_ID}}).get("Item")
        except (ClientError, BotoCoreError) as error:
            raise ServiceUnavailable(f"could not read the readiness verdict: {error}") from error
        if item is None:
            return None
        return ReadinessVerdict.model_validate_json(item["verdict"]["S"])
