"""The flight recorder: every snapshot, failure and journaled action, kept as changes in
one bounded SQLite file, read back for replay, reports and the live feed of `cockpit
serve`.  Core level: it never imports Textual, sources or widgets."""
