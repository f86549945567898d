"""Actions through the ActionRunner against real, test-owned servers."""
