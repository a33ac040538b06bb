"""Properties of the synthesized stack: retry/catch policies, IAM scope, runtime, environment."""

from __future__ import annotations

import json
from typing import Any

import pytest
from dr_autopilot import errors
from dr_autopilot.config import ConfigError
from dr_autopilot.states import FUNCTIONS

from local.environment import STAND_INS, base_context, drill_overrides, merge, synthesize


def of_type(resources: dict[str, Any], kind: str) -> dict[str, Any]:
    return {name: r for name, r in resources.items() if r["Type"] == kind}


def definition(resources: dict[str, Any]) -> dict[str, Any]:
    (machine,) = of_type(resources, "AWS::StepFunctions::StateMachine").values()
    parts = machine["Properties"]["DefinitionString"]["Fn::Join"][1]
    # Every reference (a function's ARN, the partition in a service ARN) sits inside a JSON string.
    return dict(json.loads("".join(part if isinstance(part, str) else "ARN" for part in parts)))


def policy_statements(resources: dict[str, Any], function_id_part: str) -> list[dict[str, Any]]:
    statements = []
    for policy in of_type(resources, "AWS::IAM::Policy").values():
        roles = json.dumps(policy["Properties"]["Roles"])
        if function_id_part in roles:
            statements += policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


def test_every_task_retries_only_named_transient_errors_and_catches_to_a_notification(
    resources: dict[str, Any],
) -> None:
    # Given the task states of the synthesized state machine
    states = definition(resources)["States"]
    tasks = {name: s for name, s in states.items() if s["Type"] == "Task"}
    # Then they are the workflow's fourteen tasks
    assert set(tasks) == {
        "ValidateInput",
        "AcquireLock",
        "CheckReplication",
        "ChooseRecoveryPoint",
        "CheckDnsRecord",
        "LaunchRecovery",
        "PollJob",
        "FindTargets",
        "HealthCheck",
        "UpdateDns",
        "HoldDrill",
        "CleanUpDrill",
        "ReportSuccess",
        "ReportFailure",
    }
    # And none retries every error, or a verdict that a retry cannot change (a job already running, a
    # failed job, lagging replication, an unhealthy target, wrong input)
    for name, task in tasks.items():
        retried = {error for rule in task.get("Retry", []) for error in rule["ErrorEquals"]}
        assert "States.ALL" not in retried, name
        assert not retried & {
            "JobAlreadyRunning",
            "JobFailed",
            "ReplicationNotReady",
            "TargetUnhealthy",
            "InvalidInput",
        }, name
        # And each catches every error (its last catcher: a drill's hold first catches its timer)
        catches = task.get("Catch", [])
        assert catches and catches[-1]["ErrorEquals"] == ["States.ALL"], name
    # And a caught error goes to ReportFailure and then FailoverFailed (unless its summary is a readiness
    # verdict, NOT_READY); wrong input goes to InputRejected, a failure to report ends without another
    # notification, and a hold that fails cleans the drill up now
    expected_target = {
        "ValidateInput": "InputRejected",
        "ReportFailure": "FailoverFailedUnreported",
        "HoldDrill": "HoldInterrupted",
    }
    for name, task in tasks.items():
        assert task["Catch"][-1]["Next"] == expected_target.get(name, "ReportFailure"), name
    assert tasks["HoldDrill"]["Catch"][0] == {
        "ErrorEquals": ["States.Timeout"],
        "ResultPath": "$.hold",
        "Next": "HoldExpired",
    }
    after_report = states[states["ReportFailure"]["Next"]]
    assert after_report["Default"] == "FailoverFailed"
    assert [choice["StringEquals"] for choice in after_report["Choices"]] == ["NOT_READY"]


