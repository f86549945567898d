"""A pane's keys, each declared once.

From one `Key` come its binding (and so the footer), its help line, its command-palette
entry, whether read-only mode hides it (`mutating`) and which action id the RBAC check
looks at (`action_id`).  A pane lists its keys in `KEYS`; the rest is derived.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from textual.binding import Binding


@dataclass(frozen=True)
class Key:
    key: str  # Textual key name(s), comma-separated
    method: str  # the pane's `action_<method>`
    label: str  # footer and help
    action_id: str = ""  # the action it requests (actions catalog): RBAC and the journal
    mutating: bool = False  # changes something: gone in read-only mode
    # The palette entry: "" for none; "{target}" is filled in by the pane from what is
    # selected (and the entry left out while nothing is).
    palette: str = ""
    key_display: str | None = None
    show: bool = True  # in the footer

    @property
    def display(self) -> str:
        return self.key_display or self.key.replace(",", " / ")

    def binding(self) -> Binding:
        return Binding(
            self.key, self.method, self.label, show=self.show, key_display=self.key_display
        )


def derived(keys: tuple[Key, ...]) -> tuple[list[Binding], frozenset[str], dict[str, str]]:
    """The bindings, the mutating methods and method -> action id, from the keys."""
    return (
        [key.binding() for key in keys],
        frozenset(key.method for key in keys if key.mutating),
        {key.method: key.action_id for key in keys if key.action_id},
    )


class DeclaredKeys:
    """Mix in before the Textual base (`class P(DeclaredKeys, Vertical)`): a class that
    lists KEYS gets BINDINGS (after any BINDINGS of its own), MUTATING and ACTION_IDS,
    and its mutating keys do nothing (and leave the footer) while `read_only()` says so."""

    KEYS: ClassVar[tuple[Key, ...]] = ()
    MUTATING: ClassVar[frozenset[str]] = frozenset()
    ACTION_IDS: ClassVar[dict[str, str]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # Before Textual's own __init_subclass__, which merges BINDINGS.
        if "KEYS" in cls.__dict__:
            bindings, cls.MUTATING, cls.ACTION_IDS = derived(cls.KEYS)
            cls.BINDINGS = [*cls.__dict__.get("BINDINGS", []), *bindings]  # type: ignore[attr-defined]
        super().__init_subclass__(**kwargs)

    def read_only(self) -> bool:
        """Instances assign the app's answer (a callable: the mode is known only once
        connected); until then nothing is read-only."""
        return False

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in self.MUTATING and self.read_only():
            return False
        return super().check_action(action, parameters)  # type: ignore[misc]


PaletteEntry = tuple[str, str, Callable[[], object], bool, str]  # title, help, run, mutating, id


def palette_entry(key: Key, owner: object, title: str, help_text: str) -> PaletteEntry:
    """One command-palette entry for a key of `owner` (which has its action_ method)."""
    run = getattr(owner, f"action_{key.method}")
    return title, help_text, run, key.mutating, key.action_id
