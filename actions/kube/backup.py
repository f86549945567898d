"""The backup CronJob run by hand (`kubectl create job --from=cronjob/...`), followed to
the Job's end."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from actions.base import Action, Permission, Plan, Progress, Result, Risk
from actions.kube.context import POLL_S, KubeContext, call, dry


@dataclass(frozen=True)
class TriggerBackup(Action):
    """`kubectl create job --from=cronjob/postgres-backup`, followed to the end."""

    id = "backup.trigger"
    label = "Run the backup job now"
    cronjob: str
    namespace: str
    job_name: str = ""

    def __post_init__(self) -> None:
        # Named once, when built: the confirmation shows the Job that execute() creates
        # (a name taken from the clock in each of them differed by the seconds between).
        if not self.job_name:
            name = f"{self.cronjob}-manual-{int(time.time())}"[:63]
            object.__setattr__(self, "job_name", name)

    def name(self) -> str:
        return self.job_name

    @classmethod
    def required(cls) -> tuple[Permission, ...]:
        return (Permission("create", "jobs", "batch"), Permission("get", "cronjobs", "batch"))

    def permissions(self) -> tuple[Permission, ...]:
        return (Permission("create", "jobs", "batch"), Permission("get", "cronjobs", "batch"))

    def plan(self) -> Plan:
        name = self.name()
        return Plan(
            action=self.id,
            title=f"Run backup job {name} from CronJob {self.cronjob}",
            changes=(f"a Job {name} from {self.cronjob}'s job template (pg_dump to S3)",),
            command=f"kubectl create job --from=cronjob/{self.cronjob} {name} -n {self.namespace}",
            targets=(f"cronjob/{self.cronjob}",),
            blast_radius="one pg_dump against the database: extra read load while it runs",
            risk=Risk.LOW,
            lock_key=f"cronjob/{self.cronjob}",
        )

    async def execute(self, ctx: KubeContext, dry_run: bool) -> Result:
        cron = await call(
            ctx.batch.read_namespaced_cron_job,
            self.cronjob,
            ctx.namespace,
            what=f"CronJob {self.cronjob}",
            _request_timeout=ctx.timeout(),
        )
        template = (cron.get("spec") or {}).get("jobTemplate") or {}
        meta = cron.get("metadata") or {}
        name = self.name()
        job = {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {
                "name": name,
                "namespace": ctx.namespace,
                "labels": dict((template.get("metadata") or {}).get("labels") or {}),
                "annotations": {
                    **((template.get("metadata") or {}).get("annotations") or {}),
                    "cronjob.kubernetes.io/instantiate": "manual",
                },
                "ownerReferences": [
                    {
                        "apiVersion": "batch/v1",
                        "kind": "CronJob",
                        "name": self.cronjob,
                        "uid": meta.get("uid", ""),
                        "controller": True,
                    }
                ],
            },
            "spec": template.get("spec") or {},
        }
        await call(
            ctx.batch.create_namespaced_job,
            ctx.namespace,
            job,
            what=f"Job {name}",
            _request_timeout=ctx.timeout(),
            **dry(dry_run),
        )
        if dry_run:
            return Result(True, f"dry run: Job {name} would be created")
        return Result(True, f"Job {name} created", {"job": name})

    async def verify(self, ctx: KubeContext, result: Result, progress: Progress) -> Result:
        name = result.data["job"]
        started = time.monotonic()
        while True:
            job = await call(
                ctx.batch.read_namespaced_job,
                name,
                ctx.namespace,
                what=f"Job {name}",
                _request_timeout=ctx.timeout(),
            )
            status = job.get("status") or {}
            for cond in status.get("conditions") or []:
                if cond.get("status") != "True":
                    continue
                if cond.get("type") == "Complete":
                    progress(1.0, "complete")
                    return Result(True, f"backup Job {name} completed")
                if cond.get("type") == "Failed":
                    reason = cond.get("reason") or "failed"
                    return Result(
                        False,
                        f"backup Job {name} failed: {reason} {cond.get('message') or ''}".strip(),
                    )
            active = status.get("active") or 0
            progress(
                None,
                f"{name}: {'running' if active else 'starting'} "
                f"({time.monotonic() - started:.0f}s)",
            )
            await asyncio.sleep(POLL_S)
