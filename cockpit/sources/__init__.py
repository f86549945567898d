"""One module per backend.  Async, returns snapshots from cockpit.model, never imports Textual."""
