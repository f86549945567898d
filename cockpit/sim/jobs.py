"""Jobs (one pod at a time, retried up to backoffLimit) and CronJobs (scheduled Jobs,
history limits, lastScheduleTime / lastSuccessfulTime), as batch/v1 reports them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cockpit.sim import cron
from cockpit.sim import events as ev
from cockpit.sim.deployments import pod_from_template
from cockpit.sim.objects import clone, controller_ref, owner_ref, parse_ts, suffix, ts

if TYPE_CHECKING:
    from cockpit.sim.controller import Controller

SCHEDULED_AT = "batch.kubernetes.io/cronjob-scheduled-timestamp"


def finished(job: dict) -> str | None:
    """'Complete' or 'Failed' once the job has that condition."""
    for c in (job.get("status") or {}).get("conditions") or []:
        if c.get("type") in ("Complete", "Failed") and c.get("status") == "True":
            return c["type"]
    return None


def _cond(typ: str, reason: str, message: str, now: str) -> dict:
    return {
        "type": typ,
        "status": "True",
        "lastProbeTime": now,
        "lastTransitionTime": now,
        "reason": reason,
        "message": message,
    }


class JobController:
    def __init__(self, ctl: Controller) -> None:
        self.ctl = ctl

    def sync(self, job: dict) -> None:
        ctl = self.ctl
        m = job["metadata"]
        if m.get("deletionTimestamp") or finished(job):
            return
        spec = job.get("spec") or {}
        if spec.get("suspend"):
            return
        pods = ctl.store.owned(m["uid"], "pods")
        succeeded = sum(1 for p in pods if (p.get("status") or {}).get("phase") == "Succeeded")
        failed = sum(1 for p in pods if (p.get("status") or {}).get("phase") == "Failed")
        active = [
            p
            for p in pods
            if (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")
            and not p["metadata"].get("deletionTimestamp")
        ]
        now_t = ctl.clock()
        now = ts(now_t)
        status = clone(job.get("status") or {})
        status.setdefault("startTime", now)
        completions = int(spec.get("completions") or 1)
        backoff = int(spec.get("backoffLimit", 6))
        status["terminating"] = 0
        status["uncountedTerminatedPods"] = {}
        if succeeded >= completions:
            msg = "Reached expected number of succeeded pods"
            status["conditions"] = [
                _cond("SuccessCriteriaMet", "CompletionsReached", msg, now),
                _cond("Complete", "CompletionsReached", msg, now),
            ]
            status["completionTime"] = now
            status.pop("active", None)
            ctl.recorder.record(job, "Normal", "Completed", "Job completed", ev.JOB)
        elif failed > backoff:
            msg = "Job has reached the specified backoff limit"
            status["conditions"] = [
                _cond("FailureTarget", "BackoffLimitExceeded", msg, now),
                _cond("Failed", "BackoffLimitExceeded", msg, now),
            ]
            status.pop("active", None)
            for p in active:
                ctl.delete_pod(p)
            ctl.recorder.record(job, "Warning", "BackoffLimitExceeded", msg, ev.JOB)
        else:
            parallelism = int(spec.get("parallelism", 1))
            want = min(parallelism, completions - succeeded) - len(active)
            for _ in range(max(0, want)):
                name = f"{m['name']}-{suffix(5, ctl.rng)}"
                pod = pod_from_template(job, name, spec.get("template") or {})
                active.append(ctl.create("pods", pod))
                ctl.recorder.record(
                    job, "Normal", "SuccessfulCreate", f"Created pod: {name}", ev.JOB
                )
            if active:
                status["active"] = len(active)
            else:
                status.pop("active", None)
        status["ready"] = sum(
            1
            for p in active
            if any(
                c.get("type") == "Ready" and c.get("status") == "True"
                for c in (p.get("status") or {}).get("conditions") or []
            )
        )
        for field, value in (("succeeded", succeeded), ("failed", failed)):
            if value:
                status[field] = value
            else:
                status.pop(field, None)
        ctl.write_status("jobs.batch", job, status)


class CronJobController:
    def __init__(self, ctl: Controller) -> None:
        self.ctl = ctl
        self._ticking: set[str] = set()
        self._unexpected: set[str] = set()

    def sync(self, cj: dict) -> None:
        ctl = self.ctl
        m = cj["metadata"]
        if m.get("deletionTimestamp"):
            return
        spec, status = cj.get("spec") or {}, clone(cj.get("status") or {})
        jobs = [
            j
            for j in ctl.store.owned(m["uid"], "jobs.batch")
            if (controller_ref(j) or {}).get("uid") == m["uid"]
        ]
        active_uids = {a.get("uid") for a in status.get("active") or []}
        for j in jobs:
            uid = j["metadata"]["uid"]
            done = finished(j)
            if uid not in active_uids and not done:
                if uid not in self._unexpected:
                    self._unexpected.add(uid)
                    ctl.recorder.record(
                        cj,
                        "Warning",
                        "UnexpectedJob",
                        "Saw a job that the "
                        f"controller did not create or forgot: "
                        f"{j['metadata']['name']}",
                        ev.CRONJOB,
                    )
            elif uid in active_uids and done:
                status["active"] = [a for a in status.get("active") or [] if a.get("uid") != uid]
                ctl.recorder.record(
                    cj,
                    "Normal",
                    "SawCompletedJob",
                    f"Saw completed job: {j['metadata']['name']}, condition: {done}",
                    ev.CRONJOB,
                )
            if done == "Complete":
                t = (j.get("status") or {}).get("completionTime")
                if t and (parse_ts(t) or 0) > (parse_ts(status.get("lastSuccessfulTime")) or 0):
                    status["lastSuccessfulTime"] = t
        live = {j["metadata"]["uid"] for j in jobs}
        if status.get("active"):
            status["active"] = [a for a in status["active"] if a.get("uid") in live]
        if not status.get("active"):
            status.pop("active", None)
        self._cleanup(cj, jobs)
        if not spec.get("suspend"):
            status = self._schedule(cj, status) or status
        ctl.write_status("cronjobs.batch", cj, status)
        self._tick_later(cj)

    def _schedule(self, cj: dict, status: dict) -> dict | None:
        ctl = self.ctl
        now = ctl.clock()
        try:
            due = cron.last_fire(cj["spec"]["schedule"], now)
        except (ValueError, KeyError):
            return None
        last = (
            parse_ts(status.get("lastScheduleTime"))
            or parse_ts(cj["metadata"].get("creationTimestamp"))
            or now
        )
        if due is None or due <= last:
            return None
        m = cj["metadata"]
        name = f"{m['name']}-{int(due // 60)}"
        if ctl.store.get("jobs.batch", m["namespace"], name) is None:
            job = job_from_cronjob(cj, name, scheduled=due)
            created = ctl.create("jobs.batch", job)
            status.setdefault("active", []).append(
                {
                    "kind": "Job",
                    "namespace": m["namespace"],
                    "name": name,
                    "uid": created["metadata"]["uid"],
                    "apiVersion": "batch/v1",
                    "resourceVersion": created["metadata"]["resourceVersion"],
                }
            )
            ctl.recorder.record(cj, "Normal", "SuccessfulCreate", f"Created job {name}", ev.CRONJOB)
        status["lastScheduleTime"] = ts(due)
        return status

    def _cleanup(self, cj: dict, jobs: list[dict]) -> None:
        spec = cj.get("spec") or {}
        for outcome, limit in (
            ("Complete", spec.get("successfulJobsHistoryLimit", 3)),
            ("Failed", spec.get("failedJobsHistoryLimit", 1)),
        ):
            done = [j for j in jobs if finished(j) == outcome]
            done.sort(
                key=lambda j: (
                    parse_ts((j.get("status") or {}).get("startTime"))
                    or parse_ts(j["metadata"].get("creationTimestamp"))
                    or 0
                )
            )
            for j in done[: max(0, len(done) - int(limit))]:
                jm = j["metadata"]
                if self.ctl.store.get("jobs.batch", jm["namespace"], jm["name"]) is None:
                    continue
                self.ctl.store.delete("jobs.batch", jm["namespace"], jm["name"])
                self.ctl.recorder.record(
                    cj, "Normal", "SuccessfulDelete", f"Deleted job {jm['name']}", ev.CRONJOB
                )

    def _tick_later(self, cj: dict) -> None:
        uid = cj["metadata"]["uid"]
        if uid in self._ticking:
            return
        self._ticking.add(uid)
        m = cj["metadata"]
        now = self.ctl.clock()

        def tick() -> None:
            self._ticking.discard(uid)
            self.ctl.mark("cronjobs.batch", m["namespace"], m["name"])

        self.ctl.later(60 - now % 60 + 0.5, tick)


def job_from_cronjob(cj: dict, name: str, scheduled: float | None = None) -> dict:
    jt = (cj.get("spec") or {}).get("jobTemplate") or {}
    jmeta = jt.get("metadata") or {}
    meta: dict = {
        "name": name,
        "namespace": cj["metadata"]["namespace"],
        "labels": clone(jmeta.get("labels") or {}),
        "annotations": clone(jmeta.get("annotations") or {}),
        "ownerReferences": [owner_ref(cj)],
    }
    if scheduled is not None:
        meta["annotations"][SCHEDULED_AT] = ts(scheduled)
    if not meta["annotations"]:
        meta.pop("annotations")
    if not meta["labels"]:
        meta.pop("labels")
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": meta,
        "spec": clone(jt.get("spec") or {}),
    }