def test_waits_come_from_the_data_and_loops_are_bounded(resources: dict[str, Any]) -> None:
    # Given the synthesized state machine
    machine = definition(resources)
    states = machine["States"]
    # Then the waits between job polls and between health checks are read from the tasks' results
    assert states["WaitForJob"]["SecondsPath"] == "$.job.waitSeconds"
    assert states["WaitForHealth"]["SecondsPath"] == "$.health.waitSeconds"
    # And the whole run is bounded at two hours, in a standard workflow with tracing and full logging
    (state_machine,) = of_type(resources, "AWS::StepFunctions::StateMachine").values()
    assert machine["TimeoutSeconds"] == 7200
    assert state_machine["Properties"]["StateMachineType"] == "STANDARD"
    assert state_machine["Properties"]["TracingConfiguration"] == {"Enabled": True}
    assert state_machine["Properties"]["LoggingConfiguration"]["Level"] == "ALL"


def test_error_names_in_the_workflow_exist_in_the_code(resources: dict[str, Any]) -> None:
    # Given every error name the workflow's Retry and Catch rules match: Step Functions compares them with
    # exception class names, so each of ours must be a class in dr_autopilot.errors
    states = definition(resources)["States"]
    named = {
        e for s in states.values() for rule in s.get("Retry", []) + s.get("Catch", []) for e in rule["ErrorEquals"]
    }
    # When the names AWS owns are set aside
    ours = {e for e in named if "." not in e}  # States.*, Lambda.*, Sandbox.* belong to AWS
    # Then ours are the retried errors, and each is an error class of dr_autopilot.errors
    assert ours == {
        "ServiceUnavailable",
        "DnsChangePending",
        "DnsThrottled",
        "NotificationFailed",
        "FinalMessageInFlight",
        "LaunchInProgress",
        "CleanupPending",
        "ConfigError",
    }
    for name in ours - {"ConfigError"}:
        assert issubclass(getattr(errors, name), errors.DrAutopilotError)
    # And ConfigError (matched only to stop ReportFailure retrying it) is the configuration's error
    assert ConfigError.__name__ == "ConfigError"


def test_functions_run_python_3_14_with_tracing_and_typed_configuration(resources: dict[str, Any]) -> None:
    # Given the synthesized functions
    functions = of_type(resources, "AWS::Lambda::Function")
    # Then there are twelve, each on Python 3.14 with active tracing and a handler of dr_autopilot.handlers
    assert len(functions) == len(FUNCTIONS)  # one per function of the state table
    for function in functions.values():
        props = function["Properties"]
        assert props["Runtime"] == "python3.14"
        assert props["TracingConfig"] == {"Mode": "Active"}
        assert props["Handler"].startswith("dr_autopilot.handlers.")
        # And each gets the typed configuration of the site's record
        config = json.loads(props["Environment"]["Variables"]["DR_AUTOPILOT_CONFIG"])
        assert config["dns"]["recordName"] == "www.example.com"
        # And the API token is never in the environment: only the name of the secret that holds it
        assert set(config["cloudendure"]) == {"apiUrl", "projectName", "apiTokenSecretName", "readTimeoutSeconds"}


def test_dns_rights_are_only_upsert_of_the_configured_records_in_the_one_zone(resources: dict[str, Any]) -> None:
    # Given the rights of the UpdateDns function
    statements = policy_statements(resources, "UpdateDns")
    change = next(s for s in statements if s["Action"] == "route53:ChangeResourceRecordSets")
    # Then its one right to change records is limited to the one hosted zone
    assert "hostedzone/Z0123456789EXAMPLE" in json.dumps(change["Resource"])
    # And to UPSERT of the site and drill records only
    conditions = change["Condition"]["ForAllValues:StringEquals"]
    assert conditions["route53:ChangeResourceRecordSetsActions"] == ["UPSERT"]
    assert conditions["route53:ChangeResourceRecordSetsNormalizedRecordNames"] == [
        "www.example.com",
        "drill.example.com",
    ]
    # And the functions that check, validate or report cannot change records at all
    for function in ("CheckReplication", "PollJob", "HealthCheck", "ValidateInput", "ReportSuccess"):
        assert not any("route53:Change" in json.dumps(s["Action"]) for s in policy_statements(resources, function)), (
            function
        )


