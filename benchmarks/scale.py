"""Benchmark: the local drill at scale, on each provider (`make bench-scale`).

For each provider and machine count, one failover of the generated `large` estate (machines
"all") in the local drill; prints a table, or with `--json` one JSON object per run. The
figures are the drill report's: launch overhead (start -> the launch call accepted), completion
overhead (job complete -> DNS INSYNC), state transitions, largest state payload, and the API
calls the emulator served, by operation. Emulated time runs `--time-scale` times faster than
real time, so a slow step also costs emulated minutes (against the job timeout).

Run with `python benchmarks/scale.py [--providers cloudendure drs] [--machines 10 100 1000 3000]`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from local.environment import LocalFailoverEnvironment
from local.providers import PROVIDERS
from local.report import build_report


def run(provider: str, machines: int, time_scale: float) -> dict[str, Any]:
    started = time.monotonic()
    with LocalFailoverEnvironment("large", provider=provider, machine_count=machines, time_scale=time_scale) as env:  # type: ignore[arg-type]
        before = env.site.record_values()
        result = env.executions.run({"requestedBy": "bench-scale"}, timeout=1800, interval=0.5)
        report = build_report(env, result, before)
        calls = dict(sorted(env.emulator.account.faults.calls.items()))
    return {
        "provider": provider,
        "machines": machines,
        "status": result.status,
        "error": result.error,
        "launch_overhead_seconds": report.launch_overhead_seconds,
        "completion_overhead_seconds": report.completion_overhead_seconds,
        "state_transitions": report.state_transitions,
        "largest_payload_bytes": report.largest_payload_bytes,
        "launches": report.launches,
        "api_calls": calls,
        "wall_seconds": round(time.monotonic() - started, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--providers", nargs="+", choices=PROVIDERS, default=list(PROVIDERS))
    parser.add_argument("--machines", nargs="+", type=int, default=[10, 100, 1000, 3000])
    parser.add_argument("--time-scale", type=float, default=60.0)
    parser.add_argument("--json", action="store_true", help="one JSON object per run")
    args = parser.parse_args()
    rows = []
    if not args.json:
        print(
            f"{'provider':<12} {'machines':>8} {'status':<10} {'launch s':>9} {'complete s':>10} "
            f"{'transitions':>11} {'payload B':>9} {'API calls':>9} {'wall s':>7}",
            flush=True,
        )
    for provider in args.providers:
        for machines in args.machines:
            row = run(provider, machines, args.time_scale)
            rows.append(row)
            if args.json:
                print(json.dumps(row), flush=True)
                continue

            def seconds(value: float | None) -> str:
                return "-" if value is None else f"{value:.2f}"

            print(
                f"{provider:<12} {machines:>8} {row['status']:<10} {seconds(row['launch_overhead_seconds']):>9} "
                f"{seconds(row['completion_overhead_seconds']):>10} {row['state_transitions']:>11} "
                f"{row['largest_payload_bytes']:>9} {sum(row['api_calls'].values()):>9} {row['wall_seconds']:>7}",
                flush=True,
            )
    return 0 if all(row["status"] == "SUCCEEDED" for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
