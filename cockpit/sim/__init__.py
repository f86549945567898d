"""A simulated Excel Unified cluster: a small Kubernetes API server over real HTTP.

Real clients (the `kubernetes` package, `kubectl`) talk to it as to a cluster.  It
never imports Textual; the demo, the tests and the benchmarks all run against it.
"""
