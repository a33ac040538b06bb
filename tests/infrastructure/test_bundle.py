"""The Lambda bundle's SDK: boto3 and botocore travel together, at versions that belong together
and that the local drill and the tests run."""

from __future__ import annotations

import re
from importlib.metadata import requires, version

from packaging.requirements import Requirement

from local.environment import PROJECT_ROOT


def pins() -> dict[str, str]:
    text = (PROJECT_ROOT / "lambdas" / "requirements.txt").read_text()
    return dict(re.findall(r"^([A-Za-z0-9_.\-\[\]]+)==(\S+)$", text, re.MULTILINE))


def test_boto3_and_botocore_are_pinned_together_at_matching_versions() -> None:
    # Given the bundle's requirements
    pinned = pins()
    # Then both boto3 and botocore are pinned (the X-Ray SDK would otherwise bring botocore alone,
    # to be paired with whatever boto3 the Lambda runtime carries)
    assert {"boto3", "botocore"} <= set(pinned)
    # And boto3's own requirement admits the pinned botocore
    (botocore_range,) = [
        requirement
        for requirement in map(Requirement, requires("boto3") or [])
        if requirement.name == "botocore" and requirement.marker is None
    ]
    assert botocore_range.specifier.contains(pinned["botocore"])
    # And they are the versions the tests run with
    assert version("boto3") == pinned["boto3"] and version("botocore") == pinned["botocore"]
