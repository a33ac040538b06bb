"""The Lambda bundle's SDK: boto3 and botocore travel together, at versions that belong together
and that the local drill and the tests run."""

from __future__ import annotations

import re
from importlib.metadata import requires, version
from pathlib import Path

from dr_autopilot.states import FUNCTIONS
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


LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024  # bytes: Lambda's limit for a function's unzipped code


def test_the_bundle_cdk_builds_holds_the_pinned_sdk_our_code_and_no_foreign_bytecode(tmp_path: Path) -> None:
    # Given the local bundling CDK runs at synth (the real pip install for the Lambda platform)
    from infrastructure.bundling import LocalPipBundling

    # When it builds the bundle
    assert LocalPipBundling().try_bundle(str(tmp_path)) is True
    # Then boto3 and botocore are in it, at the pinned versions
    pinned = pins()
    for package in ("boto3", "botocore"):
        (dist_info,) = tmp_path.glob(f"{package}-*.dist-info")
        assert dist_info.name == f"{package}-{pinned[package]}.dist-info"
    # And every handler of the state table is there, as source
    for spec in FUNCTIONS:
        module = spec.handler.rsplit(".", 1)[0]
        assert (tmp_path / (module.replace(".", "/") + ".py")).is_file(), module
    # And there is no bytecode at all (it would be for this Python, not the runtime's)
    assert not [path for path in tmp_path.rglob("*.pyc")]
    assert not [path for path in tmp_path.rglob("__pycache__")]
    # And it fits well within Lambda's unzipped limit
    size = sum(path.stat().st_size for path in tmp_path.rglob("*") if path.is_file())
    assert size < LAMBDA_UNZIPPED_LIMIT / 2, f"{size / 2**20:.0f} MiB"
