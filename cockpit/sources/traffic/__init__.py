"""Traffic SLOs from the nginx pods' access logs: source.py follows the pods and counts
their lines into cockpit.slo's windows; lines.py cuts a log stream into lines."""
