"""Health endpoints: the configured URLs directly, the in-cluster services through the
API server's service proxy (source.HealthSource), and their `cockpit check` lines."""

from cockpit.sources.health.check import check_lines
from cockpit.sources.health.source import HealthSource

__all__ = ["HealthSource", "check_lines"]
