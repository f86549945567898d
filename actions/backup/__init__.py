"""The backup and restore actions: dump now (pg_dump → gzip → S3, verified by reading
it back), and the restore steps (verify a chosen dump, stream it into psql).  Stopping
and restarting the writers reuse actions.kube.deployments.ScaleMany."""

from actions.backup.context import BackupContext, list_dumps, make_context
from actions.backup.dump import DumpNow
from actions.backup.restore import RestoreDump, VerifyDump

__all__ = ["BackupContext", "DumpNow", "RestoreDump", "VerifyDump", "list_dumps", "make_context"]