def test_secret_read_is_limited_to_the_one_secret_and_the_functions_that_call_cloudendure(
    resources: dict[str, Any],
) -> None:
    # Given the rights of every task function
    readers = set()
    # When their statements are searched for secret reads
    for name in (
        "ValidateInput",
        "CheckReplication",
        "ChooseRecoveryPoint",
        "CheckDnsRecord",
        "LaunchRecovery",
        "PollJob",
        "FindTargets",
        "HealthCheck",
        "UpdateDns",
        "ReportSuccess",
        "ReportFailure",
    ):
        for statement in policy_statements(resources, name):
            if "secretsmanager:GetSecretValue" in json.dumps(statement["Action"]):
                # Then each one names only the CloudEndure API token's secret
                assert "secret:dr-autopilot/cloudendure-api-token-??????" in json.dumps(statement["Resource"])
                readers.add(name)
    # And only the functions that call CloudEndure may read it (ReportFailure looks up the launch
    # job of a launch step that left no result)
    assert readers == {
        "CheckReplication",
        "ChooseRecoveryPoint",
        "LaunchRecovery",
        "PollJob",
        "FindTargets",
        "ReportFailure",
    }


def test_no_statement_grants_every_action(resources: dict[str, Any]) -> None:
    # Given every IAM statement of the stack
    for policy in of_type(resources, "AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            # Then none allows every action, or every action of a service
            assert all(action != "*" and not action.endswith(":*") for action in actions), statement


def test_topic_is_encrypted_with_its_own_key_that_alarms_and_rules_of_this_account_can_use(
    resources: dict[str, Any],
) -> None:
    # Given the failover notification topic and its key
    (topic,) = of_type(resources, "AWS::SNS::Topic").values()
    ((key_id, key),) = of_type(resources, "AWS::KMS::Key").items()
    # Then it is encrypted with a customer-managed key that rotates (not alias/aws/sns, whose policy
    # can admit neither CloudWatch alarms nor EventBridge rules)
    assert topic["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    assert key["Properties"]["EnableKeyRotation"] is True
    # And the key policy and the topic policy each admit exactly CloudWatch and EventBridge, and
    # only for this account's alarms and rules
    (topic_policy,) = of_type(resources, "AWS::SNS::TopicPolicy").values()
    for document in (key["Properties"]["KeyPolicy"], topic_policy["Properties"]["PolicyDocument"]):
        services = {
            s["Principal"]["Service"]: s["Condition"]
            for s in document["Statement"]
            if s["Effect"] == "Allow" and "Service" in s.get("Principal", {})
        }
        assert set(services) == {"cloudwatch.amazonaws.com", "events.amazonaws.com"}
        for service, condition in services.items():
            assert condition["StringEquals"]["aws:SourceAccount"] == "123456789012", service
            source = json.dumps(condition["ArnLike"]["aws:SourceArn"])
            assert ":123456789012:" in source and ("alarm:*" in source or "rule/*" in source), service
    # And its policy refuses requests that do not use TLS
    assert "aws:SecureTransport" in json.dumps(topic_policy)
    # And the functions that notify may use the key to publish
    statements = policy_statements(resources, "ReportSuccess")
    assert any(
        "kms:GenerateDataKey*" in json.dumps(s["Action"]) and key_id in json.dumps(s["Resource"]) for s in statements
    )


@pytest.mark.parametrize(
    ("override", "named_key"),
    [
        ({"dns": {"recordType": "MX"}}, "drAutopilot.dns.recordType"),
        ({"healthCheck": {"expectedText": ""}}, "drAutopilot.healthCheck.expectedText"),
        ({"job": {"pollMinSeconds": 90, "pollMaxSeconds": 30}}, "pollMinSeconds must not exceed pollMaxSeconds"),
        ({"webserverMachine": "MailServer"}, "webserverMachine 'MailServer' is not in machines"),
        ({"cloudendure": {"apiTokenSecretName": "has spaces in it"}}, "drAutopilot.cloudendure.apiTokenSecretName"),
        ({"dns": {"ttl": "60"}}, "drAutopilot.dns.ttl"),
        ({"healthCheck": {"maxAttempts": True}}, "drAutopilot.healthCheck.maxAttempts"),
        ({"cloudendure": {"apiUrl": "http://api.example.com/api/latest"}}, "drAutopilot.cloudendure.apiUrl"),
        ({"dns": {"drillRecordName": "WWW.Example.com."}}, "drillRecordName must differ from recordName"),
    ],
)
def test_wrong_configuration_fails_synth_naming_the_key(override: dict[str, Any], named_key: str) -> None:
    # Given cdk.json context with one wrong setting (the table: an unsupported record type, an empty
    # expected text, a poll minimum above the maximum, an unknown webserver machine, a bad secret name,
    # a number given as a string, a boolean for a number, the API over plain HTTP to another host,
    # a drill record that is the production record once normalised)
    context = merge(base_context(), {"drAutopilot": override, "aws:cdk:bundling-stacks": []})
    # When the app is synthesized
    # Then synth fails with a configuration error that names the key
    with pytest.raises(ConfigError, match=named_key.replace(".", r"\.").replace("'", ".")):
        synthesize(context)


def test_missing_configuration_fails_synth_with_a_pointer_to_the_example() -> None:
    # Given context without the drAutopilot key
    # When the app is synthesized
    # Then synth fails with a configuration error naming the missing key
    with pytest.raises(ConfigError, match="no context key 'drAutopilot'"):
        synthesize({"aws:cdk:bundling-stacks": []})


def test_state_machine_may_invoke_only_its_own_functions(resources: dict[str, Any]) -> None:
    # Given the stack's functions and the state machine role's invoke statements
    functions = set(of_type(resources, "AWS::Lambda::Function"))
    statements = [
        s
        for name, policy in of_type(resources, "AWS::IAM::Policy").items()
        if "StateMachineRole" in name
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        if "lambda:InvokeFunction" in json.dumps(s["Action"])
    ]
    # Then there is such a statement, and every function it names is one of the stack's own
    assert statements
    for statement in statements:
        for resource in statement["Resource"]:
            text = json.dumps(resource)
            assert any(f'"{function}"' in text for function in functions), resource


def test_acquire_lock_may_read_only_the_status_of_its_own_state_machines_executions(
    resources: dict[str, Any],
) -> None:
    # Given the state machine (its name is fixed so a function inside it can be granted on it)
    (machine,) = of_type(resources, "AWS::StepFunctions::StateMachine").values()
    name = machine["Properties"]["StateMachineName"]
    # When AcquireLock's statements about Step Functions are read
    statements = [
        s
        for policy_id, policy in of_type(resources, "AWS::IAM::Policy").items()
        if policy_id.startswith("FunctionsAcquireLock")
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        if "states:" in json.dumps(s["Action"])
    ]
    # Then it is one statement: DescribeExecution, on that state machine's executions only
    (statement,) = statements
    assert statement["Action"] == "states:DescribeExecution"
    assert f":execution:{name}:*" in json.dumps(statement["Resource"]) and "FailoverStateMachine" in name


def test_names_are_derived_from_the_stack_and_execution_logs_are_vended(resources: dict[str, Any]) -> None:
    # Given the synthesized stack DrAutopilot in eu-west-1
    (log_group,) = [r for r in of_type(resources, "AWS::Logs::LogGroup").values() if "vendedlogs" in json.dumps(r)]
    (dashboard,) = of_type(resources, "AWS::CloudWatch::Dashboard").values()
    # Then the execution log group lies under /aws/vendedlogs/states/ and is named after the stack
    assert log_group["Properties"]["LogGroupName"] == "/aws/vendedlogs/states/DrAutopilot-failover"
    # And the dashboard's name carries the stack and region, so two copies can share an account
    assert dashboard["Properties"]["DashboardName"] == "DrAutopilot-eu-west-1"


def test_undelivered_alarm_starts_land_in_an_encrypted_queue_that_alarms(resources: dict[str, Any]) -> None:
    # Given the alarm rule's target
    (rule,) = [r for r in of_type(resources, "AWS::Events::Rule").values() if "aws.cloudwatch" in json.dumps(r)]
    (target,) = rule["Properties"]["Targets"]
    (queue_id,) = of_type(resources, "AWS::SQS::Queue")
    # Then it retries, and what it cannot deliver goes to the dead-letter queue
    assert target["RetryPolicy"]["MaximumRetryAttempts"] == 3
    assert target["DeadLetterConfig"]["Arn"] == {"Fn::GetAtt": [queue_id, "Arn"]}
    # And the queue is encrypted, TLS-only, and an alarm on its depth notifies the topic
    assert resources[queue_id]["Properties"]["SqsManagedSseEnabled"] is True
    assert "aws:SecureTransport" in json.dumps(of_type(resources, "AWS::SQS::QueuePolicy"))
    alarms = [
        a["Properties"]
        for a in of_type(resources, "AWS::CloudWatch::Alarm").values()
        if queue_id in json.dumps(a["Properties"].get("Dimensions"))
    ]
    assert len(alarms) == 1 and alarms[0]["AlarmActions"]


def test_a_metrics_gap_never_starts_a_failover() -> None:
    # Given the stack creates the primary's health check and alarm (us-east-1)
    context = merge(
        base_context(),
        {
            "drAutopilot": {"trigger": {"alarmNames": [], "primaryHealthCheck": {"fqdn": "primary.example.com"}}},
            "region": "us-east-1",
            "aws:cdk:bundling-stacks": [],
        },
    )
    resources = synthesize(context)["Resources"]
    (alarm,) = [
        a["Properties"]
        for a in of_type(resources, "AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("MetricName") == "HealthCheckStatus"
    ]
    # Then missing data does not count as the primary being down
    assert alarm["TreatMissingData"] == "notBreaching"


def test_timeouts_that_cannot_fit_in_the_workflow_timeout_fail_synth_naming_the_keys() -> None:
    # Given an approval wait and a job timeout that together exceed the workflow timeout
    context = merge(
        base_context(),
        {
            "drAutopilot": {
                "trigger": {"approval": "approve", "approvalTimeoutSeconds": 3600},
                "job": {"timeoutSeconds": 3600},
            },
            "aws:cdk:bundling-stacks": [],
        },
    )
    # When the app is synthesized
    # Then synth refuses it, naming the keys and the sum
    with pytest.raises(
        ConfigError,
        match=r"workflowTimeoutSeconds 7200 is too short.*job\.timeoutSeconds 3600.*"
        r"trigger\.approvalTimeoutSeconds 3600",
    ):
        synthesize(context)


def test_every_bad_end_of_an_execution_alarms_on_call(resources: dict[str, Any]) -> None:
    # Given the alarms on the state machine's own metrics
    (machine_id,) = of_type(resources, "AWS::StepFunctions::StateMachine")
    alarms = {
        a["Properties"]["MetricName"]: a["Properties"]
        for a in of_type(resources, "AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("Namespace") == "AWS/States" and machine_id in json.dumps(a["Properties"])
    }
    # Then failed, timed-out, aborted and throttled executions each raise one, to the topic
    assert set(alarms) == {"ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted", "ExecutionThrottled"}
    (topic_id,) = of_type(resources, "AWS::SNS::Topic")
    for name, alarm in alarms.items():
        assert alarm["AlarmActions"] == [{"Ref": topic_id}], name
        assert alarm["TreatMissingData"] == "notBreaching", name


def test_final_message_records_and_the_lock_expire_from_the_lock_table(resources: dict[str, Any]) -> None:
    # Given the synthesized tables
    tables = of_type(resources, "AWS::DynamoDB::Table")
    # When the lock table is found (the one without Powertools' `expiration`)
    ttl = sorted(t["Properties"]["TimeToLiveSpecification"]["AttributeName"] for t in tables.values())
    # Then both tables expire their items: the idempotency records and the lock/final-message items
    assert ttl == ["expiration", "expiresAt"]


def test_a_launch_attempt_that_died_is_waited_out_before_the_retry_gives_up(resources: dict[str, Any]) -> None:
    # Given LaunchRecovery's function timeout (how long a dead attempt's in-progress record holds)
    (launch_function,) = [
        r
        for r in of_type(resources, "AWS::Lambda::Function").values()
        if "launch_recovery" in r["Properties"]["Handler"]
    ]
    timeout = launch_function["Properties"]["Timeout"]
    # When the retry of LaunchInProgress is read from the definition
    (rule,) = [
        r
        for r in definition(resources)["States"]["LaunchRecovery"]["Retry"]
        if r["ErrorEquals"] == ["LaunchInProgress"]
    ]
    waits = [rule["IntervalSeconds"] * rule["BackoffRate"] ** n for n in range(rule["MaxAttempts"])]
    # Then the retries wait out the whole window (with room to spare) before the last attempt
    assert sum(waits[:-1]) > timeout * 1.2


def test_with_drs_only_launch_recovery_may_start_a_recovery_and_no_secret_is_read() -> None:
    # Given the app configured for AWS Elastic Disaster Recovery (as the local DRS drill synthesizes
    # it, so the session synthesizes it once for both)
    local = merge(merge(base_context(), drill_overrides(*STAND_INS)), {"drAutopilot": {"provider": "drs", "drs": {}}})
    resources = synthesize(local)["Resources"]  # cdk-nag would fail this synth on an open finding
    # When each function's statements are read
    starters, readers, secret_readers = set(), set(), set()
    for name in (
        "CheckReplication",
        "ChooseRecoveryPoint",
        "LaunchRecovery",
        "PollJob",
        "FindTargets",
        "ReportFailure",
    ):
        actions = json.dumps([s["Action"] for s in policy_statements(resources, name)])
        if "drs:StartRecovery" in actions:
            starters.add(name)
        if "drs:DescribeSourceServers" in actions:
            readers.add(name)
        if "secretsmanager:" in actions:
            secret_readers.add(name)
    # Then only LaunchRecovery may start a recovery, every step that asks the provider may read it,
    # and nothing reads a CloudEndure API token
    assert starters == {"LaunchRecovery"}
    assert readers == {
        "CheckReplication",
        "ChooseRecoveryPoint",
        "LaunchRecovery",
        "PollJob",
        "FindTargets",
        "ReportFailure",
    }
    assert secret_readers == set()
    # And StartRecovery is scoped to DRS resources of the account, not to every resource
    (start,) = [
        s for s in policy_statements(resources, "LaunchRecovery") if "drs:StartRecovery" in json.dumps(s["Action"])
    ]
    assert "*" not in start["Resource"] and ":drs:" in json.dumps(start["Resource"])


def test_read_only_steps_after_the_launch_wait_minutes_for_a_failing_provider(resources: dict[str, Any]) -> None:
    # Given the steps that only read while the launch job runs (found by the red team: 20 throttled
    # DRS calls within seconds ended a healthy failover)
    states = definition(resources)["States"]
    for name in ("PollJob", "FindTargets"):
        # When the first retry rule that matches ServiceUnavailable is read (Step Functions uses the first)
        (rule, *_) = [r for r in states[name]["Retry"] if "ServiceUnavailable" in r["ErrorEquals"]]
        waits = [rule["IntervalSeconds"] * rule["BackoffRate"] ** n for n in range(rule["MaxAttempts"])]
        # Then it waits minutes before giving up, where the other steps wait seconds
        assert sum(waits) >= 300, name
    (others, *_) = [r for r in states["CheckReplication"]["Retry"] if "ServiceUnavailable" in r["ErrorEquals"]]
    assert others["MaxAttempts"] == 3
