"""The guided restore without a screen, for scripts: `cockpit restore KEY --database DB
--confirm DB --guided [--rehearse]`.

The same step actions, runner, journal and bookmark as the screen (cockpit/views/
restore.py): stop the writers, record the dump, rehearse (when asked), restore by swap,
start the writers.  Steps already done in an unfinished restore of the same database
and dump are not run again; a different unfinished restore is refused.
"""

from __future__ import annotations

from typing import Any, TextIO

from actions.backup.context import BackupContext, quiet
from actions.backup.dump_sources import DumpSource, PodDump, S3Dump
from actions.backup.guided import RehearseDump, RestoreInPlace
from actions.backup.procedure_state import (
    DONE,
    FINISHED,
    RUNNING,
    SKIPPED,
    STEP_TITLES,
    STEPS,
    DumpChoice,
    RestoreState,
    StateFile,
)
from actions.backup.writers import StartWriters, StopWriters
from actions.base import Action, Progress, Refused, Result
from actions.kube.context import KubeContext
from actions.kube.deployments import read_deployment
from actions.runner import ActionRunner, Busy
from cockpit.config import Settings
from cockpit.textsafe import one_line

OK, FAILED_EXIT, REFUSED = 0, 1, 2
POD_PREFIX = "pod:"


def dump_choice(key: str) -> DumpChoice:
    """`backup_….sql.gz` is an object in the bucket; `pod:/backups/…` a file in the pod."""
    if key.startswith(POD_PREFIX):
        return DumpChoice("pod", key[len(POD_PREFIX) :])
    return DumpChoice("s3", key)


def dump_source(settings: Settings, choice: DumpChoice, kube: Any, namespace: str) -> DumpSource:
    """The chosen dump to read (kube: the kubernetes Configuration, None if unconnected)."""
    if choice.source == "s3":
        return S3Dump(settings.backups.bucket, choice.key)
    if kube is None:
        raise Refused("not connected to Kubernetes: the backup pod cannot be read")
    return PodDump(kube, namespace, settings.kube.backup_pod, choice.key, choice.size)


def step_action(
    step: str, state: RestoreState, settings: Settings, kube: Any, progress: Progress = quiet
) -> Action:
    """The action of one step, for the screen (cockpit/views/restore.py) and this module."""
    ns = state.namespace
    if step == "stop":
        return StopWriters(tuple((name, 0) for name in state.writers), ns)
    if step == "start":
        return StartWriters(tuple(state.writers.items()), ns, settings=settings)
    assert state.dump is not None
    source = dump_source(settings, state.dump, kube, ns)
    if step == "rehearse":
        return RehearseDump(source, state.database, progress=progress)
    return RestoreInPlace(source, state.database, progress=progress)


class Procedure:
    def __init__(
        self,
        settings: Settings,
        runner: ActionRunner,
        backup_ctx: BackupContext,
        kube_ctx: KubeContext,
        progress: Progress,
        out: TextIO,
    ) -> None:
        self.settings = settings
        self.runner = runner
        self.backup_ctx = backup_ctx
        self.kube_ctx = kube_ctx
        self.progress = progress
        self.out = out
        self.file = StateFile(settings.effective_journal_path().parent)
        self.dry = runner.dry_run  # a dry-run session validates each step, keeps no bookmark

    def save(self, state: RestoreState) -> None:
        if not self.dry:
            self.file.save(state)

    def _state(self, database: str, choice: DumpChoice) -> RestoreState:
        state = self.file.load()
        if state is not None:
            same = state.database == database and (
                state.dump is None or state.dump.where == choice.where
            )
            if not same:
                raise Refused(
                    f"an unfinished restore is on record ({state.summary()}; dump "
                    f"{state.dump.where if state.dump else 'not chosen'}): finish or abandon "
                    f"it in the cockpit (G), or move {self.file.path} aside"
                )
            print(f"resuming: {state.summary()}", file=self.out)
            return state
        return RestoreState(
            database=database,
            context=self.runner.who.context,
            namespace=self.kube_ctx.namespace,
            writers=dict(self.settings.kube.restore_replicas),
        )

    async def run(self, key: str, database: str, rehearse: bool) -> int:
        choice = dump_choice(key)
        state = self._state(database, choice)
        if self.dry:
            print("dry-run session: each step is validated, nothing changes", file=self.out)
        for step in STEPS:
            if state.steps[step].status in FINISHED:
                continue
            if step == "choose":
                state.dump = state.dump or choice
                state.mark("choose", DONE, choice.where)
                self.save(state)
                continue
            if step == "rehearse" and not rehearse:
                state.mark("rehearse", SKIPPED, "not asked for (--rehearse)")
                self.save(state)
                continue
            if step == "restore" and (running := await self._writers_running(state)):
                # Started again since a resumed bookmark stopped them: stop them again.
                print(f"the writers run again ({running}): stopping them again", file=self.out)
                result = await self._run_step("stop", state)
                if not result.ok:
                    print(f"FAILED: {one_line(result.message, 600)}", file=self.out)
                    return FAILED_EXIT
            print(f"{STEP_TITLES[step]}…", file=self.out, flush=True)
            result = await self._run_step(step, state)
            if not result.ok:
                print(f"FAILED: {one_line(result.message, 600)}", file=self.out)
                print(f"stopped at: {STEP_TITLES[step]}; {state.summary()}", file=self.out)
                return FAILED_EXIT
            print(f"  ok: {one_line(result.message, 600)}", file=self.out)
        print(f"ok: restore of {database} complete", file=self.out)
        return OK

    async def _writers_running(self, state: RestoreState) -> str:
        running = []
        for name in state.writers:
            data = await read_deployment(self.kube_ctx, name)
            if replicas := int((data.get("spec") or {}).get("replicas") or 0):
                running.append(f"{name} {replicas}")
        return ", ".join(running)

    async def _run_step(self, step: str, state: RestoreState) -> Result:
        ctx: Any = self.kube_ctx if step in ("stop", "start") else self.backup_ctx
        state.mark(step, RUNNING)
        self.save(state)
        try:
            kube = self.kube_ctx.api.configuration
            action = step_action(step, state, self.settings, kube, self.progress)
            action = await action.prepare(ctx)
            result = await self.runner.run(action, ctx, progress=self.progress)
        except (Refused, Busy) as exc:
            result = Result(False, f"refused: {exc}")
        state.finish_step(step, result.ok, result.message, result.data)
        self.save(state)
        return result
