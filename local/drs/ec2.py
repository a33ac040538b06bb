"""Recovery instances in moto's in-process EC2, so that the pipeline's own EC2 client finds them.

Inside local AWS (`local.aws.LocalAws`, moto's `mock_aws`) a recovery instance launched here
answers `boto3.client("ec2").describe_instances(InstanceIds=[...])` with the `PublicIpAddress`
the emulator gave it: the loopback address its landing page is served on.

moto offers no API to choose an instance's public address (EC2 assigns one); the fleet runs the
instance through moto's EC2 backend (`run_instances`) and then sets the address on its primary
network interface (`nics[0].public_ip`), which is what moto's `describe_instances` renders.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from moto.core import DEFAULT_ACCOUNT_ID
from moto.ec2.models import ec2_backends

from local.drs.fleet import InstanceRequest

# Inside `mock_aws`, botocore requests go to moto's stubber first. moto 5.2.5 serves only URLs that
# match one of its backends (AWS domains) and lets any other through, so a `drs` client with
# `endpoint_url` (or AWS_ENDPOINT_URL_DRS) pointing at the emulator on loopback reaches it
# without configuration. This passthrough entry states that intent in local AWS's moto config,
# so it keeps working should moto ever claim such URLs.
LOOPBACK_PASSTHROUGH = r"https?://127\.\d+\.\d+\.\d+:\d+/.*"

# An Amazon Linux AMI from moto's bundled catalogue (moto does not validate AMIs by default).
IMAGE_ID = "ami-03cf127a"
INSTANCE_TYPE = "t3.small"
EC2_TO_DRS_STATE = {
    "pending": "PENDING",
    "running": "RUNNING",
    "stopping": "STOPPING",
    "stopped": "STOPPED",
    "shutting-down": "SHUTTING-DOWN",
    "terminated": "TERMINATED",
}


class MotoEc2Fleet:
    """An `InstanceFleet` in moto's EC2 for one account and region (local AWS's by default).

    The backend is looked up on every call, so the fleet follows moto through resets.
    """

    def __init__(self, region: str = "eu-west-1", account_id: str = DEFAULT_ACCOUNT_ID) -> None:
        self.region = region
        self.account_id = account_id
        self._launched: dict[str, Any] = {}  # id -> moto's instance: a state lookup without a scan

    def launch(self, requests: list[InstanceRequest]) -> list[str]:
        """One `run_instances` for all of them (one reservation), then each instance's own tags
        and public address: per-instance calls cost 3,000 times moto's checks at scale."""
        backend = self._backend()
        with _lookups_in_the_newest_reservation(backend):
            reservation = backend.run_instances(
                IMAGE_ID,
                len(requests),
                None,
                [],
                instance_type=INSTANCE_TYPE,
                is_instance_type_default=False,
                region_name=self.region,
            )
        for request, instance in zip(requests, reservation.instances, strict=True):
            backend.create_tags([instance.id], {"Name": request.hostname, **request.tags})
            instance.nics[0].public_ip = request.public_ip
            self._launched[instance.id] = instance
        return [str(instance.id) for instance in reservation.instances]

    def state(self, instance_id: str) -> str:
        instance = self._find(instance_id)
        return "NOT_FOUND" if instance is None else EC2_TO_DRS_STATE.get(instance.state, "NOT_FOUND")

    def terminate(self, instance_id: str) -> None:
        if self._find(instance_id) is not None:
            self._backend().terminate_instances([instance_id])

    def _find(self, instance_id: str) -> Any:
        """moto's instance: one this fleet launched by id, any other by a scan of the backend."""
        instance = self._launched.get(instance_id)
        if instance is None:
            return next((i for i in self._backend().all_instances() if i.id == instance_id), None)
        return instance

    def _backend(self) -> Any:
        return ec2_backends[self.account_id][self.region]


@contextmanager
def _lookups_in_the_newest_reservation(backend: Any) -> Iterator[None]:
    """While moto runs instances, it attaches each one's root volume, looking the instance up by
    a scan of every instance in the region: 3,000 recovery instances cost 4.5 million
    comparisons. Meanwhile the lookup tries the reservation being built first (newest last)."""

    def get_instance(instance_id: str) -> Any:
        newest = next(reversed(backend.reservations.values()), None)
        for instance in reversed(newest.instances if newest is not None else []):
            if instance.id == instance_id:
                return instance
        return type(backend).get_instance(backend, instance_id)

    backend.get_instance = get_instance
    try:
        yield
    finally:
        del backend.get_instance


def with_drs_passthrough(moto_config: dict[str, Any]) -> dict[str, Any]:
    """`moto_config` (for `mock_aws(config=...)`) plus the passthrough of the emulator's URLs."""
    config = copy.deepcopy(moto_config)
    passthrough = config.setdefault("core", {}).setdefault("passthrough", {})
    passthrough["urls"] = [*passthrough.get("urls", []), LOOPBACK_PASSTHROUGH]
    return config
