"""Every request to `cockpit serve` needs the token; the websocket also the served Origin;
the token reaches the output once, in the URL printed at start, and never the log."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys

import aiohttp
import httpx
import pytest

from cockpit.serve.auth import cookie_name


def test_no_token_401_bad_token_403_and_no_body(serve):
    served = serve()
    with httpx.Client(base_url=served.base, follow_redirects=False) as http:
        for path in ("/", "/static/js/textual.js", "/static/css/xterm.css", "/ws"):
            response = http.get(path)
            assert (response.status_code, response.content) == (401, b""), path
        bad = {"cookies": {cookie_name(served.base): "not-the-token"}}
        for path in ("/", "/static/js/textual.js", "/ws"):
            response = httpx.get(f"{served.base}{path}", **bad)
            assert (response.status_code, response.content) == (403, b""), path
        for url in ("/?token=not-the-token", f"/static/js/textual.js?token={served.token}"):
            response = http.get(url)
            assert (response.status_code, response.content) == (403, b""), url


def test_the_token_sets_a_lax_http_only_cookie_and_leaves_the_url(serve):
    served = serve()
    with httpx.Client(base_url=served.base, follow_redirects=False) as http:
        entered = http.get(f"/?token={served.token}&fontsize=14")
        assert entered.status_code == 303
        assert entered.headers["location"] == "/?fontsize=14"
        cookie = entered.headers["set-cookie"]
        assert f"{cookie_name(served.base)}={served.token}" in cookie
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
        page = http.get("/?fontsize=14")  # the client kept the cookie
        assert page.status_code == 200 and "textual.js" in page.text
        assert served.token not in page.text
        assert page.headers["x-frame-options"] == "DENY"
        assert http.get("/static/js/textual.js").status_code == 200
        # Nothing from another origin: no font from Google, no script from a CDN.
        urls = re.findall(r'(?:href|src)="(https?://[^"]*)"', page.text)
        assert urls and [u for u in urls if not u.startswith(served.base + "/")] == []
        assert "textual.js" in page.text and "xterm.css" in page.text


async def test_the_websocket_refuses_another_origin(serve):
    served = serve()
    cookies = {cookie_name(served.base): served.token}
    async with aiohttp.ClientSession(cookies=cookies) as session:
        for origin in ("http://evil.example", served.base.replace("127.0.0.1", "localhost")):
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await session.ws_connect(f"{served.base}/ws", headers={"Origin": origin})
            assert refused.value.status == 403
        # The served origin is let in: the session starts and draws.
        ws = await session.ws_connect(f"{served.base}/ws", headers={"Origin": served.base})
        first = await ws.receive(timeout=60)
        assert first.type == aiohttp.WSMsgType.BINARY
        await ws.close()


def test_the_token_is_printed_once_and_never_logged(serve):
    served = serve()
    with httpx.Client(base_url=served.base, follow_redirects=False) as http:
        assert http.get(f"/?token={served.token}").status_code == 303
        assert http.get("/?token=a-wrong-one").status_code == 403
        assert http.get("/").status_code == 200
    assert served.stop() == 0
    output = served.output
    assert output.count(served.token) == 1, output
    assert "a-wrong-one" not in output
    assert "GET / 303" in output and "GET / 403" in output  # the access log was written


def test_two_servers_on_one_host_keep_their_own_cookies(serve):
    """Browsers scope cookies by host, not port: one cookie name would log the other out."""
    first, second = serve(), serve()
    with httpx.Client(follow_redirects=False) as browser:  # one jar for the host, as a browser
        for served in (first, second):
            assert browser.get(served.entry_url).status_code == 303
        for served in (first, second):
            assert browser.get(f"{served.base}/").status_code == 200, served.base


def test_a_taken_port_is_said_in_words(serve, tmp_path):
    served = serve()
    port = served.base.rsplit(":", 1)[1]
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "cockpit",
            "serve",
            "--port",
            port,
            "--config",
            str(tmp_path / "config.toml"),
        ],
        env=served.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}: Address already in use" in done.stderr
    assert "Traceback" not in done.stderr


async def test_sessions_beyond_the_limit_are_refused_and_said(serve):
    served = serve("--max-sessions", "1")
    cookies = {cookie_name(served.base): served.token}
    headers = {"Origin": served.base}
    async with aiohttp.ClientSession(cookies=cookies) as session:
        first = await session.ws_connect(f"{served.base}/ws", headers=headers)
        assert (await first.receive(timeout=60)).type == aiohttp.WSMsgType.BINARY
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await session.ws_connect(f"{served.base}/ws", headers=headers)
        assert refused.value.status == 503
        deadline = asyncio.get_running_loop().time() + 10
        while "the limit (--max-sessions) is reached" not in served.output:  # read by a thread
            assert asyncio.get_running_loop().time() < deadline, served.output
            await asyncio.sleep(0.05)
        await first.close()
        deadline = asyncio.get_running_loop().time() + 30
        while True:  # the first session's process stops, then a tab gets in again
            try:
                again = await session.ws_connect(f"{served.base}/ws", headers=headers)
                break
            except aiohttp.WSServerHandshakeError as exc:
                assert exc.status == 503
                assert asyncio.get_running_loop().time() < deadline, "the slot never freed"
                await asyncio.sleep(0.2)
        assert (await again.receive(timeout=60)).type == aiohttp.WSMsgType.BINARY
        await again.close()


def test_a_session_limit_below_one_is_refused_in_words():
    done = subprocess.run(
        [sys.executable, "-m", "cockpit", "serve", "--max-sessions", "0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "'0' is not a whole number of 1 or more" in done.stderr
