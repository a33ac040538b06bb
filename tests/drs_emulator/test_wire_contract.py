"""The real boto3 `drs` client cannot tell the emulator from DRS: statuses, shapes, errors."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.retries.standard import ExponentialBackoff

from local.drs import FaultSpec, load_scenario
from local.drs.scenario import ErrorType, QuotaSpec
from tests.drs_emulator.conftest import Drs, DrsFactory, connect
from tests.drs_emulator.model_check import shape_violations

IMPLEMENTED = {
    "DescribeSourceServers",
    "DescribeRecoverySnapshots",
    "StartRecovery",
    "DescribeJobs",
    "DescribeJobLogItems",
    "DescribeRecoveryInstances",
    "TerminateRecoveryInstances",
    "GetLaunchConfiguration",
    "ListTagsForResource",
    "TagResource",
    "UntagResource",
}


def unvalidated(drs: Drs) -> Any:
    """A client that sends what it is given, so the emulator's own validation answers."""
    return connect(drs.emulator, parameter_validation=False).client


def test_every_operation_answers_its_model_status_and_output_shape(drs: Drs) -> None:
    # Given a two-tier account
    client, ids = drs.client, drs.server_ids()
    web = ids["WebServer"]
    # When every implemented operation is called through a whole recovery and its clean-up
    snapshot = client.describe_recovery_snapshots(sourceServerID=web, order="DESC")["items"][0]
    job = client.start_recovery(
        isDrill=True,
        sourceServers=[
            {"sourceServerID": web, "recoverySnapshotID": snapshot["snapshotID"]},
            {"sourceServerID": ids["DBServer"]},
        ],
        tags={"ExecutionId": "exec-1"},
    )["job"]
    drs.clock.advance(300)
    client.describe_jobs(filters={"jobIDs": [job["jobID"]]})
    client.describe_job_log_items(jobID=job["jobID"])
    instances = client.describe_recovery_instances()["items"]
    client.get_launch_configuration(sourceServerID=web)
    client.tag_resource(resourceArn=job["arn"], tags={"Owner": "dr"})
    client.list_tags_for_resource(resourceArn=job["arn"])
    client.untag_resource(resourceArn=job["arn"], tagKeys=["Owner"])
    client.terminate_recovery_instances(recoveryInstanceIDs=[i["recoveryInstanceID"] for i in instances])
    client.describe_source_servers()
    # Then each answered with its model's responseCode and a body that fits its output shape
    # (the checker fails the call otherwise), StartRecovery's being 202
    assert set(drs.checker.checked) == IMPLEMENTED
    assert client.meta.service_model.operation_model("StartRecovery").http["responseCode"] == 202
    assert job["status"] == "PENDING"


def test_the_checker_rejects_what_breaks_the_model(drs: Drs) -> None:
    # Given the output shape of DescribeJobs
    shape = drs.client.meta.service_model.operation_model("DescribeJobs").output_shape
    # When a job has a FAILED status, an unknown member and a bad id
    broken = {"items": [{"jobID": "job-1", "status": "FAILED", "colour": "red"}]}
    # Then the walker names all three
    problems = " | ".join(shape_violations(shape, broken))
    assert "FAILED" in problems and "colour" in problems and "job-1" in problems


def test_conflict_when_a_server_is_already_in_an_active_job(drs: Drs) -> None:
    # Given a recovery job running for the webserver
    client, web = drs.client, drs.server_ids()["WebServer"]
    job = client.start_recovery(sourceServers=[{"sourceServerID": web}])["job"]
    # When another recovery of the same server is asked for
    with pytest.raises(client.exceptions.ConflictException) as raised:
        client.start_recovery(sourceServers=[{"sourceServerID": web}])
    # Then a 409 ConflictException names the busy server and the job holding it
    error = raised.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 409
    assert (error["resourceId"], error["resourceType"]) == (web, "SOURCE_SERVER")
    assert job["jobID"] in error["Error"]["Message"]
    # And once the job has completed, the server can be recovered again
    drs.clock.advance(241)
    assert client.start_recovery(sourceServers=[{"sourceServerID": web}])["job"]["status"] == "PENDING"


