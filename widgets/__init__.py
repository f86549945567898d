"""One module per pane, plus the confirmation modal.  Widgets render snapshots; no I/O."""
