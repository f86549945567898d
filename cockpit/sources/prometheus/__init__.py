"""Prometheus: the SLO figures from PromQL and the firing/pending alerts."""
