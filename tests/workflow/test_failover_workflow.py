"""The synthesized state machine, executed in local AWS with the real handlers, against the
CloudEndure emulator: the happy paths and every failure path of the failover. Those that cross
the provider boundary run on both providers (`ON_BOTH_PROVIDERS`: also against the local DRS)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import requests
from dr_autopilot.states import StateName

from local.environment import PRIMARY_ADDRESS, LocalFailoverEnvironment
from tests.workflow.conftest import ON_BOTH_PROVIDERS, assert_failed_safely

# The calls that look up recovery points, by provider: "latest" makes none.
POINT_LOOKUPS = {"cloudendure": "pointsintime", "drs": "DescribeRecoverySnapshots"}

pytestmark = pytest.mark.workflow


@ON_BOTH_PROVIDERS
def test_recovery_switches_dns_to_the_healthy_recovered_webserver(env: LocalFailoverEnvironment) -> None:
    # Given the primary is down and both machines replicate continuously
    # When on-call starts a failover with the documented minimal input
    result = env.executions.run({"requestedBy": "alice"})
    # Then the run succeeds with exactly one RECOVERY launch
    assert result.status == "SUCCEEDED", result.cause
    assert env.provider.launches_accepted == 1 and env.provider.launch_kinds() == ["recovery"]
    # And "latest" asked for no machine's recovery points (at 3,000 machines, 3,000 requests)
    assert env.emulator.account.faults.calls.get(POINT_LOOKUPS[env.provider.name], 0) == 0
    # And DNS points at the recovered webserver, whose landing page really answers
    summary = result.output
    assert summary is not None and summary["outcome"] == "SUCCEEDED"
    address = summary["recoveredAddress"]
    assert env.site.record_values() == [address] != [PRIMARY_ADDRESS]
    page = requests.get(f"http://{address}:{env.provider.landing_port}/", timeout=5)
    assert "Hello from the PHP webserver" in page.text
    assert summary["recordBefore"]["values"] == [PRIMARY_ADDRESS]
    # And the states ran in the runbook's order, the timeline is complete
    states = result.entered_states
    order = [
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
    ]
    assert [s for s in states if s in order and s != "PollJob"] == [s for s in order if s != "PollJob"]
    assert list(summary["timeline"]) == [
        "started",
        "replicationChecked",
        "launched",
        "convertersFinished",
        "jobCompleted",
        "targetHealthy",
        "dnsInsync",
    ]
    # And on-call followed it phase by phase, ending with a readable summary and the timeline
    messages = env.site.notifications()
    assert [m["subject"].removeprefix("[DR Autopilot] ") for m in messages] == [
        "recovery: failover started",
        "recovery: replication checked",
        "recovery: launch started",
        "recovery: converters finished",
        "recovery: recovered site healthy",
        "recovery: DNS switched",
        "recovery succeeded",
    ]
    summary_text = messages[-1]["message"]
    assert f"www.example.com switched {PRIMARY_ADDRESS} -> {address}" in summary_text
    assert "Timeline" in summary_text and "{" not in summary_text
    assert f"www.example.com A switched {PRIMARY_ADDRESS} -> {address} (TTL 60 s)" in messages[5]["message"]
    assert "started by alice from the console" in messages[0]["message"]


@ON_BOTH_PROVIDERS
def test_drill_launches_test_machines_and_leaves_the_site_record_alone(env: LocalFailoverEnvironment) -> None:
    # Given the primary is down and both machines replicate continuously
    # When on-call starts a drill (and ends its hold at once)
    result = env.executions.run({"mode": "drill", "requestedBy": "bob"}, end_hold_as="bob")
    # Then the drill succeeds with a drill launch (CloudEndure TEST, DRS isDrill), not a recovery
    assert result.status == "SUCCEEDED", result.cause
    assert env.provider.launch_kinds() == ["drill"]
    # And the site record still points at the primary; the drill record pointed at the test webserver
    # (DNS step) until the drill's clean-up removed it again
    assert env.site.record_values() == [PRIMARY_ADDRESS]
    assert result.output is not None
    (dns,) = [out["dns"] for out in result.state_outputs(StateName.UPDATE_DNS)]
    assert dns["current"]["name"] == "drill.example.com" and dns["current"]["values"] == [
        result.output["recoveredAddress"]
    ]
    assert env.site.record_values("drill.example.com") == []


@ON_BOTH_PROVIDERS
def test_dry_run_checks_and_plans_without_launching(env: LocalFailoverEnvironment) -> None:
    # Given the primary is down and both machines replicate continuously
    # When on-call asks for a dry run
    result = env.executions.run({"dryRun": True})
    # Then the run succeeds as a dry run
    assert result.status == "SUCCEEDED"
    assert result.output is not None and result.output["outcome"] == "DRY_RUN"
    # And it never reached LaunchRecovery: nothing was launched and DNS is unchanged
    assert env.provider.launches_accepted == 0
    assert env.site.record_values() == [PRIMARY_ADDRESS]
    assert "LaunchRecovery" not in result.entered_states


@ON_BOTH_PROVIDERS
def test_lagging_replication_is_refused_before_any_launch(env: LocalFailoverEnvironment) -> None:
    # Given the database server is 40 minutes behind with a 2 GiB backlog
    env.reset_site("lagging")
    # When a failover is started without force
    result = env.executions.run({})
    # Then it fails safely with ReplicationNotReady naming DBServer, before any launch
    assert_failed_safely(env, result, "ReplicationNotReady", "DBServer", launches=0)
    # And the cause says why (the backlog) and how to go ahead anyway (force)
    assert "backlog" in (result.cause or "").lower() and "force" in (result.cause or "")
    # And "ready" is said in the provider's own words
    ready = {"cloudendure": "not in Continuous Data Replication", "drs": "not ready for recovery in DRS"}
    assert ready[env.provider.name] in (result.cause or "")


@ON_BOTH_PROVIDERS
def test_force_overrides_the_replication_verdict(env: LocalFailoverEnvironment) -> None:
    # Given the database server is 40 minutes behind with a 2 GiB backlog
    env.reset_site("lagging")
    # When on-call forces the failover, giving a reason
    result = env.executions.run({"force": True, "reason": "primary datacenter flooded"})
    # Then the failover succeeds
    assert result.status == "SUCCEEDED", result.cause
    # And CheckReplication records that its verdict on the one lagging machine was overridden
    replication = result.state_outputs("CheckReplication")[-1]["replication"]
    assert replication["forced"] is True and replication["notReady"] == 1
    # And exactly one launch was made
    assert env.provider.launches_accepted == 1


def test_point_in_time_launches_from_the_nearest_earlier_point(env: LocalFailoverEnvironment) -> None:
    # Given a requested time three hours after a daily recovery point of two weeks ago
    account = env.emulator.account
    machine_ids = list(account.machines)
    points = account.points_in_time(account.project_id, machine_ids[0])
    daily = datetime.fromisoformat(points[15]["dateTime"])
    wanted = daily + timedelta(hours=3)
    # When failing over to that time
    result = env.executions.run({"pointInTime": wanted.isoformat()})
    # Then every machine launches from its newest point at or before it: that daily point
    assert result.status == "SUCCEEDED", result.cause
    job = next(iter(account.jobs.values()))
    for machine_id in machine_ids:
        expected = next(
            p["id"]
            for p in account.points_in_time(account.project_id, machine_id)
            if p["dateTime"] == points[15]["dateTime"]
        )
        assert job.point_in_time_ids[machine_id] == expected
    recovery_point = result.state_outputs("ChooseRecoveryPoint")[-1]["recoveryPoint"]
    assert datetime.fromisoformat(recovery_point["newestChosen"]) == daily


@ON_BOTH_PROVIDERS
def test_point_in_time_before_every_recovery_point_launches_nothing(env: LocalFailoverEnvironment) -> None:
    # Given a requested point in time older than every recovery point
    # When failing over to that time
    result = env.executions.run({"pointInTime": "2020-01-01T00:00:00Z"})
    # Then it fails safely with NoPointInTime naming the time, and nothing is launched
    assert_failed_safely(env, result, "NoPointInTime", "no recovery point at or before 2020-01-01", launches=0)


@ON_BOTH_PROVIDERS
def test_unhealthy_landing_page_never_gets_dns(env: LocalFailoverEnvironment) -> None:
    # Given a recovered webserver whose landing page answers 503
    env.reset_site("unhealthy-landing")
    # When a failover is started
    result = env.executions.run({})
    # Then it fails safely with TargetUnhealthy citing the HTTP 503, after its one launch
    assert_failed_safely(env, result, "TargetUnhealthy", "HTTP 503", launches=1)
    # And the health check gave up after its configured attempts, so UpdateDns was never entered
    assert result.entered_states.count("HealthCheck") == 5  # the configured bound, then it gives up
    assert "UpdateDns" not in result.entered_states


@ON_BOTH_PROVIDERS
def test_route53_error_is_notified_and_leaves_dns_unchanged(env: LocalFailoverEnvironment) -> None:
    # Given Route 53 rejects the record change with InvalidChangeBatch
    failures = env.aws.fail_calls("route53", "ChangeResourceRecordSets", "InvalidChangeBatch")
    # When a failover reaches UpdateDns
    try:
        result = env.executions.run({})
    finally:
        env.aws.clear_faults("route53", "ChangeResourceRecordSets")
    # Then the change was rejected once and not retried
    assert failures[0] == 1
    # And the run fails safely with DnsUpdateFailed naming the rejection, after its one launch, DNS unchanged
    assert_failed_safely(env, result, "DnsUpdateFailed", "InvalidChangeBatch", launches=1)


WRONG_INPUTS = [
    ({"mode": "failback"}, "mode"),
    ({"mode": 1}, "mode"),
    ({"mode": None}, "mode"),
    ({"pointInTime": "yesterday"}, "pointInTime"),
    ({"pointInTime": "2026-11-25T02:50:00"}, "pointInTime"),
    ({"pointInTime": "1732500000"}, "pointInTime"),
    ({"pointInTime": "2999-01-01T00:00:00Z"}, "pointInTime"),
    ({"pointInTime": 1732500000}, "pointInTime"),
    ({"force": "yes please"}, "force"),
    ({"force": 2}, "force"),
    ({"dryRun": "maybe"}, "dryRun"),
    ({"requestedBy": ""}, "requestedBy"),
    ({"requestedBy": "x" * 500}, "requestedBy"),
    ({"requestedBy": "alice; DROP TABLE failovers"}, "requestedBy"),
    ({"reason": "r" * 5000}, "reason"),
    ({"target": "www"}, "target"),
    ({"Mode": "recovery"}, "Mode"),
    ({"alarm": {"reason": "no name"}}, "alarm.name"),
    ({"alarm": {"name": "site-down", "time": "noon"}}, "alarm.time"),
    ([1, 2, 3], "JSON object"),
]


@pytest.mark.parametrize(
    ("failover_input", "field"), WRONG_INPUTS, ids=[f"{i:02d}-{f}" for i, (_, f) in enumerate(WRONG_INPUTS)]
)
def test_twenty_wrong_inputs_are_refused_naming_the_field_with_no_side_effect(
    env: LocalFailoverEnvironment, failover_input: object, field: str
) -> None:
    # Given an input with one wrong field (the table: unknown mode, wrong types, a time without zone, in
    # epoch seconds or in the future, an empty, overlong or unsafe name, an unknown field, not an object)
    # When a failover is started with it
    result = env.executions.run(failover_input)  # type: ignore[arg-type]
    # Then ValidateInput refuses it as InvalidInput, naming the field
    assert result.status == "FAILED" and result.error == "InvalidInput"
    assert field in (result.cause or ""), result.cause
    # And the run stopped there: nothing launched, DNS unchanged
    assert result.entered_states == ["ValidateInput", "InputRejected"]
    assert env.emulator.account.launches_accepted == 0
    assert env.site.record_values() == [PRIMARY_ADDRESS]
    # And its one final message (from ReportEnd: the workflow cannot report a refused input) names
    # the field and says nothing was started
    (message,) = env.site.notifications()
    assert message["subject"] == "[DR Autopilot] failover input refused"
    assert field in message["message"] and "Nothing was launched and DNS was not changed." in message["message"]


@ON_BOTH_PROVIDERS
def test_a_dns_update_retried_after_its_upsert_keeps_the_way_back(env: LocalFailoverEnvironment) -> None:
    # Given UpdateDns's UPSERT takes effect and the step then times out (it is retried)
    env.aws.runtime.time_out_after_return(StateName.UPDATE_DNS, count=1)
    # When on-call starts a failover
    result = env.executions.run({"requestedBy": "alice"})
    # Then it succeeded, and the summary shows the primary's address as the value before the switch
    assert result.status == "SUCCEEDED", result.cause
    address = result.output["recoveredAddress"]  # type: ignore[index]
    assert f"{PRIMARY_ADDRESS} -> {address}" in result.output["headline"]  # type: ignore[index]


def test_an_https_site_is_probed_for_its_name_and_certificate_and_switched(
    environment: LocalFailoverEnvironment,
) -> None:
    # Given a site served over TLS with a certificate for www.example.com (from a CA the functions
    # trust), and a stack whose health check uses https (found by the red team: the probe asked
    # for https://<bare IP>/, which no valid certificate can pass)
    with environment.reconfigured({"drAutopilot": {"healthCheck": {"scheme": "https"}}}) as env:
        env.reset_site("https-landing")
        # When on-call starts a failover
        result = env.executions.run({"requestedBy": "alice"})
        # Then the landing page passed over https at the recovered address, and DNS was switched to it
        assert result.status == "SUCCEEDED", result.cause
        (health,) = [o["health"] for o in result.state_outputs(StateName.HEALTH_CHECK) if o["health"]["healthy"]]
        address = result.output["recoveredAddress"] if result.output else None
        assert health["url"].startswith(f"https://{address}:") and env.site.record_values() == [address]
