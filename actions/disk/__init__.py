"""The runbook's disk clean-up as one action (see cleanup.py; the preview is in preview.py).

Re-exported here because actions.catalog finds actions by scanning this module."""

from actions.disk.cleanup import DiskCleanup

__all__ = ["DiskCleanup"]
