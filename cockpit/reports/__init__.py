"""Reports written to a file: the weekly checks of the runbook and incident postmortems.

Core level: reads sources, Prometheus and recordings, never imports Textual."""
