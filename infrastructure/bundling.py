"""Bundle the Lambda code and its dependencies without Docker.

CDK asks `try_bundle` first; it installs manylinux wheels for the Lambda runtime with this
Python's pip (`--only-binary` so nothing is compiled for the wrong platform) and copies the
`dr_autopilot` package next to them. Docker is only the fallback CDK would use if this failed.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import jsii
from aws_cdk import BundlingOptions, ILocalBundling
from aws_cdk import aws_lambda as lambda_

LAMBDA_SOURCE = Path(__file__).resolve().parent.parent / "lambdas"
RUNTIME = lambda_.Runtime.PYTHON_3_14
PLATFORM = "manylinux2014_x86_64"
PYTHON_VERSION = "3.14"


@jsii.implements(ILocalBundling)
class LocalPipBundling:
    def try_bundle(self, output_dir: str, *, image: object = None, **_: object) -> bool:
        subprocess.run(  # noqa: S603 - fixed arguments, our own requirements file
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--requirement",
                str(LAMBDA_SOURCE / "requirements.txt"),
                "--target",
                output_dir,
                "--platform",
                PLATFORM,
                "--python-version",
                PYTHON_VERSION,
                "--implementation",
                "cp",
                "--only-binary=:all:",
                "--no-compile",  # bytecode would be for this Python (3.11), not the runtime's
                "--no-warn-conflicts",
            ],
            check=True,
        )
        shutil.copytree(
            LAMBDA_SOURCE / "dr_autopilot",
            Path(output_dir) / "dr_autopilot",
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
            dirs_exist_ok=True,
        )
        return True


def lambda_code() -> lambda_.Code:
    """One asset for every function: bundled once per synth, shared by all."""
    return lambda_.Code.from_asset(
        str(LAMBDA_SOURCE),
        exclude=["**/__pycache__", "**/*.pyc", "*.egg-info"],
        bundling=BundlingOptions(
            image=RUNTIME.bundling_image,
            local=LocalPipBundling(),
            command=[
                "bash",
                "-c",
                "pip install -r requirements.txt -t /asset-output && cp -r dr_autopilot /asset-output/",
            ],
        ),
    )
