"""CheckReplication with DRS: which source servers are ready, and why the others are not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from dr_autopilot.errors import AmbiguousMachineName, MachineNotFound, ServiceNotInitialized
from dr_autopilot.models import MachineProblem
from dr_autopilot.providers.drs.models import SourceServer
from dr_autopilot.providers.drs.replication import ReplicationThresholds, assess_replication, duration_seconds

from local.drs import Scenario
from tests.drs_provider.conftest import Site, SiteFactory, drs_config

THRESHOLDS = ReplicationThresholds(max_lag_seconds=120, max_agent_silence_seconds=300)


def problems(report_problems: list[MachineProblem]) -> dict[str, list[str]]:
    return {problem.name: problem.reasons for problem in report_problems}


def test_servers_in_continuous_replication_are_ready_from_one_listing(site: Site) -> None:
    # Given the two-tier site, both servers CONTINUOUS with 25 s and 18 s of lag
    # When replication is assessed
    report = site.provider.assess_replication()
    # Then both are ready, the worst lag is reported and the check is stamped with the clock
    assert (report.total, report.ready, report.not_ready, report.max_lag_seconds) == (2, 2, 0, 25.0)
    assert report.problems == [] and report.checked_at == site.emulator.clock.now()
    # And one listing answered it, with no request per server
    assert site.emulator.faults.calls == {"DescribeSourceServers": 1}


def test_a_server_in_backlog_lagging_beyond_the_bound_is_not_ready(start_site: SiteFactory) -> None:
    # Given the database server in BACKLOG, 40 minutes behind
    site = start_site("lagging")
    # When replication is assessed
    report = site.provider.assess_replication()
    # Then it alone is not ready, for its state and its lag
    assert (report.ready, report.not_ready, report.max_lag_seconds) == (1, 1, 2400.0)
    assert problems(report.problems) == {"DBServer": ["replication is BACKLOG", "lag 2400s exceeds 120s"]}


def test_every_replication_state_gets_its_verdict(start_site: SiteFactory) -> None:
    # Given a server in each dataReplicationState, an hour after the disconnected one was last seen
    site = start_site("mixed-states", config=drs_config(machines="all", webserverMachine="continuous"))
    # When replication is assessed
    report = site.provider.assess_replication()
    # Then only the continuous server is ready, and each other one says why
    found = problems(report.problems)
    assert (report.total, report.ready) == (10, 1) and "continuous" not in found
    assert found["stalled"][0] == "replication is STALLED (UNSTABLE_NETWORK)"
    assert found["initiating"] == ["replication is INITIATING", "no lag reported"]
    assert found["disconnected"][-1] == "agent last seen 3600s ago"
    assert found["creating-snapshot"] == ["replication is CREATING_SNAPSHOT"]


def test_an_agent_silent_beyond_the_bound_makes_a_server_not_ready(start_site: SiteFactory) -> None:
    # Given a stalled server whose agent the service last heard from when the scenario began
    site = start_site(
        "mixed-states", config=drs_config(machines=["stalled", "continuous"], webserverMachine="continuous")
    )
    # When ten minutes pass
    site.advance(600)
    report = site.provider.assess_replication()
    # Then the stalled server's growing lag is reported; the agent of the continuous one is still heard
    assert problems(report.problems) == {
        "stalled": ["replication is STALLED (UNSTABLE_NETWORK)", "lag 2400s exceeds 120s"]
    }


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("P0D", 0.0),
        ("PT18S", 18.0),
        ("PT16H20M38.697305S", 16 * 3600 + 20 * 60 + 38.697305),
        ("P2DT3H", 2 * 86400 + 3 * 3600),
        ("pt1m", 60.0),
        ("PT0,5S", 0.5),
        ("P1W", 7 * 86400.0),
        ("", None),
        ("P", None),
        ("PT", None),
        ("P1DT", None),
        ("18 seconds", None),
        ("PT-5S", None),
    ],
)
def test_lag_durations_are_read_as_iso_8601(text: str, seconds: float | None) -> None:
    # Given a lagDuration as DRS may write it, When it is read, Then it is its seconds (or None)
    result = duration_seconds(text)
    assert result == pytest.approx(seconds) if seconds is not None else result is None


def test_a_lag_that_cannot_be_read_makes_the_server_not_ready_without_an_exception() -> None:
    # Given a server whose lag is not an ISO-8601 duration
    server = SourceServer.model_validate(
        {
            "sourceServerID": "s-1",
            "dataReplicationInfo": {"dataReplicationState": "CONTINUOUS", "lagDuration": "about a minute"},
            "lifeCycle": {"lastSeenByServiceDateTime": "2026-11-25T03:07:40Z"},
        }
    )
    seen = datetime(2026, 11, 25, 3, 7, 40, tzinfo=UTC)
    # When it is assessed
    verdict = assess_replication(server, "db", seen + timedelta(seconds=2), THRESHOLDS)
    # Then it is not ready, and the reason quotes the value
    assert not verdict.ready and verdict.reasons == ("lag 'about a minute' is not an ISO-8601 duration",)


def test_tags_narrow_all_machines_to_the_servers_carrying_them(start_site: SiteFactory) -> None:
    # Given machines "all" narrowed to the webserver role
    site = start_site(config=drs_config(machines="all", drs={"tags": {"Role": "webserver"}}))
    # When replication is assessed, Then only the webserver is considered
    assert site.provider.assess_replication().total == 1


def test_a_webserver_outside_the_tags_is_refused(start_site: SiteFactory) -> None:
    # Given tags that leave out the webserver
    site = start_site(config=drs_config(machines="all", drs={"tags": {"Role": "database"}}))
    # When replication is assessed, Then the configuration is refused before anything else
    with pytest.raises(MachineNotFound, match="'WebServer' does not carry the tags"):
        site.provider.assess_replication()


def test_servers_can_be_named_by_source_server_id(start_site: SiteFactory) -> None:
    # Given a configuration naming the servers by their IDs
    site = start_site()
    ids = site.server_ids()
    config = drs_config(
        machines=[ids["DBServer"], ids["WebServer"]],
        webserverMachine=ids["WebServer"],
        drs={"identifyBy": "sourceServerId"},
    )
    provider = start_site(config=config).provider
    # When replication is assessed (same account: IDs are stable), Then both are found and ready
    assert provider.assess_replication().ready == 2


def test_a_configured_name_missing_from_drs_is_refused(start_site: SiteFactory) -> None:
    # Given a configuration that names a server DRS does not have
    site = start_site(config=drs_config(machines=["DBServer", "WebServer", "MailServer"]))
    # When replication is assessed, Then the missing name is given
    with pytest.raises(MachineNotFound, match="with the hostname MailServer"):
        site.provider.assess_replication()


def test_a_hostname_carried_by_two_servers_is_refused(start_site: SiteFactory) -> None:
    # Given all machines, and the database server now reports the webserver's hostname (a server
    # rebuilt and added again)
    site = start_site(config=drs_config(machines="all"))
    db = site.server_ids()["DBServer"]
    hints = site.emulator.account.renderer._static[db]["sourceProperties"]["identificationHints"]
    hints["hostname"] = "WebServer"
    # When replication is assessed, Then which one is the webserver is not guessed
    with pytest.raises(AmbiguousMachineName, match="'WebServer'"):
        site.provider.assess_replication()


def test_an_account_without_source_servers_is_refused(start_site: SiteFactory) -> None:
    # Given DRS with no source server at all
    site = start_site(Scenario(name="empty", servers=[]))
    # When replication is assessed, Then there is nothing to recover
    with pytest.raises(MachineNotFound, match="has no source servers"):
        site.provider.assess_replication()


def test_drs_never_initialized_in_the_region_is_named(start_site: SiteFactory) -> None:
    # Given DRS was never initialized in the account and region
    site = start_site("uninitialized")
    # When replication is assessed, Then the error says so
    with pytest.raises(ServiceNotInitialized, match="initialize Elastic Disaster Recovery"):
        site.provider.assess_replication()


@pytest.mark.parametrize("last_seen", ["2026-11-25T03:07:40", "yesterday at noon", ""])
def test_an_agent_time_that_cannot_be_read_makes_one_server_not_ready_without_an_exception(last_seen: str) -> None:
    # Given a server whose agent's last-seen time has no zone or is not a time (found by the red
    # team: a naive time raised a TypeError, an unparseable one failed every step's listing)
    server = SourceServer.model_validate(
        {
            "sourceServerID": "s-1",
            "dataReplicationInfo": {"dataReplicationState": "CONTINUOUS", "lagDuration": "PT5S"},
            "lifeCycle": {"lastSeenByServiceDateTime": last_seen},
        }
    )
    # When it is assessed
    verdict = assess_replication(server, "db", datetime(2026, 11, 25, 3, 8, tzinfo=UTC), THRESHOLDS)
    # Then it alone is not ready, with a reason (an empty value: never seen)
    assert not verdict.ready and len(verdict.reasons) == 1
    assert "agent" in verdict.reasons[0]
