"""The guided restore (key `G`): the runbook's data-loss procedure, one step at a time.

1 stop the writers, 2 choose a dump, 3 rehearse it into a scratch database (optional),
4 restore it, 5 start the writers and wait for Ready and health.  Every step that
changes something is an action with its preview and confirmation (ActionFlow.perform),
journaled like any other; the screen only decides which step comes next.  After each
step the bookmark (actions/backup/procedure_state.py) is saved, so a cockpit that dies
mid-way shows the unfinished restore at its next start.

Keys: enter runs the next step (on the dump list: chooses the highlighted dump),
s skips the rehearsal, r reloads the dumps, X abandons the procedure, escape goes back
to the panes (the procedure stays where it is).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, ProgressBar, Static

from actions.backup.context import list_dumps
from actions.backup.dump_sources import list_pod_dumps
from actions.backup.procedure import step_action
from actions.backup.procedure_state import (
    DONE,
    PENDING,
    RUNNING,
    SKIPPED,
    DumpChoice,
    RestoreState,
    StateFile,
    StateFileError,
)
from actions.base import Refused, Result
from cockpit.errors import describe
from cockpit.units import since, size_words
from widgets.cells import plain
from widgets.restore import (
    COUNT_COLUMNS,
    DUMP_COLUMNS,
    count_cell,
    heading_text,
    steps_text,
)
from widgets.screens import KeysAfterMount
from widgets.table import MeasuredTable

if TYPE_CHECKING:
    from cockpit.app import CockpitApp


@dataclass(frozen=True)
class Candidate:
    """A dump the person may choose: in the bucket or in the backup pod."""

    choice: DumpChoice
    when: datetime | None


def state_file(app: CockpitApp) -> StateFile:
    return StateFile(app.settings.effective_journal_path().parent)


def unfinished_restore(app: CockpitApp) -> RestoreState | None:
    """The restore a previous run left unfinished (None: none, or it cannot be read;
    the latter is said in a toast)."""
    try:
        return state_file(app).load()
    except StateFileError as exc:
        app.notify(str(exc), title="Guided restore", severity="error", markup=False, timeout=20)
        return None


class RestoreScreen(KeysAfterMount, Screen[None]):
    BINDINGS = [
        Binding("escape", "leave", "Back to the panes"),
        # priority: the dump table must not take enter (nor a click run a step).
        Binding("enter", "next", "Run the next step", priority=True),
        Binding("s", "skip", "Skip the rehearsal"),
        Binding("r", "reload", "Reload dumps"),
        Binding("X", "abandon", "Abandon"),
    ]
    DEFAULT_CSS = """
    RestoreScreen #restore-heading { padding: 0 1; height: auto; }
    RestoreScreen #restore-steps { padding: 1 1 0 1; height: auto; }
    RestoreScreen #restore-progress { padding: 0 1; height: auto; }
    RestoreScreen #restore-status { padding: 0 1; height: auto; color: $text-muted; }
    RestoreScreen DataTable { height: 1fr; margin: 1 1 0 1; }
    """

    def __init__(self, app: CockpitApp, state: RestoreState | None) -> None:
        super().__init__()
        self.cockpit = app
        self.file = state_file(app)
        self.resumed = state is not None
        target = app.sources.kube_target
        self.context = target.context if target else (app.launch.context or "")
        self.namespace = target.namespace if target else app.settings.kube.namespace
        self.state = state or RestoreState(
            database=app.settings.postgres.database,
            context=self.context,
            namespace=self.namespace,
            writers=dict(app.settings.kube.restore_replicas),
        )
        self.running: str | None = None
        self._left = False  # Escape pressed (or unmounted): no more widget updates
        self.dumps: list[Candidate] = []
        self.counts: list[list[Any]] = []

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(id="restore-heading")
            yield Static(id="restore-steps")
            yield ProgressBar(id="restore-progress", total=1.0, show_eta=False)
            yield Static(id="restore-status")
            yield MeasuredTable(id="restore-table", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(ProgressBar).display = False
        self.render_state()
        self.set_interval(2.0, self.render_heading)  # the writers' replicas as they are now
        self.query_one(DataTable).focus()
        self.load_dumps()

    # -- what is shown --------------------------------------------------------------------

    def writers_now(self) -> dict[str, int]:
        """The writers' desired replicas in the newest Kubernetes snapshot."""
        snap = self.cockpit.main.latest.get("pods")
        rows = getattr(snap, "workloads", ()) or ()
        return {w.name: w.desired for w in rows if w.name in self.state.writers}

    def render_heading(self) -> None:
        if not self.shown:
            return
        self.query_one("#restore-heading", Static).update(
            heading_text(self.state, self.resumed, self.context, self.namespace, self.writers_now())
        )

    def render_state(self) -> None:
        self.render_heading()
        self.query_one("#restore-steps", Static).update(steps_text(self.state, self.running))
        self.show_table()

    def say(self, words: str) -> None:
        if self.shown:
            self.query_one("#restore-status", Static).update(plain(words))

    def show_table(self) -> None:
        table = self.query_one(DataTable)
        table.clear(columns=True)
        if self.counts and self.state.next_step in ("restore", "start"):
            for key, label in COUNT_COLUMNS:
                table.add_column(label, key=key)
            for name, dump, live in self.counts:
                table.add_row(plain(name), count_cell(dump), count_cell(live))
            return
        for key, label in DUMP_COLUMNS:
            table.add_column(label, key=key)
        now = datetime.now(UTC)
        for index, c in enumerate(self.dumps):
            table.add_row(
                plain("S3" if c.choice.source == "s3" else self.cockpit.settings.kube.backup_pod),
                plain(c.choice.key),
                plain(since(c.when, now)),
                plain(size_words(c.choice.size)),
                plain(c.choice.sha256[:12] or "-"),
                key=str(index),
            )

    @property
    def shown(self) -> bool:
        """Still on screen: a listing that comes back after Escape has nowhere to go."""
        return not self._left

    def on_unmount(self) -> None:
        self._left = True

    def progress(self, fraction: float | None, text: str) -> None:
        if not self.shown:
            return
        bar = self.query_one(ProgressBar)
        bar.display = True
        bar.update(total=None if fraction is None else 1.0, progress=fraction or 0.0)
        self.say(text)

    # -- the dumps ------------------------------------------------------------------------

    @work(group="restore-list", exclusive=True)
    async def load_dumps(self) -> None:
        settings = self.cockpit.settings
        self.say(f"listing the dumps in s3://{settings.backups.bucket} and the backup pod…")
        found = await asyncio.gather(self._s3_dumps(), self._pod_dumps(), return_exceptions=True)
        candidates: list[Candidate] = []
        problems = []
        for where, outcome in zip(("S3", settings.kube.backup_pod), found, strict=True):
            if isinstance(outcome, BaseException):
                message, hint = describe(outcome)
                problems.append(f"{where}: {message}" + (f" ({hint})" if hint else ""))
            else:
                candidates += outcome
        if not self.shown:
            return
        newest = datetime.min.replace(tzinfo=UTC)
        self.dumps = sorted(candidates, key=lambda c: c.when or newest, reverse=True)
        self.show_table()
        words = f"{len(self.dumps)} dumps, newest first" if self.dumps else "no dumps found"
        self.say("; ".join([words, *problems]))

    async def _s3_dumps(self) -> list[Candidate]:
        ctx = await self.cockpit.flow.context("backup")
        return [
            Candidate(DumpChoice("s3", e.key, e.size, _when(e.when), e.sha256), e.when)
            for e in await list_dumps(ctx)
        ]

    async def _pod_dumps(self) -> list[Candidate]:
        target = self.cockpit.sources.kube_target
        if target is None:
            return []  # not connected (yet): the bucket only
        files = await list_pod_dumps(
            target.api.configuration,
            self.state.namespace,
            self.cockpit.settings.kube.backup_pod,
            self.cockpit.settings.backups.directory,
        )
        return [Candidate(DumpChoice("pod", f.path, f.size, _when(f.when)), f.when) for f in files]

    def action_reload(self) -> None:
        self.load_dumps()

    # -- the steps ------------------------------------------------------------------------

    def action_leave(self) -> None:
        if self.running is not None:
            # Leaving would end the step's worker with the screen: a restore cut short.
            self.cockpit.notify(
                f"{self.running}: still running; the panes come back once it is done",
                markup=False,
                timeout=5,
            )
            return
        self._left = True
        self.dismiss()

    def action_next(self) -> None:
        if self.running is not None:
            self.cockpit.notify(f"{self.running}: still running", markup=False, timeout=3)
            return
        step = self.state.next_step
        if step is None:
            self.dismiss()
            return
        if step == "choose":
            self.choose()
            return
        if step == "restore" and self.state.steps["stop"].status == DONE:
            running = {k: v for k, v in self.writers_now().items() if v}
            if running:  # started again since (by someone, or a resumed bookmark)
                words = ", ".join(f"{k} {v}" for k, v in running.items())
                self.state.mark(
                    "stop", PENDING, f"the writers run again ({words}): stop them again"
                )
                self.save()
                step = "stop"
        self.run_step(step)

    def action_skip(self) -> None:
        if self.running is None and self.state.next_step == "rehearse":
            self.state.mark("rehearse", SKIPPED, "skipped")
            self.save()

    def action_abandon(self) -> None:
        if self.running is not None:
            return
        stopped = self.state.steps["stop"].status == DONE
        self.state.abandoned = True
        self.save()
        words = "Guided restore abandoned"
        if stopped and self.state.steps["start"].status != DONE:
            words += "; the writers are still stopped: start them from Workloads (O)"
        self.cockpit.notify(words, severity="warning", markup=False, timeout=15)
        self.dismiss()

    def choose(self) -> None:
        table = self.query_one(DataTable)
        if not self.dumps or not 0 <= table.cursor_row < len(self.dumps):
            self.say("no dump to choose: press r to list them again")
            return
        choice = self.dumps[table.cursor_row].choice
        self.state.dump = choice
        where = "S3" if choice.source == "s3" else self.cockpit.settings.kube.backup_pod
        self.state.mark(
            "choose",
            DONE,
            f"{where}: {choice.key} ({size_words(choice.size)}, {choice.when or 'time unknown'})",
        )
        self.save()

    def save(self) -> None:
        try:
            self.file.save(self.state)
        except OSError as exc:
            self.cockpit.notify(
                f"the restore's bookmark could not be saved ({exc}); the journal still "
                "records every step",
                severity="error",
                markup=False,
            )
        if self.shown:
            self.render_state()

    @work(group="restore-step", exclusive=False)
    async def run_step(self, step: str) -> None:
        target = self.cockpit.sources.kube_target
        kube = target.api.configuration if target is not None else None
        try:
            action = step_action(step, self.state, self.cockpit.settings, kube)
        except Refused as exc:
            self.say(str(exc))
            return
        self.running = step
        self.render_state()
        # Saved as running before anything is sent: a crash leaves "interrupted".
        previous = self.state.steps[step]
        self.state.mark(step, RUNNING, "")
        self.save()
        try:
            result = await self.cockpit.flow.perform(action, progress=self.progress)
        except Exception as exc:  # a bug: say it, lose nothing
            result = Result(False, describe(exc)[0])
        finally:
            self.running = None
        self.finish(step, previous, result)

    def finish(self, step: str, previous: Any, result: Result | None) -> None:
        if result is None or result.dry_run:  # cancelled, refused, or only a dry run
            self.state.steps[step] = previous
            if result is not None:
                self.say(
                    result.message if "dry run" in result.message else "dry run: " + result.message
                )
        else:
            self.state.finish_step(step, result.ok, result.message, result.data)
            if result.ok:
                self.say("done: " + result.message)
                if step == "rehearse":
                    self.counts = list(result.data.get("counts") or [])
            else:
                self.say("failed: " + result.message + " — enter runs it again")
        self.save()
        if self.shown:
            self.query_one(ProgressBar).display = False
            if self.state.finished:
                self.say("restore complete: " + self.state.summary())


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment else ""
