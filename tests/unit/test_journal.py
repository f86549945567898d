"""No audit, no action: the intent is on disk before anything is sent, an unwritable
journal refuses every execution, and `cockpit journal` shows interrupted runs (issue 8)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from actions.base import Action, Plan, Refused, Result, Risk
from actions.runner import ActionRunner, Who
from cockpit.audit import STARTED, Journal, unfinished


class Probe(Action):
    """An action whose execute() looks at the journal on disk, as a kill would leave it."""

    id = "test.probe"
    label = "Probe"

    def __init__(self, journal_path: Path, block: asyncio.Event | None = None) -> None:
        self.journal_path = journal_path
        self.block = block
        self.executed = False
        self.seen_on_disk: list[dict[str, Any]] = []

    def plan(self) -> Plan:
        return Plan(
            "test.probe", "Probe the target", ("nothing",), "true", ("probe/x",), "none", Risk.LOW
        )

    async def execute(self, ctx: Any, dry_run: bool) -> Result:
        self.executed = True
        if self.journal_path.exists():
            self.seen_on_disk = [
                json.loads(line) for line in self.journal_path.read_text().splitlines()
            ]
        if self.block is not None:
            await self.block.wait()
        return Result(True, "probed")


def make_runner(path: Path) -> ActionRunner:
    return ActionRunner(Journal(path), Who("ctx", "user", "ns"), read_only=False, dry_run=False)


async def test_the_intent_is_on_disk_before_execute_and_the_outcome_shares_its_run(
    tmp_path: Path,
) -> None:
    path = tmp_path / "journal.jsonl"
    action = Probe(path)
    result = await make_runner(path).run(action, None)
    assert result.ok
    assert [e["outcome"] for e in action.seen_on_disk] == [STARTED]
    intent = action.seen_on_disk[0]
    assert intent["action"] == "test.probe" and intent["targets"] == ["probe/x"]
    assert intent["plan"]["title"] == "Probe the target" and intent["mode"] == "armed"
    entries = Journal(path).read()
    assert [e["outcome"] for e in entries] == [STARTED, "succeeded"]
    assert entries[0]["run"] == entries[1]["run"]
    assert unfinished(entries) == set()


async def test_a_kill_mid_action_leaves_the_intent(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    block = asyncio.Event()
    action = Probe(path, block)
    task = asyncio.create_task(make_runner(path).run(action, None))
    while not action.executed:
        await asyncio.sleep(0.01)
    # What a SIGKILL at this moment leaves on disk: the intent, and no outcome.
    on_disk = Journal(path).read()
    assert [e["outcome"] for e in on_disk] == [STARTED]
    assert unfinished(on_disk) == {on_disk[0]["run"]}
    # A quit (the worker cancelled) writes an outcome that says so.
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert [e["outcome"] for e in Journal(path).read()] == [STARTED, "interrupted"]


async def test_an_unwritable_journal_refuses_and_nothing_is_sent(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")  # a file where the journal's directory should be: even root fails
    journal = Journal(blocker / "journal.jsonl")
    assert journal.check() is not None and "cannot be written" in journal.problem
    runner = ActionRunner(journal, Who("ctx", "u", "ns"), read_only=False, dry_run=False)
    action = Probe(blocker / "journal.jsonl")
    with pytest.raises(Refused, match="cannot be written"):
        await runner.run(action, None)
    assert not action.executed
    runner.refused(action, action.plan(), "whatever")  # best effort: no exception
    runner.cancelled(action, action.plan())


async def test_an_outcome_that_cannot_be_written_is_said_in_the_result(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    block = asyncio.Event()
    action = Probe(path, block)
    task = asyncio.create_task(make_runner(path).run(action, None))
    while not action.executed:
        await asyncio.sleep(0.01)
    path.unlink()
    path.mkdir()  # the journal became a directory while the action ran
    block.set()
    result = await task
    assert result.ok and "outcome NOT journaled" in result.message


def cockpit_journal(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cockpit", "journal", "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def journal_config(tmp_path: Path) -> tuple[Path, Journal]:
    journal = Journal(tmp_path / "journal.jsonl")
    for n, (run, outcome) in enumerate([("a", STARTED), ("a", "succeeded"), ("b", STARTED)]):
        journal.append(
            {
                "context": "prod",
                "action": f"pod.restart{n}",
                "targets": ["pod/x"],
                "mode": "armed",
                "outcome": outcome,
                "run": run,
            }
        )
    config = tmp_path / "config.toml"
    config.write_text(f'journal_path = "{journal.path}"\n')
    return config, journal


def test_journal_command_marks_an_intent_without_outcome(journal_config) -> None:
    config, _ = journal_config
    lines = cockpit_journal(config).stdout.splitlines()
    assert len(lines) == 3
    assert "NO OUTCOME RECORDED" not in lines[0]  # its outcome came
    assert "NO OUTCOME RECORDED" in lines[2] and "pod/x" in lines[2]
    tail = cockpit_journal(config, "--tail", "2").stdout.splitlines()
    assert ["NO OUTCOME RECORDED" in line for line in tail] == [False, True]


def test_journal_tail_counts(journal_config) -> None:
    config, _ = journal_config
    assert cockpit_journal(config, "--tail", "0").stdout == ""
    assert len(cockpit_journal(config, "--tail", "1").stdout.splitlines()) == 1
    assert len(cockpit_journal(config, "--all").stdout.splitlines()) == 3
    negative = cockpit_journal(config, "--tail", "-1")
    assert negative.returncode == 2 and "negative" in negative.stderr


def test_journal_into_a_closed_pipe_is_quiet(journal_config) -> None:
    config, journal = journal_config
    for n in range(2000):  # more than a pipe buffer, so that the write really fails
        journal.append({"action": f"a{n}", "outcome": "succeeded", "message": "x" * 200})
    done = subprocess.run(
        f"{sys.executable} -m cockpit journal --all --json --config {config} | head -c 1",
        shell=True,
        capture_output=True,
        text=True,
        timeout=60,
        executable="/bin/bash",
    )
    assert done.stdout == "{"
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr
