"""What the guided restore screen shows: the runbook's five steps with where each stands,
the dumps to choose from, and the rehearsal's row counts.  Rendering only: the screen
(cockpit/views/restore.py) runs the steps.  Object keys, table names and outcomes are
untrusted: plain Text, never markup."""

from __future__ import annotations

from rich.text import Text

from actions.backup.procedure_state import (
    DONE,
    FAILED,
    RUNNING,
    SKIPPED,
    STEP_TITLES,
    STEPS,
    RestoreState,
)
from cockpit.textsafe import clean, one_line

MARKS = {
    DONE: ("✔", "green"),
    SKIPPED: ("–", "dim"),
    FAILED: ("✘", "bold red"),
    RUNNING: ("…", "bold yellow"),
}
NEXT = ("▶", "bold")
PENDING_MARK = (" ", "dim")

DUMP_COLUMNS = (
    ("where", "FROM"),
    ("key", "DUMP"),
    ("age", "AGE"),
    ("size", "SIZE"),
    ("sha", "SHA-256"),
)
COUNT_COLUMNS = (("table", "TABLE"), ("dump", "IN THE DUMP"), ("live", "LIVE NOW"))


def steps_text(state: RestoreState, running: str | None = None) -> Text:
    """One line per step (plus its outcome), the next one marked ▶."""
    text = Text()
    nxt = state.next_step
    for number, step in enumerate(STEPS, 1):
        s = state.steps[step]
        if step == running:
            mark, style = MARKS[RUNNING]
        elif s.status in MARKS and not (s.status == RUNNING and step != running):
            mark, style = MARKS[s.status]
        elif step == nxt:
            mark, style = NEXT
        else:
            mark, style = PENDING_MARK
        if number > 1:
            text.append("\n")
        text.append(f" {mark} {number}. ", style=style)
        text.append(STEP_TITLES[step], style="bold" if step == nxt else "")
        detail = s.detail
        if s.status == RUNNING and step != running:
            detail = "interrupted (the cockpit stopped mid-step): the journal has its outcome; "
            detail += "run it again"
        if detail:
            text.append("\n      ")
            text.append(
                one_line(clean(detail, 600), 300), style="dim" if s.status != FAILED else "red"
            )
    return text


def heading_text(
    state: RestoreState,
    resumed: bool,
    context: str,
    namespace: str,
    now: dict[str, int] | None = None,
) -> Text:
    """Who and what; `now`: the writers' replicas in the cluster at this moment."""
    text = Text()
    text.append("Guided restore of database ", style="bold")
    text.append(clean(state.database, 80), style="bold reverse")
    text.append(f"  · writers {', '.join(f'{k} {v}' for k, v in state.writers.items())}")
    text.append(f"  · context {clean(context or '-', 60)} / {clean(namespace, 60)}")
    if resumed:
        text.append(f"\nUnfinished restore from {state.started_at} (bookmark {state.id})", "yellow")
    if state.context and context and state.context != context:
        text.append(
            f"\nstarted in context {clean(state.context, 60)}, now in {clean(context, 60)}: "
            "check before going on",
            "bold red",
        )
    if now:
        text.append("\nin the cluster now: ", style="dim")
        text.append(", ".join(f"{k} {v}" for k, v in sorted(now.items())))
        stopped = state.steps["stop"].status == DONE and state.steps["start"].status != DONE
        if stopped and any(now.values()):
            text.append(
                "  — the writers run again since they were stopped: stop them before restoring",
                "bold red",
            )
    if state.dump is not None:
        text.append("\ndump: ", style="dim").append(clean(state.dump.where, 200))
    return text


def count_cell(value: int | None) -> Text:
    return Text("-" if value is None else f"{value:,}", justify="right")
