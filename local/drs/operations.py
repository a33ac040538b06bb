"""The DRS operations the emulator serves, one method each: read or change the account (with
job effects brought up to the clock) and answer with the operation's output members.

Input has already been validated against the model's input shape; what is checked here is what
the model cannot say (a filter date that does not parse, an id that names nothing, a duplicate).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from local.drs.errors import not_found
from local.drs.jobs import RecoveryRequest
from local.drs.paging import paginate
from local.drs.records import parse_iso
from local.drs.state import Account
from local.drs.validation import reject
from local.drs.wire import (
    render_job,
    render_launch_configuration,
    render_log_items,
    render_recovery_instance,
    render_snapshot,
)

Answer = dict[str, Any]


def _date(params: dict[str, Any], name: str, path: str) -> datetime | None:
    text = params.get(name)
    if text is None:
        return None
    try:
        return parse_iso(text)
    except ValueError as error:
        raise reject(path, f"Member must be an ISO-8601 date-time: {error}") from error


class Operations:
    """Each implemented DRS operation, by its model name (`handlers`)."""

    def __init__(self, account: Account) -> None:
        self.account = account

    @property
    def handlers(self) -> dict[str, Callable[[dict[str, Any]], Answer]]:
        return {
            "DescribeSourceServers": self.describe_source_servers,
            "DescribeRecoverySnapshots": self.describe_recovery_snapshots,
            "StartRecovery": self.start_recovery,
            "DescribeJobs": self.describe_jobs,
            "DescribeJobLogItems": self.describe_job_log_items,
            "DescribeRecoveryInstances": self.describe_recovery_instances,
            "TerminateRecoveryInstances": self.terminate_recovery_instances,
            "GetLaunchConfiguration": self.get_launch_configuration,
            "ListTagsForResource": self.list_tags_for_resource,
            "TagResource": self.tag_resource,
            "UntagResource": self.untag_resource,
        }

    def describe_source_servers(self, params: dict[str, Any]) -> Answer:
        account = self.account
        filters = params.get("filters") or {}
        with account.settled() as now:
            servers = account.inventory.select(
                filters.get("sourceServerIDs"), filters.get("hardwareId"), filters.get("stagingAccountIDs")
            )
            position = account.inventory.position
            page, token = paginate(servers, lambda server: position[server.id], params)
            items = [account.renderer.render(server, now, account.jobs.jobs) for server in page]
        return _page(items, token)

    def describe_recovery_snapshots(self, params: dict[str, Any]) -> Answer:
        filters = params.get("filters") or {}
        since = _date(filters, "fromDateTime", "filters.fromDateTime")
        until = _date(filters, "toDateTime", "filters.toDateTime")
        descending = params.get("order") == "DESC"
        with self.account.settled() as now:
            server = self.account.inventory.find(params["sourceServerID"])
            snapshots = [
                s
                for s in server.snapshots(now)
                if (since is None or s.taken >= since) and (until is None or s.taken <= until)
            ]
        if descending:
            snapshots.reverse()
        sign = -1 if descending else 1
        page, token = paginate(snapshots, lambda snapshot: sign * snapshot.taken.timestamp(), params)
        return _page([render_snapshot(snapshot) for snapshot in page], token)

    def start_recovery(self, params: dict[str, Any]) -> Answer:
        account = self.account
        wanted = params["sourceServers"]
        ids = [item["sourceServerID"] for item in wanted]
        if len(set(ids)) != len(ids):
            raise reject("sourceServers", "Member must not contain duplicate source server IDs")
        with account.settled() as now:
            requests = []
            for item in wanted:
                server = account.inventory.find(item["sourceServerID"])
                snapshot = None
                if item.get("recoverySnapshotID"):
                    snapshot = next((s for s in server.snapshots(now) if s.id == item["recoverySnapshotID"]), None)
                    if snapshot is None:
                        raise not_found("RECOVERY_SNAPSHOT", item["recoverySnapshotID"])
                requests.append(RecoveryRequest(server, snapshot))
            job = account.jobs.start_recovery(requests, bool(params.get("isDrill")), params.get("tags") or {})
            return {"job": render_job(job, now)}

    def describe_jobs(self, params: dict[str, Any]) -> Answer:
        filters = params.get("filters") or {}
        since = _date(filters, "fromDate", "filters.fromDate")
        until = _date(filters, "toDate", "filters.toDate")
        wanted = set(filters.get("jobIDs") or [])
        with self.account.settled() as now:
            jobs = [
                (index, job)
                for index, job in enumerate(self.account.jobs.order)
                if (not wanted or job.id in wanted)
                and (since is None or job.created_at >= since)
                and (until is None or job.created_at <= until)
            ]
            page, token = paginate(jobs, lambda entry: entry[0], params)
            return _page([render_job(job, now) for _, job in page], token)

    def describe_job_log_items(self, params: dict[str, Any]) -> Answer:
        with self.account.settled() as now:
            items = list(enumerate(render_log_items(self.account.jobs.find(params["jobID"]), now)))
        page, token = paginate(items, lambda entry: entry[0], params)
        return _page([item for _, item in page], token)

    def describe_recovery_instances(self, params: dict[str, Any]) -> Answer:
        account = self.account
        filters = params.get("filters") or {}
        with account.settled() as now:
            instances = account.instances.select(filters.get("recoveryInstanceIDs"), filters.get("sourceServerIDs"))
            page, token = paginate(instances, lambda instance: account.instances.sequence[instance.id], params)
            items = [
                render_recovery_instance(
                    instance,
                    account.inventory.servers.get(instance.source_server_id),
                    account.ec2_state(instance, now),
                    now,
                )
                for instance in page
            ]
        return _page(items, token)

    def terminate_recovery_instances(self, params: dict[str, Any]) -> Answer:
        with self.account.settled() as now:
            return {"job": render_job(self.account.jobs.terminate(params["recoveryInstanceIDs"]), now)}

    def get_launch_configuration(self, params: dict[str, Any]) -> Answer:
        with self.account.settled():
            return render_launch_configuration(self.account.inventory.find(params["sourceServerID"]))

    def list_tags_for_resource(self, params: dict[str, Any]) -> Answer:
        with self.account.settled():
            return {"tags": dict(self.account.tags_of(params["resourceArn"]))}

    def tag_resource(self, params: dict[str, Any]) -> Answer:
        with self.account.settled():
            self.account.tags_of(params["resourceArn"]).update(params["tags"])
        return {}

    def untag_resource(self, params: dict[str, Any]) -> Answer:
        with self.account.settled():
            tags = self.account.tags_of(params["resourceArn"])
            for key in params["tagKeys"]:
                tags.pop(key, None)
        return {}


def _page(items: list[dict[str, Any]], token: str | None) -> Answer:
    return {"items": items} if token is None else {"items": items, "nextToken": token}
