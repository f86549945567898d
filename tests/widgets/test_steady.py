"""SteadyFigure: jitter keeps the figure shown (no repaint), a real move shows at once."""

from __future__ import annotations

from widgets.steady import SteadyFigure


def test_jitter_is_held_and_a_real_move_shown() -> None:
    rtt = SteadyFigure(relative=0.3, floor=0.5)
    assert rtt(0.4) == 0.4  # the first reading is shown as it is
    assert rtt(0.6) == 0.4  # within 0.5 ms: held
    assert rtt(0.85) == 0.4
    assert rtt(1.2) == 1.2  # moved by 0.8 ms: shown
    assert rtt(40.0) == 40.0
    assert rtt(50.0) == 40.0  # within 30 % of 40
    assert rtt(53.0) == 53.0  # beyond it
    assert rtt(0.3) == 0.3  # a fall is shown as soon as it is real
