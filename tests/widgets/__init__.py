"""Panes and screens in a small Textual app driven by Pilot (not the whole CockpitApp)."""