def test_throttling_carries_retry_after_and_botocore_retries_it(
    start_drs: DrsFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the flaky-api scenario (two throttles armed for DescribeSourceServers, Retry-After 1)
    emulator = start_drs("flaky-api")
    monkeypatch.setattr(ExponentialBackoff, "delay_amount", lambda self, context: 0.0)  # no waiting in a test
    plain = connect(emulator).client
    # When a client without retries calls it
    with pytest.raises(plain.exceptions.ThrottlingException) as raised:
        plain.describe_source_servers()
    # Then it gets a 429 ThrottlingException with retryAfterSeconds from the Retry-After header
    response = raised.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert response["retryAfterSeconds"] == "1"
    assert response["ResponseMetadata"]["HTTPHeaders"]["retry-after"] == "1"
    # And a client with botocore's standard retries gets through the second throttle
    retrying = connect(emulator, retries={"mode": "standard", "total_max_attempts": 3}).client
    assert len(retrying.describe_source_servers()["items"]) == 2
    assert emulator.info()["calls"]["DescribeSourceServers"] == 3


def test_unknown_ids_are_resource_not_found(drs: Drs) -> None:
    client = drs.client
    # When a job, a server and a snapshot that do not exist are named
    with pytest.raises(client.exceptions.ResourceNotFoundException) as job:
        client.describe_job_log_items(jobID="drsjob-00000000000000000")
    with pytest.raises(client.exceptions.ResourceNotFoundException) as server:
        client.get_launch_configuration(sourceServerID="s-00000000000000000")
    web = drs.server_ids()["WebServer"]
    with pytest.raises(client.exceptions.ResourceNotFoundException) as snapshot:
        client.start_recovery(sourceServers=[{"sourceServerID": web, "recoverySnapshotID": "pit-00000000000000000"}])
    # Then each is a 404 naming the resource
    assert job.value.response["resourceType"] == "JOB"
    assert server.value.response["resourceId"] == "s-00000000000000000"
    assert snapshot.value.response["resourceType"] == "RECOVERY_SNAPSHOT"
    # And nothing was started
    assert client.describe_jobs()["items"] == []


@pytest.mark.parametrize(
    ("operation", "params", "field", "constraint"),
    [
        (
            "describe_source_servers",
            {"filters": {"sourceServerIDs": ["s-" + "a" * 17] * 201}},
            "filters.sourceServerIDs",
            "less than or equal to 200",
        ),
        ("describe_source_servers", {"maxResults": 0}, "maxResults", "greater than or equal to 1"),
        (
            "start_recovery",
            {"sourceServers": [{"sourceServerID": "s_" + "a" * 17}]},
            "sourceServers.1.member.sourceServerID",
            "pattern",
        ),
        (
            "describe_recovery_snapshots",
            {"sourceServerID": "s-" + "a" * 17, "order": "NEWEST"},
            "order",
            "enum value set",
        ),
        (
            "describe_jobs",
            {"filters": {"jobIDs": ["drsjob-" + "a" * 17] * 1001}},
            "filters.jobIDs",
            "less than or equal to 1000",
        ),
        ("describe_jobs", {"filters": {"fromDate": "2026-11-25 03:07:42.0Z"}}, "filters.fromDate", "pattern"),
        ("describe_source_servers", {"nextToken": "not-a-token"}, "nextToken", "Invalid pagination token"),
    ],
)
def test_invalid_input_is_a_validation_exception_with_its_field(
    drs: Drs, operation: str, params: dict[str, Any], field: str, constraint: str
) -> None:
    # Given a client that does not validate before sending
    client = unvalidated(drs)
    # When the request breaks a constraint that only the service enforces
    with pytest.raises(client.exceptions.ValidationException) as raised:
        getattr(client, operation)(**params)
    # Then a 400 ValidationException lists the field, with the reason AWS gives
    response = raised.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert response["reason"] == "fieldValidationFailed"
    assert [f["name"] for f in response["fieldList"]][:1] == [field]
    assert constraint in response["fieldList"][0]["message"]


def test_unparsable_body_unknown_operation_and_unknown_member(drs: Drs) -> None:
    # When raw requests send broken JSON or name an operation DRS does not have
    def post(path: str, data: bytes) -> tuple[int, dict[str, str], dict[str, Any]]:
        answer = requests.post(drs.emulator.base_url + path, data=data, timeout=5)
        return answer.status_code, dict(answer.headers), answer.json()

    broken = post("/DescribeJobs", b"{not json")
    unknown = post("/LaunchEverything", b"{}")
    stray = post("/DescribeJobs", b'{"colour": "red"}')
    # Then all are ValidationExceptions, with the model's reasons
    assert broken[0] == 400 and broken[1]["X-Amzn-ErrorType"].startswith("ValidationException:")
    assert broken[2]["reason"] == "cannotParse"
    assert unknown[0] == 400 and unknown[2]["reason"] == "unknownOperation"
    assert stray[0] == 400 and stray[2]["fieldList"][0]["name"] == "colour"


def test_quota_of_servers_in_active_jobs_is_402(start_drs: DrsFactory) -> None:
    # Given an estate of 250 servers in an account that allows 240 servers in active jobs
    scenario = load_scenario("large", machine_count=250)
    scenario = scenario.model_copy(update={"quotas": QuotaSpec(servers_in_active_jobs=240)})
    drs = connect(start_drs(scenario))
    ids = [item["sourceServerID"] for item in drs.client.describe_source_servers()["items"]]
    drs.client.start_recovery(sourceServers=[{"sourceServerID": i} for i in ids[:200]])
    # When a second job would take the servers in active jobs over the quota
    with pytest.raises(drs.client.exceptions.ServiceQuotaExceededException) as raised:
        drs.client.start_recovery(sourceServers=[{"sourceServerID": i} for i in ids[200:]])
    # Then a 402 names the quota
    response = raised.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 402
    assert (response["serviceCode"], response["quotaCode"]) == ("drs", "SourceServersInAllActiveJobs")


def test_too_many_servers_in_one_job_is_refused(drs: Drs) -> None:
    # When a job asks for 201 servers (the model allows 1 to 200)
    client = unvalidated(drs)
    with pytest.raises(client.exceptions.ValidationException) as raised:
        client.start_recovery(sourceServers=[{"sourceServerID": "s-" + f"{i:017x}"} for i in range(201)])
    # Then the service refuses it by its size
    assert raised.value.response["fieldList"][0]["name"] == "sourceServers"


def test_uninitialized_account(start_drs: DrsFactory) -> None:
    # Given an account where DRS was never initialized
    client = connect(start_drs("uninitialized")).client
    # When any operation is called, Then it is UninitializedAccountException (400)
    with pytest.raises(client.exceptions.UninitializedAccountException) as raised:
        client.describe_source_servers()
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


@pytest.mark.parametrize(
    ("fault", "exception", "status"),
    [
        (FaultSpec(operation="DescribeJobs", error_type=ErrorType.INTERNAL_SERVER), "InternalServerException", 500),
        (FaultSpec(operation="*", error_type=ErrorType.THROTTLING, retry_after_seconds=3), "ThrottlingException", 429),
        (FaultSpec(operation="DescribeJobs", status=503), "503", 503),
    ],
)
def test_injected_faults_answer_as_the_service_would(drs: Drs, fault: FaultSpec, exception: str, status: int) -> None:
    # Given a fault armed for one call
    drs.emulator.faults.arm(fault)
    # When DescribeJobs is called twice
    with pytest.raises(ClientError) as raised:
        drs.client.describe_jobs()
    # Then the first fails with the modeled error class and status, the second succeeds
    assert raised.value.response["Error"]["Code"] == exception
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert drs.client.describe_jobs()["items"] == []


def test_dropped_connection_is_a_connection_error(drs: Drs) -> None:
    # Given a dropped answer armed for DescribeJobs
    drs.emulator.faults.arm(FaultSpec(operation="DescribeJobs", drop=True))
    client = connect(drs.emulator, retries={"total_max_attempts": 1}, connect_timeout=2, read_timeout=2).client
    # When it is called, Then botocore sees the connection closed, and the next call succeeds
    from botocore.exceptions import ConnectionClosedError, EndpointConnectionError

    with pytest.raises((ConnectionClosedError, EndpointConnectionError)):
        client.describe_jobs()
    assert client.describe_jobs()["items"] == []


def test_any_credentials_and_the_cli_style_region_work(start_drs: DrsFactory) -> None:
    # Given a client with made-up credentials and no retries
    emulator = start_drs()
    import boto3

    client = boto3.client(
        "drs",
        endpoint_url=emulator.base_url,
        region_name="eu-west-1",
        aws_access_key_id="AKIAEXAMPLE",
        aws_secret_access_key="whatever",
        aws_session_token="token",
        config=Config(retries={"total_max_attempts": 1}),
    )
    # When it lists source servers, Then the emulator answers (signatures are not checked)
    assert len(client.describe_source_servers()["items"]) == 2
