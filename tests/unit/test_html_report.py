"""The HTML report: a self-contained page whose SVG timeline has one bar per phase, in order,
each as wide as its share of the run, with RTO and RPO against their objectives."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from dr_autopilot_cli.html_report import render_html, write_html
from dr_autopilot_cli.operations import CliError, Report

SVG = "{http://www.w3.org/2000/svg}"


def a_report(**changes: object) -> Report:
    base: dict[str, object] = {
        "execution": "failover-1",
        "status": "SUCCEEDED",
        "phases": [("validate", 0.4), ("replication", 2.0), ("launch", 1.6), ("job", 240.0), ("dns", 6.0)],
        "timeline": {"started": "2026-11-27T03:00:00+00:00", "dnsInsync": "2026-11-27T03:04:10+00:00"},
        "rto_seconds": 250.0,
        "objective_seconds": 1800,
        "error": None,
        "headline": "recovery succeeded: www.example.com switched 192.0.2.10 -> 127.0.0.5",
        "changed": ["launch job 42 (RECOVERY) started", "www.example.com A: 192.0.2.10 -> 127.0.0.5"],
        "unchanged": [],
        "rpo_seconds": 25.0,
        "rpo_objective_seconds": 120.0,
    }
    return Report(**{**base, **changes})  # type: ignore[arg-type]


def bars(page: str) -> list[ET.Element]:
    (svg,) = re.findall(r"<svg.*?</svg>", page, flags=re.DOTALL)
    chart = ET.fromstring(svg)  # noqa: S314 - our own page, parsed to check it
    return [element for element in chart.iter(f"{SVG}rect") if element.get("class") == "phase"]


def test_the_timeline_has_one_bar_per_phase_in_order_as_wide_as_its_share() -> None:
    # Given a run of five phases, When its page is drawn
    report = a_report()
    found = bars(render_html(report))
    # Then there is one bar per phase, in the order they ran
    assert [bar.get("data-phase") for bar in found] == [key for key, _ in report.phases]
    # And each bar's width is proportional to its duration, each starting where the previous ended
    widths = [float(bar.get("width", "0")) for bar in found]
    total = sum(seconds for _, seconds in report.phases)
    for width, (_, seconds) in zip(widths, report.phases, strict=True):
        assert width / sum(widths) == pytest.approx(seconds / total, abs=1e-4)
    starts = [float(bar.get("x", "0")) for bar in found]
    for before, width, after in zip(starts, widths, starts[1:], strict=False):
        assert after == pytest.approx(before + width, abs=1e-2)


def test_the_page_states_rto_and_rpo_against_their_objectives_and_what_changed() -> None:
    page = render_html(a_report(rto_seconds=2000.0))
    assert "RTO" in page and "OVER objective" in page  # 2,000 s against 1,800 s
    assert "RPO" in page and "25.0 s" in page and "within objective" in page  # 25 s against 120 s
    assert "www.example.com A: 192.0.2.10 -&gt; 127.0.0.5" in page


def test_the_page_is_self_contained_and_quotes_what_it_shows() -> None:
    # Given a headline and a change line that carry markup (an error text quoting a web page)
    page = render_html(a_report(headline="<script>alert(1)</script>", changed=['<img src="http://x/">']))
    # Then nothing is loaded or run: no scripts, no links, no external sources; the text is escaped
    assert "<script" not in page and "<img" not in page and "<link" not in page
    assert not re.search(r"""(src|href)\s*=\s*["']?https?:""", page)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_a_run_that_never_got_to_dns_says_rto_was_not_measured() -> None:
    page = render_html(
        a_report(status="FAILED", error="ReplicationNotReady", rto_seconds=None, phases=[("validate", 0.3)])
    )
    assert "not measured" in page and len(bars(page)) == 1


def test_writing_to_a_folder_that_does_not_exist_is_refused_naming_the_path(tmp_path: Path) -> None:
    target = tmp_path / "missing" / "report.html"
    with pytest.raises(CliError, match=r"--html .*missing/report\.html"):
        write_html(a_report(), target)
    assert not target.parent.exists()


def test_a_folder_is_refused_and_nothing_is_left_behind(tmp_path: Path) -> None:
    with pytest.raises(CliError, match="is a folder"):
        write_html(a_report(), tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_file_placed_where_the_report_is_written_first_is_never_written_through(tmp_path: Path) -> None:
    # Given a symbolic link where an older writer put its partial file, pointing at another file
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    (tmp_path / "report.html.partial").symlink_to(victim)
    # When the report is written, Then it lands in report.html and the other file is untouched
    write_html(a_report(), tmp_path / "report.html")
    assert victim.read_text() == "keep me" and "<svg" in (tmp_path / "report.html").read_text()


def test_a_recovery_plan_s_waves_are_drawn_where_they_ran() -> None:
    # Given a run whose plan launched two waves: 10-70 s and 80-140 s of a 200 s run
    timeline = {
        "started": "2026-11-27T03:00:00+00:00",
        "wave database launched": "2026-11-27T03:00:10+00:00",
        "wave database completed": "2026-11-27T03:01:10+00:00",
        "wave web launched": "2026-11-27T03:01:20+00:00",
        "wave web completed": "2026-11-27T03:02:20+00:00",
        "dnsInsync": "2026-11-27T03:03:20+00:00",
    }
    page = render_html(a_report(timeline=timeline))
    # When the waves' chart is read
    (svg,) = re.findall(r'<svg[^>]*aria-label="Waves".*?</svg>', page, flags=re.DOTALL)
    waves = [e for e in ET.fromstring(svg).iter(f"{SVG}rect") if e.get("class") == "wave"]  # noqa: S314
    # Then there is one bar per wave, in order, starting and lasting as the waves did
    assert [w.get("data-wave") for w in waves] == ["database", "web"]
    assert [float(w.get("data-start", "nan")) for w in waves] == [10.0, 80.0]
    assert [float(w.get("data-seconds", "nan")) for w in waves] == [60.0, 60.0]
    x = [float(w.get("x", "nan")) for w in waves]
    widths = [float(w.get("width", "nan")) for w in waves]
    assert x[1] > x[0] + widths[0] and widths[0] == pytest.approx(widths[1])
    # And a run without a plan draws no waves' chart
    assert 'aria-label="Waves"' not in render_html(a_report())
