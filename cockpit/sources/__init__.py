"""One package per backend (kube, postgres, redis, backups) and host.py.  Async, returns
snapshots from cockpit.model, never imports Textual."""
