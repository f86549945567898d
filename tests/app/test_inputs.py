"""Every input of the cockpit, typed into with keys as a person types them (DESIGN.md:
"every input is typed into by a test").

The inputs: the `/` filter of the pods and of the error-log panes, the log view's search,
the confirmation modal's typed phrase and its parameters (replicas, the idle threshold and
state, the Redis policy and FLUSHDB mode, the PostgreSQL settings), and the command
palette.  Each test opens the input with keys, types ordinary text, markup-like text
(`[bold]x[/]`) and a lone regex metacharacter (`(`), checks what the person sees (rows
filtered, matches highlighted, Execute enabled only on the exact phrase, a parameter
accepted or refused with a message), and that the app is still running.

Keys are sent as a terminal sends them, with their character (`Pilot.press("slash")`
sends no character, so an Input would never receive "/"); a dry-run session throughout,
so that a stray Enter could change nothing.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from textual import events
from textual.command import CommandPalette
from textual.keys import _character_to_key, key_to_character
from textual.widgets import Button, Input

from cockpit.app import CockpitApp
from tests.pilot import cockpit_running, confirm_modal
from widgets.confirm import ConfirmScreen
from widgets.errorlog import ErrorLogPane
from widgets.filter import matcher
from widgets.logview import LogScreen
from widgets.pane import Pane
from widgets.pods import PodsPane
from widgets.postgres import PostgresPane
from widgets.postgres_deep import PgDeepScreen
from widgets.redis import RedisPane
from widgets.warroom import WarRoomScreen
from widgets.workloads import WorkloadsPane

from .conftest import read_journal, wait_for

# Filters compile what is typed as a regex when it is one: "[[" makes Python's re warn.
pytestmark = pytest.mark.filterwarnings("ignore:Possible (nested set|set ):FutureWarning")

SIZE = (160, 45)
MARKUP = "[bold]x[/]"


def key_event(key: str) -> events.Key:
    """The event a terminal produces: a one-character string is that character (with its
    key name, "slash" for "/"), a longer one a key name."""
    if len(key) == 1:
        return events.Key(key if key.isalnum() else _character_to_key(key), key)
    return events.Key(key, key_to_character(key))


async def keys(pilot: Any, *names: str) -> None:
    """Press keys (Textual names, or one character each) and let the app handle them."""
    app = pilot.app
    for name in names:
        event = key_event(name)
        event.set_sender(app)
        app.post_message(event)
        for _ in range(2):
            await asyncio.sleep(0)
            await pilot._wait_for_screen()


async def type_text(pilot: Any, text: str) -> None:
    await keys(pilot, *text)


async def clear(pilot: Any) -> None:
    await keys(pilot, "end", "ctrl+u")


def alive(app: CockpitApp) -> None:
    assert app.is_running and app._exception is None and app.return_code in (None, 0)


def rendered(widget: Any) -> str:
    return str(widget.render())


def pane_key(app: CockpitApp, kind: type[Pane]) -> str:
    """The digit that focuses a pane (its place on the screen; 0 is the tenth)."""
    place = next(i for i, p in enumerate(app.panes, start=1) if isinstance(p, kind))
    assert place <= 10, f"{kind.__name__} has no digit"
    return str(place % 10)


async def start(pilot: Any, app: CockpitApp, *kinds: type[Pane]) -> None:
    """Until the panes named have data (and Kubernetes is connected)."""
    panes = [app.main.query_one(kind) for kind in (PodsPane, *kinds)]
    await wait_for(
        pilot,
        lambda: app.flow.access is not None and all(p.snapshot is not None for p in panes),
        what="the first data",
    )


async def shift_tab_to(pilot: Any, app: CockpitApp, input_id: str) -> Input:
    """Walk the focus backwards (the modal's inputs come before its Cancel button) until
    the input has it, as a person would."""
    for _ in range(6):
        if isinstance(app.focused, Input) and app.focused.id == input_id:
            return app.focused
        await keys(pilot, "shift+tab")
    raise AssertionError(f"shift+tab never reached #{input_id}")


async def focused_input(pilot: Any, app: CockpitApp, input_id: str) -> Input:
    return await wait_for(
        pilot,
        lambda: app.focused if isinstance(app.focused, Input) and app.focused.id == input_id
        else None,
        timeout=5,
        what=f"#{input_id} focused",
    )  # fmt: skip


# -- the `/` filters --------------------------------------------------------------------


async def test_pods_filter_typed(make_sim, make_app) -> None:
    sim = make_sim("incident")
    app = make_app(sim, dry_run=True)
    async with cockpit_running(app, size=SIZE) as pilot:
        await start(pilot, app)
        pods = app.main.query_one(PodsPane)
        everyone = len(pods.snapshot.pods)
        await keys(pilot, pane_key(app, PodsPane), "slash")
        bar = await focused_input(pilot, app, "pods-filter")

        def shown() -> list[Any]:
            return [pods._by_uid[uid] for uid in pods.table.keys_in_order()]

        await type_text(pilot, "rails")
        await wait_for(pilot, lambda: 0 < len(shown()) < everyone, what="rails rows only")
        assert all("rails" in f"{p.name} {p.status} {p.node} {p.app}" for p in shown())
        assert bar.value == "rails" and "filter on" in str(pods.border_title)
        assert f"({len(shown())}/{everyone})" in str(pods.border_title)

        await clear(pilot)
        await type_text(pilot, "crash|oom")  # a regular expression, case-insensitive
        await wait_for(pilot, lambda: len(shown()) >= 2, what="the failing pods")
        assert {p.status for p in shown()} <= {"CrashLoopBackOff", "OOMKilled"}

        await clear(pilot)
        await type_text(pilot, MARKUP)  # markup: shown literally, matches no pod
        assert bar.value == MARKUP and shown() == []
        assert MARKUP in bar.render_line(0).text  # drawn as typed, not as markup
        await clear(pilot)
        await type_text(pilot, "(")  # not a regex: a plain substring, found nowhere
        assert bar.value == "(" and shown() == []
        alive(app)

        await keys(pilot, "escape")  # clears the filter and gives the table the focus
        await wait_for(
            pilot, lambda: len(shown()) == len(pods.snapshot.pods), what="every pod again"
        )
        assert bar.value == "" and app.focused is pods.table
        assert "filter on" not in str(pods.border_title)
        alive(app)


async def test_error_log_filter_typed(make_sim, make_app) -> None:
    sim = make_sim("incident")
    app = make_app(sim, dry_run=True)
    async with cockpit_running(app, size=SIZE) as pilot:
        await start(pilot, app)
        logs = app.main.query_one(ErrorLogPane)
        await wait_for(
            pilot,
            lambda: {line.app for line in logs.lines} >= {"rails", "fastapi"},
            what="error lines from rails and fastapi",
        )

        def text() -> str:
            return "\n".join(strip.text for strip in logs.log_view.lines)

        await keys(pilot, pane_key(app, ErrorLogPane), "slash")
        bar = await focused_input(pilot, app, "errorlog-filter")
        await type_text(pilot, "^fastapi-")  # a regular expression: fastapi's pods only
        await wait_for(pilot, lambda: "fastapi-" in text(), what="fastapi lines")
        starts = [line for line in text().splitlines() if re.match(r"\d\d:\d\d:\d\d ", line)]
        assert starts and all(line[9:].startswith("fastapi-") for line in starts)
        assert "filter on" in str(logs.border_title)

        for typed in (MARKUP, "("):  # a regex of its own / not a regex: a substring
            await clear(pilot)
            await type_text(pilot, typed)
            assert bar.value == typed
            match = matcher(typed)
            wanted = any(match(f"{line.pod} {line.text}") for line in logs.lines)
            await wait_for(
                pilot, lambda w=wanted: bool(text().strip()) == w, what=f"filtered by {typed}"
            )
            alive(app)

        await keys(pilot, "enter")  # keeps the filter, gives the log the focus
        assert bar.value == "(" and app.focused is logs.log_view
        await keys(pilot, "slash", "escape")  # reopened, then cleared
        await wait_for(pilot, lambda: "rails-" in text(), what="every line again")
        assert bar.value == "" and "filter on" not in str(logs.border_title)
        alive(app)


# -- the log view's search --------------------------------------------------------------


def highlighted(view: LogScreen) -> list[str]:
    """The lines drawn in reverse video (the search's matches)."""
    return [
        strip.text
        for strip in view.log_view.lines
        if any(seg.style is not None and seg.style.reverse for seg in strip)
    ]


async def test_log_view_search_typed(make_sim, make_app) -> None:
    sim = make_sim("incident")
    app = make_app(sim, dry_run=True)
    async with cockpit_running(app, size=SIZE) as pilot:
        await start(pilot, app)
        pods = app.main.query_one(PodsPane)
        await keys(pilot, pane_key(app, PodsPane))
        pod = pods.selected_pod()
        assert pod is not None and app.focused is pods.table
        await keys(pilot, "enter")
        view = await wait_for(
            pilot, lambda: app.screen if isinstance(app.screen, LogScreen) else None,
            what="the log view",
        )  # fmt: skip
        await wait_for(pilot, lambda: len(view.lines) > 3, what="log lines")
        word = next(
            w for _, text in view.lines for w in re.findall(r"[A-Za-z]{5,}", text)
        )  # a word on screen

        await keys(pilot, "slash")
        search = await focused_input(pilot, app, "logview-search")
        await type_text(pilot, word)
        await keys(pilot, "enter")
        await wait_for(pilot, lambda: view.message.startswith("match at line"), what="a match")
        assert view.search_text == word
        # Textual moves the focus on a later turn than the one that found the match.
        await wait_for(pilot, lambda: app.focused is view.log_view, what="the log focused")
        await wait_for(pilot, lambda: highlighted(view), what="the matches highlighted")
        assert all(word.lower() in line.lower() for line in highlighted(view))
        before = view.message
        await keys(pilot, "n")  # the next match
        assert view.message.startswith("match at line")
        assert view.message != before or len(highlighted(view)) == 1

        for text in (MARKUP, "("):
            await keys(pilot, "slash")
            await focused_input(pilot, app, "logview-search")
            await clear(pilot)
            await type_text(pilot, text)
            assert search.value == text
            await keys(pilot, "enter")
            wanted = any(matcher(text)(line) for _, line in view.lines)
            await wait_for(
                pilot, lambda w=wanted: view.message.startswith("match") == w, what="searched"
            )
            assert view.search_text == text
            if not wanted:
                assert view.message == "no match" and not highlighted(view)
            alive(app)

        await keys(pilot, "slash", "escape")  # Esc in the search closes the search only
        assert isinstance(app.screen, LogScreen) and app.focused is view.log_view
        await keys(pilot, "escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, LogScreen), what="closed")
        alive(app)


# -- the confirmation modal -------------------------------------------------------------


async def open_modal(pilot: Any, app: CockpitApp, pane: type[Pane], *pressed: str) -> Any:
    await keys(pilot, pane_key(app, pane), *pressed)
    return await confirm_modal(pilot, app)


def execute(screen: ConfirmScreen) -> Button:
    return screen.query_one("#execute", Button)


def error_text(screen: ConfirmScreen) -> str:
    return rendered(screen.query_one("#confirm-error"))


async def leave(pilot: Any, app: CockpitApp) -> None:
    await keys(pilot, "escape")
    await wait_for(pilot, lambda: not isinstance(app.screen, ConfirmScreen), what="closed")
    alive(app)


async def test_typed_phrase_enables_execute_only_when_exact(
    make_sim, make_app, journal_path
) -> None:
    sim = make_sim("incident")
    app = make_app(sim, dry_run=True)
    async with cockpit_running(app, size=SIZE) as pilot:
        await start(pilot, app, WorkloadsPane)
        screen = await open_modal(pilot, app, WorkloadsPane, "E")  # emergency stop: rails
        phrase = screen.plan.confirm_phrase
        assert phrase == "rails" and execute(screen).disabled
        field = await shift_tab_to(pilot, app, "confirm-phrase")  # from Cancel, back
        for wrong in (MARKUP, "(", "rail", "Rails", "rails!"):
            await clear(pilot)
            await type_text(pilot, wrong)
            assert field.value == wrong and execute(screen).disabled, wrong
        await clear(pilot)
        await type_text(pilot, phrase)
        assert not execute(screen).disabled
        await keys(pilot, "backspace")
        assert execute(screen).disabled
        await type_text(pilot, "s")
        assert not execute(screen).disabled
        await keys(pilot, "enter")  # Enter in the phrase moves to Cancel, executes nothing
        assert isinstance(app.screen, ConfirmScreen) and app.focused.id == "cancel"
        await leave(pilot, app)
    assert [e["outcome"] for e in read_journal(journal_path)] == ["cancelled"]


async def test_replicas_param_typed(make_sim, make_app, journal_path) -> None:
    sim = make_sim("incident")
    app = make_app(sim, dry_run=True)
    async with cockpit_running(app, size=SIZE) as pilot:
        await start(pilot, app, WorkloadsPane)
        workloads = app.main.query_one(WorkloadsPane)
        await keys(pilot, pane_key(app, WorkloadsPane))
        row = workloads.selected_workload()
        assert row is not None
        screen = await open_modal(pilot, app, WorkloadsPane, "s")
        field = await shift_tab_to(pilot, app, "param-replicas")
        assert field.value == str(row.desired)
        for wrong in ("abc", MARKUP, "(", "-1", "2.5"):
            await clear(pilot)
            await type_text(pilot, wrong)
            assert field.value == wrong
            assert "whole number" in error_text(screen), wrong
            assert execute(screen).disabled, wrong
        await clear(pilot)
        await type_text(pilot, "4")
        assert error_text(screen) == "" and not execute(screen).disabled
        assert "--replicas=4" in screen.plan.command and screen.plan.confirm_phrase is None
        await clear(pilot)
        await type_text(pilot, "0")  # scale to zero: the name must be typed now
        assert screen.plan.confirm_phrase == row.name and execute(screen).disabled
        assert screen.query_one("#confirm-phrase").display
        await leave(pilot, app)
    assert read_journal(journal_path)[-1]["outcome"] == "cancelled"


async def test_terminate_idle_params_typed(make_sim, make_app) -> None:
    sim = make_sim("incident")
    app = make_app(sim, dry_run=True)
    async with cockpit_running(app, size=SIZE) as pilot:
        await start(pilot, app, PostgresPane)
        screen = await open_modal(pilot, app, PostgresPane, "K")
        minutes = await shift_tab_to(pilot, app, "param-minutes")
        for wrong in (MARKUP, "(", "ten", "0", "9999h"):
            await clear(pilot)
            await type_text(pilot, wrong)
            assert minutes.value == wrong and error_text(screen), wrong
            assert execute(screen).disabled, wrong
        await clear(pilot)
        await type_text(pilot, "30s")
        assert error_text(screen) == "" and "idle > 30 s" in screen.plan.title
        await keys(pilot, "tab")
        states = await focused_input(pilot, app, "param-states")
        await clear(pilot)
        await type_text(pilot, MARKUP)
        assert states.value == MARKUP and "state: one of" in error_text(screen)
        await clear(pilot)
        await type_text(pilot, "both")
        assert error_text(screen) == ""
        assert "idle in transaction" in " ".join((*screen.plan.changes, screen.plan.command))
        await leave(pilot, app)


async def test_pg_settings_params_typed(make_sim, make_app) -> None:
    sim = make_sim("incident")
    app = make_app(sim, dry_run=True)
    async with cockpit_running(app, size=SIZE) as pilot:
        await start(pilot, app, PostgresPane)
        await keys(pilot, pane_key(app, PostgresPane), "D")
        # Mounted, not only pushed: a screen ignores keys until then (KeysAfterMount),
        # and a clean-clone run lost the "3" below that way.
        deep = await wait_for(
            pilot,
            lambda: (
                app.screen
                if isinstance(app.screen, PgDeepScreen) and app.screen.is_mounted
                else None
            ),
            what="the deep views",
        )
        await keys(pilot, "3", "down")  # the settings tab; a row with a runbook value
        await wait_for(pilot, lambda: deep.tab == "settings", what="the settings tab")
        await wait_for(
            pilot, lambda: (r := deep.selected_setting()) is not None and r.recommended,
            what="a setting the runbook names",
        )  # fmt: skip
        name = deep.selected_setting().name
        await keys(pilot, "a")
        screen = await confirm_modal(pilot, app)
        field = await shift_tab_to(pilot, app, f"param-{name}")
        for wrong in (MARKUP, "("):
            await clear(pilot)
            await type_text(pilot, wrong)
            assert field.value == wrong and error_text(screen), wrong
            assert execute(screen).disabled, wrong
        await clear(pilot)
        await type_text(pilot, deep.selected_setting().recommended)
        assert error_text(screen) == ""
        await leave(pilot, app)
        assert app.screen is deep


async def test_redis_policy_and_flush_mode_typed(make_sim, make_app, journal_path) -> None:
    sim = make_sim("incident")
    app = make_app(sim, dry_run=True)
    async with cockpit_running(app, size=SIZE) as pilot:
        await start(pilot, app, RedisPane)
        screen = await open_modal(pilot, app, RedisPane, "P")
        field = await shift_tab_to(pilot, app, "param-policy")
        for wrong in (MARKUP, "(", "allkeys", "lru"):
            await clear(pilot)
            await type_text(pilot, wrong)
            assert field.value == wrong and "must be one of" in error_text(screen), wrong
            assert execute(screen).disabled, wrong
        await clear(pilot)
        await type_text(pilot, "allkeys-lf")  # a unique prefix is enough
        assert error_text(screen) == "" and screen.plan.title.endswith("→ allkeys-lfu")
        await leave(pilot, app)

        screen = await open_modal(pilot, app, RedisPane, "F")
        field = await shift_tab_to(pilot, app, "param-mode")  # past the phrase
        for wrong in (MARKUP, "(", "now"):
            await clear(pilot)
            await type_text(pilot, wrong)
            assert field.value == wrong and "sync or async" in error_text(screen), wrong
            assert execute(screen).disabled, wrong
        await clear(pilot)
        await type_text(pilot, "async")
        assert error_text(screen) == "" and "ASYNC" in screen.plan.command
        await leave(pilot, app)
    assert [e["outcome"] for e in read_journal(journal_path)] == ["cancelled", "cancelled"]


# -- the command palette ----------------------------------------------------------------


async def test_command_palette_typed(make_sim, make_app) -> None:
    sim = make_sim("incident")
    app = make_app(sim, dry_run=True)
    async with cockpit_running(app, size=SIZE) as pilot:
        await start(pilot, app)
        for text in (MARKUP, "(", "\\", "é🔥"):
            await keys(pilot, "ctrl+p")
            palette = await wait_for(
                pilot, lambda: app.screen if isinstance(app.screen, CommandPalette) else None,
                what="the palette",
            )  # fmt: skip
            field = await wait_for(
                pilot, lambda: app.focused if isinstance(app.focused, Input) else None,
                what="the palette's input",
            )  # fmt: skip
            await type_text(pilot, text)
            assert field.value == text and palette.query_one(Input) is field
            await pilot.pause(0.3)  # the search runs in a worker
            alive(app)
            await keys(pilot, "escape")
            await wait_for(pilot, lambda: not isinstance(app.screen, CommandPalette), what="x")
        await keys(pilot, "ctrl+p")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette), what="palette")
        await type_text(pilot, "war room")
        await pilot.pause(0.3)
        await keys(pilot, "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, WarRoomScreen), what="war room")
        alive(app)
