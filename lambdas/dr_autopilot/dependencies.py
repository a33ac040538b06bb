"""The one place that builds the real adapters behind the ports, from validated settings.

Each is made once per Lambda container and reused. A function asks only for what its state's
entry in the state table says it needs; `check_needs` fails its cold start with a ConfigError
naming any missing variable (a configuration error: the workflow does not retry it).
"""

from __future__ import annotations

from functools import cache
from typing import cast

from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, IdempotencyConfig, idempotent
from aws_lambda_powertools.utilities.parameters.constants import DEFAULT_PROVIDERS
from aws_lambda_powertools.utilities.typing import LambdaContext

from dr_autopilot.clients.aws import client
from dr_autopilot.clients.http_probe import probe
from dr_autopilot.clients.lock import DynamoDbFailoverLock, DynamoDbFinalMessageLedger, DynamoDbReadinessRecord
from dr_autopilot.clients.reachability import SocketReachability
from dr_autopilot.clients.route53 import Route53Records
from dr_autopilot.clients.sns import SnsPublisher
from dr_autopilot.clients.stepfunctions import StepFunctionsHistory
from dr_autopilot.environment import Variable
from dr_autopilot.logic.final_message import FinalMessenger
from dr_autopilot.observability import Handler
from dr_autopilot.ports import (
    DnsRecords,
    ExecutionHistory,
    FailoverLock,
    FinalMessageLedger,
    Probe,
    Publisher,
    Reachability,
    ReadinessRecord,
    RecoveryProvider,
)
from dr_autopilot.providers import provider_for
from dr_autopilot.settings import settings
from dr_autopilot.states import SPEC_BY_NAME, StateName, Watcher

ONE_DAY = 24 * 3600
# Once per execution, and with a recovery plan once per wave: the launch before this one (its
# wave index; none for the first launch) is part of the key.
ONCE_PER_EXECUTION = IdempotencyConfig(
    event_key_jmespath="[request.executionId, launch.waveIndex]",
    expires_after_seconds=ONE_DAY,
    raise_on_no_idempotency_key=True,
)


def check_needs(state: StateName | Watcher) -> None:
    """Every variable the state's function needs is set (ConfigError naming the first that is not).
    A task that needs none (ValidateInput) does not even read the configuration."""
    for variable in sorted(SPEC_BY_NAME[state].variables):
        settings().require(variable)


@cache
def provider() -> RecoveryProvider:
    """The configured recovery provider (one login per container)."""
    return provider_for(settings().config)


@cache
def dns_records() -> DnsRecords:
    return Route53Records(settings().config.dns.hosted_zone_id)


@cache
def failover_lock() -> FailoverLock:
    return DynamoDbFailoverLock(settings().require(Variable.LOCK_TABLE))


@cache
def publisher() -> Publisher:
    return SnsPublisher(settings().require(Variable.TOPIC_ARN))


@cache
def final_message_ledger() -> FinalMessageLedger:
    return DynamoDbFinalMessageLedger(settings().require(Variable.LOCK_TABLE))


@cache
def readiness_record() -> ReadinessRecord:
    return DynamoDbReadinessRecord(settings().require(Variable.LOCK_TABLE))


def final_messenger(context: LambdaContext) -> FinalMessenger:
    """Sends an execution's final message once; a claim holds while this invocation may run."""
    return FinalMessenger(publisher(), final_message_ledger(), context.get_remaining_time_in_millis() // 1000 + 1)


@cache
def execution_history() -> ExecutionHistory:
    return StepFunctionsHistory()


def landing_page_probe() -> Probe:
    return probe


def reachability() -> Reachability:
    return SocketReachability()


@cache
def once_per_execution(handler: Handler) -> Handler:
    """`handler` made idempotent per execution id (Powertools idempotency, the idempotency table)."""
    # Our DynamoDB client (its retry configuration; the drill's faults reach it too).
    store = DynamoDBPersistenceLayer(
        table_name=settings().require(Variable.IDEMPOTENCY_TABLE), boto3_client=client("dynamodb")
    )
    decorate = idempotent(persistence_store=store, config=ONCE_PER_EXECUTION)
    return cast(Handler, decorate(handler))


def forget() -> None:
    """Drop everything built so far, the cached API token included (a new container); the local
    Lambda runtime calls it."""
    for cached in (
        settings,
        provider,
        dns_records,
        failover_lock,
        publisher,
        final_message_ledger,
        readiness_record,
        execution_history,
        once_per_execution,
    ):
        cached.cache_clear()
    # The cached values only (the token): Powertools' clear_caches() would also drop its clients,
    # whose re-creation costs the local drill most of a second per function switch.
    for cached_values in DEFAULT_PROVIDERS.values():
        cached_values.clear_cache()
