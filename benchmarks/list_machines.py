"""Benchmark: list every machine of the 3,000-machine scenario through the project's client.

Prints wall-clock figures (best and median of several runs) and the emulator's memory. The
emulator runs in its own process so its resident memory can be read from /proc.
Run with `make bench` or `python benchmarks/list_machines.py [--machines N] [--runs R]`.
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import subprocess
import sys
import time
from pathlib import Path

from dr_autopilot.providers.cloudendure.client import CloudEndureClient


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--machines", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--page-size", type=int, default=500)
    args = parser.parse_args()
    token = secrets.token_urlsafe(24)
    emulator = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
        [
            sys.executable,
            "-m",
            "local.cloudendure",
            "--port",
            "0",
            "--scenario",
            "large",
            "--machine-count",
            str(args.machines),
            "--api-token",
            token,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert emulator.stdout is not None
        base_url = ""
        while not base_url:
            line = emulator.stdout.readline()
            if not line:
                print("emulator did not start", file=sys.stderr)
                return 1
            if "API base URL:" in line:
                base_url = line.split("API base URL:")[1].strip()
        idle_rss = rss_mib(emulator.pid)
        client = CloudEndureClient(api_token=lambda: token, base_url=base_url)
        project = client.projects()[0]
        timings = []
        for _ in range(args.runs):
            started = time.perf_counter()
            count = sum(1 for _ in client.machines(project.id, page_size=args.page_size))
            timings.append(time.perf_counter() - started)
            assert count == args.machines, f"listed {count} machines, expected {args.machines}"
        print(
            f"machines listed per run      : {args.machines} (page size {args.page_size}, {-(-args.machines // args.page_size)} pages)"
        )
        print(f"list all machines, best      : {min(timings):.3f} s   (target < 2 s on the 2-core machine)")
        print(f"list all machines, median    : {statistics.median(timings):.3f} s over {args.runs} runs")
        print(f"emulator memory, idle        : {idle_rss:.1f} MiB RSS")
        print(f"emulator memory, after runs  : {rss_mib(emulator.pid):.1f} MiB RSS")
        print(f"client retries / relogins    : {client.stats.retries} / {client.stats.relogins}")
        return 0 if min(timings) < 2.0 else 1
    finally:
        emulator.terminate()
        emulator.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
