"""One execution's report as a self-contained HTML page: the phase timeline drawn as an SVG chart,
RTO and RPO against their objectives, and what was and was not changed.

`dr-autopilot report EXECUTION --html FILE` writes it for any execution; the local drill writes
one for each run. The page carries its style inline and loads nothing: it can be mailed, attached
to a ticket or opened offline.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from datetime import datetime
from html import escape
from pathlib import Path

from dr_autopilot.states import PHASES

from dr_autopilot_cli.operations import CliError, Report

TITLES = {phase.key: phase.title for phase in PHASES}
CHART_WIDTH = 720.0  # the bars' drawing width in SVG units; a bar's width is its share of the total
BAR_HEIGHT = 22
LABEL_WIDTH = 170
ROW = BAR_HEIGHT + 8
STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 960px; color: #1d232b; }
h1 { font-size: 1.4rem; margin-bottom: .2rem; } .status { font-weight: 600; }
.SUCCEEDED { color: #1a7f37; } .FAILED, .TIMED_OUT, .ABORTED { color: #cf222e; }
table { border-collapse: collapse; margin: .5rem 0 1.2rem; } td, th { padding: .2rem .8rem .2rem 0; text-align: left; }
svg text { font: 12px system-ui, sans-serif; } .phase { fill: #3b82c4; } .phase:nth-of-type(even) { fill: #6aa6dd; } .wave { fill: #8a63d2; }
.over { color: #cf222e; font-weight: 600; } .within { color: #1a7f37; font-weight: 600; }
"""


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f} s"


def timeline_svg(phases: list[tuple[str, float]]) -> str:
    """One bar per phase, in the order they ran, each starting where the previous ended and as
    wide as its share of the whole run."""
    total = sum(seconds for _, seconds in phases) or 1.0
    height = ROW * max(1, len(phases)) + 10
    width = LABEL_WIDTH + CHART_WIDTH + 90
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height}" '
        f'viewBox="0 0 {width:.0f} {height}" role="img" aria-label="Phase timeline">'
    ]
    start = 0.0
    for row, (key, seconds) in enumerate(phases):
        x = LABEL_WIDTH + start / total * CHART_WIDTH
        bar = seconds / total * CHART_WIDTH
        y = 5 + row * ROW
        title = escape(TITLES.get(key, key))
        parts.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{y + BAR_HEIGHT - 7}" text-anchor="end">{title}</text>'
            f'<rect class="phase" data-phase="{escape(key)}" data-seconds="{seconds:.3f}" x="{x:.3f}" y="{y}" '
            f'width="{bar:.3f}" height="{BAR_HEIGHT}"><title>{title}: {seconds:.1f} s</title></rect>'
            f'<text x="{x + bar + 6:.3f}" y="{y + BAR_HEIGHT - 7}">{seconds:.1f} s</text>'
        )
        start += seconds
    parts.append("</svg>")
    return "".join(parts)


def waves_svg(timeline: dict[str, str]) -> str:
    """A recovery plan's waves on the run's clock: one bar per wave, from its launch to its job's
    completion (the timeline's "wave NAME launched" / "wave NAME completed"); "" without waves."""
    moments = {name: datetime.fromisoformat(moment) for name, moment in timeline.items()}
    waves = [
        name[len("wave ") : -len(" launched")]
        for name in moments
        if name.startswith("wave ") and name.endswith(" launched")
    ]
    if not waves or "started" not in moments:
        return ""
    start = moments["started"]
    total = max((moment - start).total_seconds() for moment in moments.values()) or 1.0
    height = ROW * len(waves) + 10
    width = LABEL_WIDTH + CHART_WIDTH + 90
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height}" '
        f'viewBox="0 0 {width:.0f} {height}" role="img" aria-label="Waves">'
    ]
    for row, wave in enumerate(waves):
        launched = (moments[f"wave {wave} launched"] - start).total_seconds()
        completed_at = moments.get(f"wave {wave} completed")
        seconds = (completed_at - start).total_seconds() - launched if completed_at else total - launched
        x = LABEL_WIDTH + launched / total * CHART_WIDTH
        bar = max(seconds, 0.0) / total * CHART_WIDTH
        y = 5 + row * ROW
        name = escape(wave)
        state = "completed" if completed_at else "not completed"
        parts.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{y + BAR_HEIGHT - 7}" text-anchor="end">wave {name}</text>'
            f'<rect class="wave" data-wave="{name}" data-start="{launched:.3f}" data-seconds="{seconds:.3f}" '
            f'x="{x:.3f}" y="{y}" width="{bar:.3f}" height="{BAR_HEIGHT}"><title>wave {name}: launched at '
            f"+{launched:.1f} s, {state} after {seconds:.1f} s</title></rect>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _objective_row(name: str, value: float | None, objective: float, what: str) -> str:
    if value is None:
        verdict = "not measured (the run did not get that far)"
    elif value <= objective:
        verdict = '<span class="within">within objective</span>'
    else:
        verdict = '<span class="over">OVER objective</span>'
    return (
        f"<tr><th>{name}</th><td>{_seconds(value)}</td><td>objective {_seconds(objective)}</td>"
        f"<td>{verdict}</td><td>{escape(what)}</td></tr>"
    )


def render_html(report: Report) -> str:
    """The page for one execution's report."""
    status = escape(report.status)
    error = f" ({escape(report.error)})" if report.error else ""
    changed = "".join(f"<li>{escape(line)}</li>" for line in report.changed) or "<li>nothing</li>"
    unchanged = "".join(f"<li>{escape(line)}</li>" for line in report.unchanged) or "<li>-</li>"
    moments = "".join(
        f"<tr><td>{escape(moment)}</td><td>{escape(name)}</td></tr>" for name, moment in report.timeline.items()
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f"<title>DR Autopilot: {escape(report.execution)}</title><style>{STYLE}</style></head><body>"
        f"<h1>DR Autopilot: execution {escape(report.execution)}</h1>"
        f'<p class="status {status}">{status}{error}</p>'
        + (f"<p>{escape(report.headline)}</p>" if report.headline else "")
        + "<h2>Phases</h2>"
        + timeline_svg(report.phases)
        + (f"<h2>Waves</h2>{waves}" if (waves := waves_svg(report.timeline)) else "")
        + "<h2>Objectives</h2><table>"
        + _objective_row("RTO", report.rto_seconds, report.objective_seconds, "start to DNS in sync")
        + _objective_row(
            "RPO",
            report.rpo_seconds,
            report.rpo_objective_seconds,
            "the largest replication lag when replication was checked",
        )
        + "</table><h2>What changed</h2><ul>"
        + changed
        + "</ul><h2>What did not change</h2><ul>"
        + unchanged
        + "</ul>"
        + (f"<h2>Timeline</h2><table>{moments}</table>" if moments else "")
        + "</body></html>\n"
    )


def write_html(report: Report, path: Path) -> None:
    """Write the page; a path that cannot be written is a CliError naming it (nothing half-written)."""
    page = render_html(report)
    if path.is_dir():
        raise CliError(f"--html {path}: is a folder; give a file name")
    partial: str | None = None
    try:  # a new file of our own beside the target (never one placed there), then renamed over it
        handle, partial = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(page)
        os.replace(partial, path)
    except OSError as error:
        if partial is not None:
            with contextlib.suppress(OSError):
                os.unlink(partial)
        raise CliError(f"--html {path}: cannot write the report: {error.strerror or error}") from error
