"""Source servers: replication states and lag on the emulated clock, filters, pagination at scale."""

from __future__ import annotations

from typing import Any

import requests

from local.drs.inventory import hardware_ids
from tests.drs_emulator.conftest import Drs, DrsFactory, connect


def by_hostname(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {item["sourceProperties"]["identificationHints"]["hostname"]: item for item in items}


def test_two_tier_servers_are_continuous_with_their_lag_and_tags(drs: Drs) -> None:
    # When the two-tier account's servers are listed
    servers = by_hostname(drs.client.describe_source_servers()["items"])
    # Then both replicate continuously with the scenario's lag, and carry ids, ARNs and tags as DRS does
    web = servers["WebServer"]
    assert web["dataReplicationInfo"]["dataReplicationState"] == "CONTINUOUS"
    assert web["dataReplicationInfo"]["lagDuration"] == "PT18S"
    assert web["arn"] == f"arn:aws:drs:eu-west-1:123456789012:source-server/{web['sourceServerID']}"
    assert web["tags"] == {"Role": "webserver", "Site": "workshop"}
    assert web["lastLaunchResult"] == "NOT_STARTED" and "lastLaunch" not in web["lifeCycle"]
    assert servers["DBServer"]["dataReplicationInfo"]["lagDuration"] == "PT25S"


def test_lag_of_a_stalled_server_grows_with_the_clock_and_a_continuous_one_does_not(start_drs: DrsFactory) -> None:
    # Given one server in every replication state
    drs = connect(start_drs("mixed-states"))
    before = by_hostname(drs.client.describe_source_servers()["items"])
    # When 10 emulated minutes pass
    drs.clock.advance(600)
    after = by_hostname(drs.client.describe_source_servers()["items"])
    # Then every state of the model is reported, once each
    assert sorted(s["dataReplicationInfo"]["dataReplicationState"] for s in after.values()) == sorted(
        drs.client.meta.service_model.shape_for("DataReplicationState").enum
    )
    # And a stalled server's lag grew by those 10 minutes while a continuous one's stayed put
    assert before["stalled"]["dataReplicationInfo"]["lagDuration"] == "PT30M"
    assert after["stalled"]["dataReplicationInfo"]["lagDuration"] == "PT40M"
    assert after["continuous"]["dataReplicationInfo"]["lagDuration"] == "PT18S"
    # And errors, backlog and the unsynced states are shown as DRS shows them
    assert after["disconnected"]["dataReplicationInfo"]["dataReplicationError"]["error"] == "AGENT_NOT_SEEN"
    assert after["stalled"]["dataReplicationInfo"]["dataReplicationError"]["error"] == "UNSTABLE_NETWORK"
    assert after["backlog"]["dataReplicationInfo"]["replicatedDisks"][0]["backloggedStorageBytes"] == 1024**3
    assert "lagDuration" not in after["initial-sync"]["dataReplicationInfo"]
    assert (
        after["disconnected"]["lifeCycle"]["lastSeenByServiceDateTime"]
        < after["continuous"]["lifeCycle"]["lastSeenByServiceDateTime"]
    )


def test_lagging_scenario_has_a_database_server_in_backlog(start_drs: DrsFactory) -> None:
    drs = connect(start_drs("lagging"))
    # When the servers are listed, Then the database server is 40 minutes behind with a 2 GiB backlog
    database = by_hostname(drs.client.describe_source_servers()["items"])["DBServer"]["dataReplicationInfo"]
    assert (database["dataReplicationState"], database["lagDuration"]) == ("BACKLOG", "PT40M")
    assert database["replicatedDisks"][0]["backloggedStorageBytes"] == 2 * 1024**3
    assert database["etaDateTime"].endswith("Z")


def test_filters_by_ids_hardware_id_and_staging_account(start_drs: DrsFactory) -> None:
    # Given one server in every replication state (the disconnected one extended from a staging account)
    drs = connect(start_drs("mixed-states"))
    client, ids = drs.client, drs.server_ids()
    server = drs.emulator.account.inventory.servers[ids["paused"]]
    # When filtering by ids (one unknown), by hardware id and by staging account
    by_ids = client.describe_source_servers(
        filters={"sourceServerIDs": [ids["stalled"], "s-00000000000000000", ids["paused"]]}
    )
    by_mac = client.describe_source_servers(filters={"hardwareId": hardware_ids(server)[1]})
    by_staging = client.describe_source_servers(filters={"stagingAccountIDs": ["210987654321"]})
    # Then each finds what it names, in listing order, the unknown id matching nothing
    assert [s["sourceServerID"] for s in by_ids["items"]] == [ids["paused"], ids["stalled"]]
    assert [s["sourceServerID"] for s in by_mac["items"]] == [ids["paused"]]
    assert [s["sourceServerID"] for s in by_staging["items"]] == [ids["disconnected"]]
    assert by_staging["items"][0]["stagingArea"]["status"] == "EXTENDED"


def raw_page(base_url: str, request: dict[str, Any]) -> dict[str, Any]:
    answer = requests.post(f"{base_url}/DescribeSourceServers", json=request, timeout=10)
    assert answer.status_code == 200
    page: dict[str, Any] = answer.json()
    return page


def test_three_thousand_servers_are_served_in_pages(start_drs: DrsFactory) -> None:
    # Given the large scenario's 3,000 servers
    emulator = start_drs("large")
    # When all pages are read over HTTP (without botocore's parsing, which costs the client more)
    pages = [raw_page(emulator.base_url, {})]
    while "nextToken" in pages[-1]:
        pages.append(raw_page(emulator.base_url, {"nextToken": pages[-1]["nextToken"]}))
    # Then every server comes exactly once, in pages of 1,000 (timings: benchmarks, not tests)
    ids = [item["sourceServerID"] for page in pages for item in page["items"]]
    assert len(ids) == len(set(ids)) == 3000
    assert [len(page["items"]) for page in pages] == [1000, 1000, 1000]
    # And the tokens are opaque strings within the model's 2,048 characters, absent on the last page
    assert all(0 < len(page["nextToken"]) <= 2048 for page in pages[:-1])
    # And the first generated server is the webserver, named as the scenario says
    assert pages[0]["items"][0]["sourceProperties"]["identificationHints"]["hostname"] == "app-server-0001"


def test_the_boto3_paginator_walks_a_large_estate(start_drs: DrsFactory) -> None:
    # Given 300 generated servers
    drs = connect(start_drs("large", machine_count=300))
    # When boto3's paginator reads them 120 at a time
    pages = list(drs.client.get_paginator("describe_source_servers").paginate(PaginationConfig={"PageSize": 120}))
    # Then it gets them all, once each, in three pages
    assert [len(page["items"]) for page in pages] == [120, 120, 60]
    assert len({item["sourceServerID"] for page in pages for item in page["items"]}) == 300


def test_small_pages_and_a_token_reused_with_other_filters(start_drs: DrsFactory) -> None:
    drs = connect(start_drs("mixed-states"))
    client = drs.client
    # When the servers are read 3 at a time
    first = client.describe_source_servers(maxResults=3)
    rest = client.get_paginator("describe_source_servers").paginate(
        PaginationConfig={"PageSize": 3, "StartingToken": first["nextToken"]}
    )
    # Then the pages join up without gaps or repeats
    ids = [s["sourceServerID"] for s in first["items"]] + [s["sourceServerID"] for p in rest for s in p["items"]]
    assert ids == list(drs.server_ids().values())
    # And a token is refused with filters other than those it was made for
    try:
        client.describe_source_servers(nextToken=first["nextToken"], filters={"hardwareId": "x"})
    except client.exceptions.ValidationException as error:
        assert error.response["fieldList"][0]["name"] == "nextToken"
    else:
        raise AssertionError("a token was accepted with other filters")
