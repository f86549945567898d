"""`cockpit serve` in headless Debian chromium: the page, the terminal, the cockpit in it."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Callable

import psutil
import pytest
from playwright.sync_api import Error as PlaywrightError

from tests.serve.conftest import Served
from tests.serve.terminal import open_page, press, screen_text, wait_gone, wait_text


def _running(served: Served, module: str) -> list[psutil.Process]:
    """The server's processes running `python -m module`."""
    found = []
    for child in psutil.Process(served.process.pid).children(recursive=True):
        try:
            if module in child.cmdline():
                found.append(child)
        except psutil.Error:  # gone, or dead and not yet reaped (a zombie has no cmdline)
            pass
    return found


def sessions(served: Served) -> list[psutil.Process]:
    """The server's session processes (one per open page)."""
    return _running(served, "cockpit.serve.session")


def pollers_now(served: Served) -> psutil.Process | None:
    """The server's recorder process, if one runs."""
    found = _running(served, "cockpit.serve.pollers")
    assert len(found) <= 1, found  # never two sets of pollers
    return found[0] if found else None


def pollers(served: Served) -> psutil.Process:
    found = pollers_now(served)
    assert found is not None, "no shared pollers"
    return found


def wait_until(condition: Callable[[], object], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


PANES = ("Pods (", "Workloads", "Error logs", "Events", "PostgreSQL", "Redis", "Backups")


def test_a_read_only_session_draws_the_panes_and_offers_no_mutating_action(
    serve, chromium, tmp_path
):
    served = serve()
    page = open_page(chromium)
    response = page.goto(served.entry_url)
    assert response is not None and response.status == 200
    assert page.url == f"{served.base}/"  # the token left the address bar
    wait_text(page, "READ-ONLY", *PANES)
    assert "ARMED" not in screen_text(page)

    press(page, "Shift+B")  # backup now: a confirmation when armed (the next test)
    press(page, "?")  # keys are handled in order: help opens after B was handled
    shown = wait_text(page, "cockpit — keys")
    assert "Execute" not in shown  # no confirmation opened
    assert "Backup now" not in shown  # and the help offers no mutating key
    (session,) = sessions(served)
    # A viewer of the shared pollers' feed: no connection of its own to any backend.
    assert session.net_connections("inet") == []
    assert pollers(served).net_connections("inet")  # the one set of pollers
    assert (tmp_path / "state" / "recording.db").exists()  # and its one recording
    page.close()  # the tab goes: its session ends with it
    wait_until(lambda: not sessions(served), what="the session to end with its tab")


def test_an_armed_session_offers_the_backup_that_a_read_only_one_refuses(serve, chromium):
    served = serve("--armed")
    assert "ARMED sessions" in served.output
    page = open_page(chromium)
    page.goto(served.entry_url)
    wait_text(page, "ARMED", *PANES)

    press(page, "?")
    assert "Backup now" in wait_text(page, "cockpit — keys")  # offered, as it is armed
    press(page, "?")  # the help, drawn (so mounted), closes on its own key
    wait_gone(page, "cockpit — keys")
    press(page, "Shift+B")
    wait_text(page, "Execute", "Cancel")  # the confirmation, nothing run yet
    page.close()


def test_without_the_token_the_browser_gets_nothing(serve, chromium):
    served = serve()
    page = open_page(chromium)
    fetched: list[tuple[str, int]] = []
    page.on("response", lambda response: fetched.append((response.url, response.status)))
    # An empty 4xx: chromium shows its own error page instead, and goto says so.
    with pytest.raises(PlaywrightError, match="ERR_HTTP_RESPONSE_CODE_FAILURE"):
        page.goto(f"{served.base}/")
    with pytest.raises(PlaywrightError, match="ERR_HTTP_RESPONSE_CODE_FAILURE"):
        page.goto(f"{served.base}/?token=not-the-token")
    # Nothing but the two refusals: no page, so no script, style or websocket after them.
    assert fetched == [(f"{served.base}/", 401), (f"{served.base}/?token=not-the-token", 403)]
    page.close()


def test_war_room_opens_on_the_war_room_screen(serve, chromium):
    served = serve("--war-room")
    page = open_page(chromium)
    page.goto(served.entry_url)
    shown = wait_text(page, "READ-ONLY", "PODS NOT READY", "PG CONNECTIONS")
    assert "Pods (" not in shown  # the figures, not the panes (the header may name them)
    press(page, "w")  # and back to the panes
    wait_text(page, *PANES)
    page.close()


def test_demo_serves_the_simulated_cluster(serve, chromium):
    served = serve("--demo", "--scenario", "healthy")  # healthy: no servers of its own
    page = open_page(chromium)
    page.goto(served.entry_url)
    wait_text(page, "READ-ONLY", "demo: simulated cluster, healthy", *PANES)
    page.close()


def test_the_shared_pollers_start_again_and_the_tabs_catch_up(serve, chromium):
    served = serve()
    page = open_page(chromium)
    page.goto(served.entry_url)
    wait_text(page, "READ-ONLY", *PANES)
    first = pollers(served)
    first.kill()  # a crash, as the OOM killer would do it
    wait_text(page, "the shared pollers")  # the tab says what it lost...
    wait_until(lambda: pollers_now(served) not in (None, first), what="new pollers")
    wait_gone(page, "STALE", timeout=60)  # ...and catches up on the new feed by itself
    assert "the shared pollers exited" in served.output
    page.close()


def test_the_token_link_clicked_on_another_site_opens_the_cockpit(serve, chromium):
    """The URL pasted in a chat and clicked there: a navigation from another site."""
    served = serve()
    other = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    link = served.entry_url  # on 127.0.0.1; the chat is on localhost, another site

    class Chat(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = f'<a id="go" href="{link}">the war room</a>'.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    other.RequestHandlerClass = Chat
    threading.Thread(target=other.serve_forever, daemon=True).start()
    try:
        page = open_page(chromium)
        statuses: list[int] = []
        page.on("response", lambda response: statuses.append(response.status))
        page.goto(f"http://localhost:{other.server_address[1]}/")
        page.click("#go")
        wait_text(page, "READ-ONLY", "Pods (")
        assert 401 not in statuses and 403 not in statuses, statuses
        page.close()
    finally:
        other.shutdown()
