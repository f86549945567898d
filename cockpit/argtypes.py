"""argparse types shared by the command lines (`cockpit`, `cockpit serve`)."""

from __future__ import annotations

import argparse
from collections.abc import Callable


def whole_number(minimum: int) -> Callable[[str], int]:
    """An argparse type: a whole number of `minimum` or more, refused in words."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum:
            sign = ": it is negative" if value is not None and value < 0 else ""
            raise argparse.ArgumentTypeError(
                f"{text!r} is not a whole number of {minimum} or more{sign}"
            )
        return value

    return parse
