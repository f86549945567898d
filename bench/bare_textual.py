"""The least a Textual program can do before it shows something: the launch's floor.

    python -m bench.bare_textual

An interpreter starts, Textual is imported, an App with one line of text runs.  The
issue's launch target allows kubectl's time + 0.25 s where kubectl's whole run is
shorter than this (bench/bench_launch_tmux.py times it beside kubectl and the cockpit).
"""

from __future__ import annotations

READY = "bare Textual is up"


def main() -> int:
    from textual.app import App, ComposeResult
    from textual.widgets import Static

    class Bare(App[None]):
        BINDINGS = [("q", "quit", "Quit")]

        def compose(self) -> ComposeResult:
            yield Static(READY)

    Bare().run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
