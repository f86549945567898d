"""Neutralising untrusted text before it reaches the terminal.

Log lines, query text, pod names and error messages can carry terminal control
sequences (colour, cursor moves, OSC 8 links, window-title writes, a bell).  Textual
renders text itself, but a raw ESC inside a Text still reaches the terminal, so
every control character is swapped for its visible Unicode "control picture"
(ESC -> ␛): the reader sees that something odd was there, the terminal sees nothing
it would act on.  Markup is a separate matter: panes never parse this text as markup.
"""

from __future__ import annotations

import re

# C0 controls except TAB, plus DEL and the C1 range (0x80-0x9f, e.g. CSI as one byte).
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f\x80-\x9f]")
# Bidirectional overrides and isolates can make text read differently than it is.
_BIDI = re.compile(r"[\u202a-\u202e\u2066-\u2069]")


def _picture(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)
    if code == 0x7F:
        return "\u2421"
    return f"\\x{code:02x}"


def clean(text: str, max_len: int = 4096) -> str:
    """One line of untrusted text, safe to show: controls made visible, length bounded."""
    if text.isascii() and text.isprintable() and len(text) <= max_len:
        return text  # the common case (names, statuses), checked in C
    if len(text) > max_len:
        text = f"{text[:max_len]}… [+{len(text) - max_len} chars]"
    text = text.replace("\t", "    ")
    if _CONTROL.search(text):
        text = _CONTROL.sub(_picture, text)
    if _BIDI.search(text):
        text = _BIDI.sub("\ufffd", text)
    return text


def one_line(text: str, max_len: int = 300) -> str:
    """Multi-line untrusted text (an error, a query) squeezed onto one safe line."""
    return clean(" ".join(text.split()), max_len)
