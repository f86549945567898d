"""How fast the simulated cluster moves.

The demo wants a cluster that looks real (pods take seconds to start, logs trickle);
tests want the same behaviour in a fraction of the time.  Every delay and rate in the
simulator comes from one `Pace`, so a test can say `Pace.fast()` and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True, slots=True)
class Pace:
    pod_schedule_s: float = 1.0  # Pending -> ContainerCreating
    container_create_s: float = 2.0  # ContainerCreating -> Running (not yet Ready)
    readiness_s: float = 1.5  # Running -> Ready
    terminate_s: float = 2.0  # Terminating -> gone (grace period)
    rollout_step_s: float = 1.0  # pause between rollout steps (maxSurge / maxUnavailable)
    job_duration_s: float = 8.0  # a backup job, from start to success/failure
    crashloop_restart_s: float = 10.0  # a crash-looping container restarts this often
    log_lines_per_s: float = 2.0  # per rails/fastapi/sidekiq container
    nginx_requests_per_s: float = 75.0  # per nginx pod: each request is an access line
    http_error_ratio: float = 0.0001  # share of requests a healthy app answers with 500
    incident_fastapi_error_ratio: float = 0.06  # incident: fastapi's 500/503 share
    incident_refused_ratio: float = 0.03  # a crash-looping pod's share of its app's requests
    error_ratio: float = 0.03  # share of generated lines that are errors (healthy)
    metrics_period_s: float = 15.0  # metrics.k8s.io window; values move each period
    controller_tick_s: float = 0.25  # how often the controller loop looks at the store
    history_hours: float = 26.0  # how far back generated logs reach at start
    log_full_rate_hours: float = 2.0  # older generated history is tapered (fewer lines)
    progress_deadline_s: float = 0.0  # a stuck rollout times out; 0: the Deployment's own

    @classmethod
    def demo(cls) -> Pace:
        return cls()

    @classmethod
    def fast(cls) -> Pace:
        """For tests: every transition well under a second."""
        return cls(
            pod_schedule_s=0.05,
            container_create_s=0.1,
            readiness_s=0.05,
            terminate_s=0.1,
            rollout_step_s=0.05,
            job_duration_s=0.4,
            crashloop_restart_s=1.0,
            log_lines_per_s=5.0,
            metrics_period_s=1.0,
            controller_tick_s=0.02,
            history_hours=26.0,
            progress_deadline_s=5.0,
        )

    def with_(self, **changes: float) -> Pace:
        return replace(self, **changes)
