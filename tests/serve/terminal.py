"""Reading the served terminal's text through the page.

textual-serve's page draws xterm.js with the WebGL/canvas renderer, so the text is not
in the DOM, and its Terminal object is not exported.  The page stores it as
`this.terminal = new Terminal(...)`; a setter on Object.prototype, installed before
any script runs, catches that assignment and keeps the object, whose public buffer API
(`buffer.active.getLine(n).translateToString()`) gives each row's text.
"""

from __future__ import annotations

from typing import Any

CATCH_TERMINAL = """
Object.defineProperty(Object.prototype, "terminal", {
  configurable: true,
  set(value) {
    Object.defineProperty(this, "terminal", {
      value, writable: true, configurable: true, enumerable: true,
    });
    window.__cockpitTerminal = value;
  },
});
"""

SCREEN_TEXT = """() => {
  const term = window.__cockpitTerminal;
  if (!term) return null;
  const buffer = term.buffer.active;
  const rows = [];
  for (let i = 0; i < term.rows; i++) {
    const line = buffer.getLine(buffer.viewportY + i);
    rows.push(line ? line.translateToString(true) : "");
  }
  return rows.join("\\n");
}"""

CONTAINS_ALL = (
    "(wanted) => { const text = ("
    + SCREEN_TEXT
    + ")(); return text !== null && wanted.every((w) => text.includes(w)); }"
)


def open_page(browser: Any) -> Any:
    """A page that keeps the terminal it will draw (large: every pane has its rows)."""
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    page.add_init_script(CATCH_TERMINAL)
    return page


def screen_text(page: Any) -> str:
    return page.evaluate(SCREEN_TEXT) or ""


def wait_text(page: Any, *wanted: str, timeout: float = 60.0) -> str:
    """Wait until the terminal shows every one of `wanted`; the screen's text."""
    try:
        page.wait_for_function(CONTAINS_ALL, arg=list(wanted), timeout=timeout * 1000)
    except Exception as exc:
        raise AssertionError(
            f"the terminal never showed {wanted!r}; it shows:\n{screen_text(page)}"
        ) from exc
    return screen_text(page)


def wait_gone(page: Any, text: str, timeout: float = 30.0) -> str:
    """Wait until the terminal (drawn) no longer shows `text`; the screen's text."""
    try:
        page.wait_for_function(
            "(t) => { const s = (" + SCREEN_TEXT + ")(); return s !== null && !s.includes(t); }",
            arg=text,
            timeout=timeout * 1000,
        )
    except Exception as exc:
        raise AssertionError(f"the terminal still shows {text!r}:\n{screen_text(page)}") from exc
    return screen_text(page)


def press(page: Any, key: str) -> None:
    """A key into the terminal (its hidden textarea has the keyboard focus)."""
    page.focus(".xterm-helper-textarea")
    page.keyboard.press(key)
