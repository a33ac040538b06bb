"""Start the CloudEndure emulator standalone: `python -m local.cloudendure --port 8080`."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading

from local.cloudendure.scenario import ScenarioError, available_scenarios
from local.cloudendure.server import CloudEndureEmulator


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m local.cloudendure", description="Serve an emulated CloudEndure v5 API on this machine."
    )
    parser.add_argument("--port", type=int, default=8080, help="port to listen on (0 picks a free one; default 8080)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--api-token", help="the userApiToken that logs in (default: a random one, printed)")
    parser.add_argument(
        "--scenario",
        default="two-tier",
        help=f"bundled scenario ({', '.join(available_scenarios())}) or a scenario file path",
    )
    parser.add_argument(
        "--time-scale", type=float, default=1.0, help="emulated seconds per real second (60 runs a 4-minute job in 4 s)"
    )
    parser.add_argument("--machine-count", type=int, help="number of machines for the generated 'large' scenario")
    args = parser.parse_args(argv)
    try:
        emulator = CloudEndureEmulator(
            args.scenario,
            host=args.host,
            port=args.port,
            api_token=args.api_token,
            time_scale=args.time_scale,
            machine_count=args.machine_count,
        )
    except (ScenarioError, ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    emulator.start()
    print(
        f"CloudEndure emulator: scenario {emulator.account.scenario.name!r}, time scale {emulator.clock.time_scale:g}x",
        flush=True,
    )
    print(f"  API base URL:  {emulator.base_url}", flush=True)
    print(f"  API token:     {emulator.api_token}", flush=True)
    print(f"  landing pages: http://<replica publicIps[0]>:{emulator.landing_port}/", flush=True)
    print(f"  admin API:     {emulator.admin_url}/info", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
