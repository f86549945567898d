"""cockpit: a live operations cockpit in the terminal for the Excel Unified service."""

__version__ = "0.1.0"
