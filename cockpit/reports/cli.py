"""`cockpit report RECORDING` (postmortem) and `cockpit report --weekly`.

Each writes one self-contained HTML file, in the current directory unless --output
says otherwise, named with the date (postmortem-YYYY-MM-DD-HHMM.html after the
recording's start; weekly-report-YYYY-MM-DD.html after the week's end).
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # not at run time: `cockpit run` starts its request before pydantic
    from cockpit.config import Settings


def add_parser(sub: Any) -> argparse.ArgumentParser:
    report = sub.add_parser(
        "report",
        help="write a postmortem of a recording, or the runbook's weekly report, as HTML",
        description="`cockpit report RECORDING` writes a postmortem of the recording; "
        "`cockpit report --weekly` the weekly checks (performance from Prometheus, or from "
        "--recording; backups of the week; image vulnerabilities).",
    )
    report.add_argument("recording", nargs="?", type=Path, help="the recording (postmortem)")
    report.add_argument("--weekly", action="store_true", help="the weekly report instead")
    report.add_argument(
        "--recording",
        dest="weekly_recording",
        type=Path,
        metavar="FILE",
        help="with --weekly: the figures from this recording when no Prometheus is found "
        "(default: the cockpit's own recording)",
    )
    report.add_argument(
        "--output", "-o", type=Path, metavar="FILE", help="where to write (default: ./NAME.html)"
    )
    return report  # cockpit.cli adds the common flags (--context, --namespace, --config)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def postmortem(args: argparse.Namespace, settings: Settings) -> int:
    from cockpit.recording.store import RecordingReader
    from cockpit.reports.postmortem import build
    from cockpit.reports.render_postmortem import render_postmortem

    path: Path = args.recording
    if not path.is_file():
        print(f"cockpit report: {path}: no such recording", file=sys.stderr)
        return 2
    try:
        reader = RecordingReader(path)
    except Exception as exc:  # RecordingError names the file itself
        print(f"cockpit report: {exc}", file=sys.stderr)
        return 2
    try:
        pm = build(reader, settings.thresholds)
    except ValueError as exc:
        print(f"cockpit report: {path}: {exc}", file=sys.stderr)
        return 2
    finally:
        reader.close()
    out = args.output or Path.cwd() / f"postmortem-{pm.start:%Y-%m-%d-%H%M}.html"
    _write(out, render_postmortem(pm, path.name))
    print(
        f"postmortem of {path.name} ({len(pm.changes)} level changes, "
        f"{len(pm.actions)} actions) written to {out}"
    )
    return 0


def weekly(args: argparse.Namespace, settings: Settings) -> int:
    from cockpit.reports.render_weekly import render_weekly
    from cockpit.reports.weekly import build_weekly

    recording: Path | None = args.weekly_recording
    if recording is None and settings.effective_recording_path().is_file():
        recording = settings.effective_recording_path()  # what this machine recorded
    if recording is not None and not recording.is_file():
        print(f"cockpit report: {recording}: no such recording", file=sys.stderr)
        return 2
    end = datetime.now(UTC)
    import asyncio  # here: `cockpit run` imports this module before its request

    report = asyncio.run(
        build_weekly(
            settings,
            end=end,
            recording=recording,
            context=getattr(args, "context", None),
            namespace=getattr(args, "namespace", None),
        )
    )
    out = args.output or Path.cwd() / f"weekly-report-{end:%Y-%m-%d}.html"
    _write(out, render_weekly(report, settings.backups.min_size_ratio))
    print(
        f"weekly report written to {out} (figures: {report.figures_source}; "
        f"vulnerabilities: {report.vulns.source})"
    )
    for problem in report.problems:
        print(f"  note: {problem}", file=sys.stderr)
    return 0


def dispatch(args: argparse.Namespace, settings: Settings) -> int:
    if args.weekly:
        if args.recording is not None:
            print(
                "cockpit report: --weekly takes its recording as --recording FILE",
                file=sys.stderr,
            )
            return 2
        return weekly(args, settings)
    if args.recording is None:
        print("cockpit report: give a RECORDING (postmortem) or --weekly", file=sys.stderr)
        return 2
    return postmortem(args, settings)
