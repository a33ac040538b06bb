"""Recovery snapshots: DRS's point-in-time retention on the emulated clock, order, filters, pages."""

from __future__ import annotations

from datetime import datetime, timedelta

from local.drs.records import parse_iso
from tests.drs_emulator.conftest import START, Drs, DrsFactory, connect


def moments(items: list[dict[str, str]], member: str = "timestamp") -> list[datetime]:
    return [parse_iso(item[member]) for item in items]


def test_newest_snapshot_is_seconds_old_and_retention_thins_out_with_age(drs: Drs) -> None:
    # When the webserver's snapshots are listed newest first
    web = drs.server_ids()["WebServer"]
    items = drs.client.describe_recovery_snapshots(sourceServerID=web, order="DESC")["items"]
    taken = moments(items)
    # Then the newest is some seconds old (the server's 18 s lag and the time to take it)
    assert timedelta(seconds=5) < START - taken[0] < timedelta(seconds=30)
    # And they are every 10 minutes for the last hour, hourly for a day, daily for a week
    ages = [START - moment for moment in taken]
    assert sum(age < timedelta(hours=1) for age in ages) == 6
    assert sum(timedelta(hours=1) <= age < timedelta(days=1) for age in ages) in (23, 24)
    assert max(ages) < timedelta(days=7)
    assert taken == sorted(taken, reverse=True)
    # And each has DRS's ids and an EBS snapshot
    assert all(item["snapshotID"].startswith("pit-") and item["ebsSnapshots"] for item in items)


def test_a_new_snapshot_appears_every_ten_minutes(drs: Drs) -> None:
    web = drs.server_ids()["WebServer"]
    newest_before = drs.client.describe_recovery_snapshots(sourceServerID=web, order="DESC", maxResults=1)["items"][0]
    # When ten emulated minutes pass
    drs.clock.advance(600)
    newest_after = drs.client.describe_recovery_snapshots(sourceServerID=web, order="DESC", maxResults=1)["items"][0]
    # Then there is a newer snapshot, ten minutes after the previous one
    assert newest_after["snapshotID"] != newest_before["snapshotID"]
    expected = moments([newest_after, newest_before], "expectedTimestamp")
    assert expected[0] - expected[1] == timedelta(minutes=10)


def test_date_filters_order_and_pages(drs: Drs) -> None:
    web = drs.server_ids()["WebServer"]
    client = drs.client
    since = (START - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    # When the last hour's snapshots are paged through two at a time, oldest first
    pages = client.get_paginator("describe_recovery_snapshots").paginate(
        sourceServerID=web, order="ASC", filters={"fromDateTime": since}, PaginationConfig={"PageSize": 2}
    )
    items = [item for page in pages for item in page["items"]]
    # Then the hour's six snapshots come in ascending order, each once
    assert len(items) == len({item["snapshotID"] for item in items}) == 6
    assert moments(items) == sorted(moments(items))
    assert min(moments(items)) >= START - timedelta(hours=1)


def test_servers_still_syncing_have_no_snapshots_and_a_stalled_one_keeps_its_old_ones(start_drs: DrsFactory) -> None:
    drs = connect(start_drs("mixed-states"))
    ids = drs.server_ids()
    # When an hour passes and the snapshots are listed
    drs.clock.advance(3600)

    def newest(hostname: str) -> list[dict[str, str]]:
        items: list[dict[str, str]] = drs.client.describe_recovery_snapshots(
            sourceServerID=ids[hostname], order="DESC"
        )["items"]
        return items

    # Then servers in initial sync have none, and a stalled server took no new one
    assert newest("initiating") == [] and newest("initial-sync") == []
    assert drs.clock.now() - moments(newest("stalled"))[0] > timedelta(hours=1, minutes=25)
    assert drs.clock.now() - moments(newest("continuous"))[0] < timedelta(minutes=11)
