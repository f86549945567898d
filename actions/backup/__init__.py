"""The backup and restore actions: dump now (pg_dump → gzip → S3, verified by reading
it back), verify a dump, restore it into a database (headless), and the guided restore's
steps: stop the writers, rehearse into a scratch database, restore by swapping a freshly
loaded database in, start the writers again."""

from actions.backup.context import BackupContext, list_dumps, make_context
from actions.backup.dump import DumpNow
from actions.backup.guided import RehearseDump, RestoreInPlace
from actions.backup.restore import RestoreDump, VerifyDump
from actions.backup.writers import StartWriters, StopWriters

__all__ = [
    "BackupContext",
    "DumpNow",
    "RehearseDump",
    "RestoreDump",
    "RestoreInPlace",
    "StartWriters",
    "StopWriters",
    "VerifyDump",
    "list_dumps",
    "make_context",
]
