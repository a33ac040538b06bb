"""How the CLI draws: rich tables and a live progress display on a terminal, plain lines when the
output is piped (stable for scripts and logs). `--json` output is written by `main`, not here."""

from __future__ import annotations

from types import TracebackType
from typing import TextIO

from dr_autopilot.history import Progress
from dr_autopilot.states import PHASES
from rich.console import Console, Group
from rich.live import Live
from rich.panel import Panel
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
from rich.progress import Progress as ProgressBar
from rich.table import Table
from rich.text import Text

from dr_autopilot_cli.operations import LastReadiness, MachineRow, Report

LOG_LINES_SHOWN = 8
TITLES = {phase.key: phase.title for phase in PHASES}


def _console(out: TextIO) -> Console:
    return Console(file=out, highlight=False)


def readiness_line(last: LastReadiness) -> str:
    """One line: the last readiness verdict, its time, its execution and why not."""
    verdict = last.verdict
    if verdict is None:
        return f"Last readiness verdict: {last.note}"
    when = verdict.checked_at.isoformat(timespec="seconds")
    line = f"Last readiness verdict: {'READY' if verdict.ready else 'NOT READY'} at {when} ({verdict.execution_name})"
    return line + (f": {'; '.join(verdict.reasons)}" if verdict.reasons else "")


def status(rows: list[MachineRow], out: TextIO, readiness: LastReadiness | None = None) -> None:
    _machines(rows, out)
    if readiness is not None:
        print(readiness_line(readiness), file=out)


def _machines(rows: list[MachineRow], out: TextIO) -> None:
    ready = sum(row.ready for row in rows)
    console = _console(out)
    if console.is_terminal:
        table = Table("Machine", "Replication", "Lag", "Ready", "Why not", title="Replication")
        table.columns[2].justify = "right"
        for row in rows:
            lag = f"{row.lag_seconds:.0f} s" if row.lag_seconds is not None else "-"
            verdict = Text("yes", style="green") if row.ready else Text("NO", style="bold red")
            table.add_row(row.name, row.replication, lag, verdict, "; ".join(row.reasons))
        console.print(table)
        console.print(f"{ready} of {len(rows)} machines ready for failover")
        return
    print(f"{'MACHINE':<24} {'REPLICATION':<12} {'LAG':>8}  {'READY':<5}  WHY NOT", file=out)
    for row in rows:
        lag = f"{row.lag_seconds:.0f} s" if row.lag_seconds is not None else "-"
        print(
            f"{row.name:<24} {row.replication:<12} {lag:>8}  {'yes' if row.ready else 'NO':<5}  {'; '.join(row.reasons)}",
            file=out,
        )
    print(f"\n{ready} of {len(rows)} machines ready for failover", file=out)


def report(result: Report, out: TextIO) -> None:
    console = _console(out)
    print(f"Execution {result.execution}: {result.status}" + (f" ({result.error})" if result.error else ""), file=out)
    if result.headline:
        print(result.headline, file=out)
    if console.is_terminal:
        phases = Table("Phase", "Seconds", title="Phases")
        phases.columns[1].justify = "right"
        for key, seconds in result.phases:
            phases.add_row(TITLES.get(key, key), f"{seconds:.1f}")
        console.print(phases)
    else:
        print(f"\n{'PHASE':<14} {'SECONDS':>8}", file=out)
        for key, seconds in result.phases:
            print(f"{key:<14} {seconds:8.1f}", file=out)
    if result.timeline:
        print("\nTimeline:", file=out)
        for name, moment in result.timeline.items():
            print(f"  {moment}  {name}", file=out)
    if result.rto_seconds is not None:
        verdict = "within" if result.within_objective else "OVER"
        print(
            f"\nRTO {result.rto_seconds:.1f} s, objective {result.objective_seconds} s: {verdict} objective", file=out
        )


class Watch:
    """Following an execution: on a terminal a live phase bar with the newest job-log lines beneath
    it; otherwise one line per phase entered and per job-log line."""

    def __init__(self, out: TextIO, total: int) -> None:
        self._out = out
        self._console = _console(out)
        self._live: Live | None = None
        self._log: list[str] = []
        self._bar = ProgressBar(
            TextColumn("{task.description:<22}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self._console,
        )
        self._task = self._bar.add_task(TITLES[PHASES[0].key], total=total)

    def __enter__(self) -> Watch:
        if self._console.is_terminal:
            self._live = Live(self._view(), console=self._console, auto_refresh=False, transient=False)
            self._live.__enter__()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._live is not None:
            self._live.__exit__(kind, error, trace)

    def update(self, progress: Progress, elapsed: float) -> None:
        if self._live is None:
            for line in progress.new_lines:
                print(f"  job log | {line}", file=self._out)
            for phase in progress.entered:
                print(f"  {elapsed:6.1f}s  {phase}", file=self._out, flush=True)
            return
        self._log = (self._log + progress.new_lines)[-LOG_LINES_SHOWN:]
        done = progress.phase_index + (1 if progress.status == "SUCCEEDED" else 0)
        label = TITLES[progress.phase] if progress.status == "RUNNING" else f"{progress.status.lower()}"
        self._bar.update(self._task, completed=done, description=label)
        self._live.update(self._view(), refresh=True)

    def _view(self) -> Group:
        log = Text("\n".join(self._log) or "(no job log yet)", style="dim" if not self._log else "")
        return Group(self._bar, Panel(log, title="job log", title_align="left"))
