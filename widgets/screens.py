"""What every cockpit screen shares: no key acts before the screen is mounted.

Textual routes keys to a screen's bindings as soon as it is pushed, before it has
composed its widgets.  An Escape already queued behind the key that opened a screen
dismissed it at once, and its on_mount then ran on a screen with no children and
killed the app (found by the key fuzz: NoMatches '#cancel' on ConfirmScreen).
"""

from __future__ import annotations


class KeysAfterMount:
    """Mix in before the Screen base: `class X(KeysAfterMount, ModalScreen[T])`."""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if not self.is_mounted:  # type: ignore[attr-defined]
            return False  # not yet: the key is not acted on, the screen opens as asked
        return super().check_action(action, parameters)  # type: ignore[misc]
