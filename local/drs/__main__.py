"""Start the DRS emulator standalone: `python -m local.drs --port 8090`."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading

from local.drs.scenario import ScenarioError, available_scenarios
from local.drs.server import DrsEmulator


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m local.drs", description="Serve an emulated AWS Elastic Disaster Recovery API on this machine."
    )
    parser.add_argument("--port", type=int, default=8090, help="port to listen on (0 picks a free one; default 8090)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--scenario",
        default="two-tier",
        help=f"bundled scenario ({', '.join(available_scenarios())}) or a scenario file path",
    )
    parser.add_argument(
        "--time-scale", type=float, default=1.0, help="emulated seconds per real second (60 runs a 4-minute job in 4 s)"
    )
    parser.add_argument("--machine-count", type=int, help="number of source servers for the generated 'large' scenario")
    args = parser.parse_args(argv)
    try:
        emulator = DrsEmulator(
            args.scenario,
            host=args.host,
            port=args.port,
            time_scale=args.time_scale,
            machine_count=args.machine_count,
        )
    except (ScenarioError, ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    emulator.start()
    region = emulator.arns.region
    print(f"DRS emulator: scenario {emulator.account.scenario.name!r}, time scale {emulator.clock.time_scale:g}x")
    print(f"  endpoint:      {emulator.base_url}  (region {region}, any credentials)")
    print(f"  try:           aws drs describe-source-servers --endpoint-url {emulator.base_url} --region {region}")
    print(f"  landing pages: http://<recovery instance public IP>:{emulator.landing_port}/")
    print(f"  admin API:     {emulator.admin_url}/info", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
