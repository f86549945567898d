"""Traffic SLOs from access logs: parsing, rolling windows, error-budget burn.

Pure: no I/O, no Textual.
"""
