"""The runbook's Kubernetes remedies as actions.

Each action carries what the screen showed (uid, generation, replica counts) and acts
on exactly that: deletes carry a uid precondition, deployment changes are refused if
the deployment's generation moved on since it was shown.  Blocking client calls run
in threads; every mutating call can be a server-side dry run (dryRun=All).

    context.py      KubeContext (client and namespace) and the raw-JSON call whose
                    403/404/409 become refusals, shared by the others
    pods.py         pod.restart: delete one pod (uid precondition), wait for its replacement
    deployments.py  rollout restart (one or all), rollout undo, scale, scale several;
                    the generation check, the PATCH helper and the rollout follower
    backup.py       backup.trigger: a Job from the backup CronJob, followed to its end

The action classes are re-exported here, and only here, because actions.catalog finds
actions by scanning `vars(actions.kube)` (as it does actions.postgres and actions.redis);
everything else imports from the module that defines the name.
"""

from actions.kube.backup import TriggerBackup
from actions.kube.deployments import (
    RolloutRestart,
    RolloutRestartAll,
    RolloutUndo,
    Scale,
    ScaleMany,
)
from actions.kube.pods import RestartPod

__all__ = [
    "RestartPod",
    "RolloutRestart",
    "RolloutRestartAll",
    "RolloutUndo",
    "Scale",
    "ScaleMany",
    "TriggerBackup",
]
