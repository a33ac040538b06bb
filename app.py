#!/usr/bin/env python3
"""CDK entry point (`npx cdk synth` runs this, see cdk.json)."""

import sys

from dr_autopilot.config import ConfigError

from infrastructure.app import build_app

if __name__ == "__main__":
    try:
        app = build_app()
    except ConfigError as error:
        print(f"cdk.json: {error}", file=sys.stderr)
        sys.exit(1)
    app.synth()
