"""The Backups pane: the runbook's backup checks (CronJob, its Jobs, the dumps in S3).

Problems first, worst first, in their level colour; then the CronJob and the S3 summary
(newest dump's age, count, retention); then two keyed tables: the recent Jobs and the
newest objects.  Object keys and Job names are untrusted: shown only as plain Text.
The app's global `B` runs the backup Job now; the border's footer says so.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static

from cockpit import clock
from cockpit.model import BackupObject, BackupsSnapshot, JobRow, Level
from cockpit.textsafe import clean, one_line
from cockpit.units import ago, bytes_text, duration, since
from widgets.cells import LEVEL_MARK, LEVEL_STYLE, leveled, plain
from widgets.pane import Pane
from widgets.statictext import set_text
from widgets.table import Cells, KeyedTable

DIM = "dim"
SEP = " · "
# Ages coloured in the summary and tables; the snapshot's problems carry the same rule.
WARN_AGE = timedelta(hours=26)
CRIT_AGE = timedelta(days=2)
RERENDER_S = 30.0  # ages move slowly; re-render them this often between polls
MAX_PROBLEM_LINES = 4
MAX_OBJECT_ROWS = 50

# kubectl get jobs' order (its COMPLETIONS column says nothing for a one-pod backup).
JOB_COLUMNS = (
    ("job", "JOB"),
    ("status", "STATUS"),
    ("by", "BY"),
    ("took", "DURATION"),
    ("age", "AGE"),
)
OBJECT_COLUMNS = (("key", "KEY"), ("size", "SIZE"), ("age", "AGE"))


def age_level(moment: datetime | None, now: datetime) -> Level:
    if moment is None:
        return Level.WARN
    age = now - moment
    if age > CRIT_AGE:
        return Level.CRIT
    return Level.WARN if age > WARN_AGE else Level.OK


def problems_text(snap: BackupsSnapshot) -> Text:
    text = Text()
    shown = snap.problems[:MAX_PROBLEM_LINES]
    for index, (level, words) in enumerate(shown):
        if index:
            text.append("\n")
        shown_level = max(level, Level.WARN)
        text.append(f"{LEVEL_MARK[shown_level]} {one_line(words, 300)}", LEVEL_STYLE[shown_level])
    more = len(snap.problems) - len(shown)
    if more > 0:
        text.append(f"\n… {more} more", style=DIM)
    if snap.s3_message and snap.s3_hint:
        text.append(f"\n  {one_line(snap.s3_hint, 200)}", style="italic")
    return text


def cron_line(snap: BackupsSnapshot, now: datetime) -> Text:
    line = Text("cron ", style=DIM).append(clean(snap.schedule, 40))
    line.append(SEP).append(clean(snap.cronjob, 60))
    if snap.suspended:
        line.append(SEP).append("SUSPENDED", style=LEVEL_STYLE[Level.WARN])
    line.append(SEP + "last run ", style=DIM).append(ago(snap.last_schedule, now))
    return line


def success_line(snap: BackupsSnapshot, now: datetime) -> Text:
    line = Text("last success ", style=DIM)
    if snap.last_success is None:
        return line.append("none on record", style=LEVEL_STYLE[Level.WARN])
    line.append(ago(snap.last_success, now), style=LEVEL_STYLE[age_level(snap.last_success, now)])
    line.append(f" ({snap.last_success:%Y-%m-%d %H:%M} UTC)", style=DIM)
    return line


def s3_line(snap: BackupsSnapshot, now: datetime) -> Text:
    where = clean(f"s3://{snap.bucket}/{snap.prefix}", 80)
    line = Text("S3 ", style=DIM)
    if not snap.s3_checked:
        return line.append(f"{where} not listed", style=DIM)
    if snap.s3_message and snap.s3_listed_at is None:
        return line.append(f"{where}: not available", style=LEVEL_STYLE[Level.WARN])
    newest = snap.newest
    if newest is None:
        return line.append(f"{where}: empty", style=LEVEL_STYLE[Level.CRIT])
    line.append("newest ", style=DIM)
    line.append(ago(newest.when, now), style=LEVEL_STYLE[age_level(newest.when, now)])
    plus = "+" if snap.truncated else ""
    line.append(SEP).append(f"{snap.object_count:,}{plus} objects {bytes_text(snap.total_bytes)}")
    if snap.past_retention:
        line.append(SEP).append(
            f"{snap.past_retention:,}{plus} past the {snap.retention_days}-day retention",
            style="yellow",
        )
    if snap.truncated:
        line.append(SEP).append(f"listing capped at {snap.key_limit:,} keys", style="italic")
    if snap.s3_message and snap.s3_listed_at is not None:
        line.append(SEP).append(f"as listed {ago(snap.s3_listed_at, now)}", style="italic")
    return line


VERDICT_WORDS = {
    "verified": "verified",
    "too small": "TOO SMALL",
    "truncated": "TRUNCATED",
    "corrupt": "CORRUPT",
    "unreadable": "unreadable",
}
BAR_WIDTH = 16


def bar(fraction: float, width: int = BAR_WIDTH) -> str:
    filled = round(max(0.0, min(1.0, fraction)) * width)
    return "█" * filled + "░" * (width - filled)


def verify_line(snap: BackupsSnapshot) -> Text | None:
    """The newest dump read end to end: its verdict, or the read under way."""
    line = Text("dump ", style=DIM)
    verdict = snap.verdict
    if verdict is not None:
        style = LEVEL_STYLE[verdict.level]
        line.append(f"{LEVEL_MARK[verdict.level]} ", style)
        line.append(VERDICT_WORDS.get(verdict.status, verdict.status), style)
        line.append(SEP).append(one_line(verdict.message, 200), style=DIM)
        return line
    progress = snap.verifying
    if progress is None:
        return None
    line.append("verifying ", style="bold cyan").append(bar(progress.fraction), style="cyan")
    line.append(f" {progress.fraction:.0%} of {bytes_text(progress.total)}")
    return line


def job_cells(job: JobRow, now: datetime, cronjob: str) -> Cells:
    status_level = {"Failed": Level.CRIT, "Suspended": Level.WARN}.get(job.status, Level.OK)
    status = leveled(job.status, status_level)
    if job.status == "Running":
        status = plain(job.status, "bold cyan")
    # The pane is narrow and every Job is "<cronjob>-...": show what tells them apart
    # (the problem lines keep the full name for kubectl).
    name = job.name.removeprefix(f"{cronjob}-") if job.name != cronjob else job.name
    return (
        plain(f"…{name}" if name != job.name else name),
        status,
        plain("manual" if job.manual else "cron", DIM if not job.manual else ""),
        plain(duration(job.duration_s(now))),
        plain(since(job.started, now)),
    )


def object_cells(obj: BackupObject, now: datetime, newest: bool, cutoff: datetime) -> Cells:
    old = obj.when is not None and obj.when < cutoff
    style = DIM if old else ""
    age_style = LEVEL_STYLE[age_level(obj.when, now)] if newest else style
    age = since(obj.when, now) if obj.when else "-"
    if obj.size == 0:
        size = plain("0B empty", LEVEL_STYLE[Level.CRIT])
    else:
        size = plain(bytes_text(obj.size), style)
    return (plain(obj.key, style), size, plain(age, age_style))


class BackupsPane(Pane):
    """`show(snapshot)` on every poll; `mark_failed(failure)` keeps the last data, stale."""

    FRESH_FOR = 150.0  # polled every 60 s

    PANE_TITLE = "Backups"
    SOURCES = ("backups",)
    DEFAULT_CSS = """
    BackupsPane #backups-problems {
        height: auto; max-height: 40%; display: none; text-wrap: nowrap; text-overflow: ellipsis;
    }
    BackupsPane #backups-problems.shown { display: block; }
    BackupsPane #backups-summary { height: auto; text-wrap: nowrap; text-overflow: ellipsis; }
    BackupsPane KeyedTable { scrollbar-size-horizontal: 0; }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.snapshot: BackupsSnapshot | None = None
        self.title_shown = Text("Backups")  # the border title as Text (the getter gives markup)
        self._rendered_at: datetime | None = None

    def compose(self) -> ComposeResult:
        yield self.compose_failure()
        yield Static("", id="backups-problems", markup=False, classes="pane-body")
        yield Static("", id="backups-summary", markup=False, classes="pane-body")
        yield KeyedTable(JOB_COLUMNS, id="backups-jobs")
        yield KeyedTable(OBJECT_COLUMNS, id="backups-objects")

    def on_mount(self) -> None:
        # Layout, not looks: the few Jobs take their rows, the objects get the rest.  Set
        # inline because the app's stylesheet gives every DataTable `height: 1fr`, which
        # outranks a widget's DEFAULT_CSS whatever its specificity.
        jobs = self.query_one("#backups-jobs", KeyedTable)
        jobs.styles.height = "auto"
        jobs.styles.max_height = 6
        self.query_one("#backups-objects", KeyedTable).styles.height = "1fr"
        self._show_title(None)
        self.tick()

    def show(self, snapshot: BackupsSnapshot, now: datetime | None = None) -> None:
        self.summary = snapshot.problems[0][1] if snapshot.problems else ""
        self.snapshot = snapshot
        self.mark_fresh(snapshot.taken_at)
        self.level = snapshot.level
        self.render_snapshot(snapshot, now or clock.now())

    def tick(self, now: datetime | None = None) -> None:
        now = now or clock.now()
        super().tick(now)
        last = self._rendered_at
        due = last is not None and (now - last).total_seconds() >= RERENDER_S
        if self.snapshot is not None and due:
            self.render_snapshot(self.snapshot, now)

    def subtitle_prefix(self) -> Text | None:
        if self.read_only():
            return None
        return Text.assemble(("B", "bold"), " run backup now · ")

    def render_snapshot(self, snap: BackupsSnapshot, now: datetime) -> None:
        self._rendered_at = now
        problems = self.query_one("#backups-problems", Static)
        set_text(problems, problems_text(snap))
        problems.set_class(bool(snap.problems), "shown")
        lines = [cron_line(snap, now), success_line(snap, now), s3_line(snap, now)]
        checked = verify_line(snap)
        if checked is not None:
            lines.append(checked)
        summary = Text("\n", no_wrap=True, overflow="ellipsis").join(lines)
        set_text(self.query_one("#backups-summary", Static), summary)
        jobs = [(job.uid or job.name, job_cells(job, now, snap.cronjob)) for job in snap.jobs]
        self.query_one("#backups-jobs", KeyedTable).apply(jobs)
        cutoff = now - timedelta(days=snap.retention_days)
        shown = snap.objects[:MAX_OBJECT_ROWS]
        rows = [
            (obj.key, object_cells(obj, now, index == 0, cutoff)) for index, obj in enumerate(shown)
        ]
        self.query_one("#backups-objects", KeyedTable).apply(rows)
        self._show_title(snap)

    def _show_title(self, snap: BackupsSnapshot | None) -> None:
        self.title_shown = self.title_text(snap)
        self.set_title(self.title_shown)

    def title_text(self, snap: BackupsSnapshot | None) -> Text:
        title = Text("Backups")
        if snap is not None:
            title.append(SEP + clean(snap.cronjob, 60))
            bad = sum(1 for level, _ in snap.problems if level > Level.OK)
            if bad:
                title.append(SEP).append(
                    f"{bad} problem{'s' if bad > 1 else ''}", LEVEL_STYLE[snap.level]
                )
        return title
