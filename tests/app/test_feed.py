"""The live feed of one set of shared pollers (`cockpit serve`'s sessions): viewers see
what the pollers see, poll nothing themselves, and say so when the feed goes away."""

from __future__ import annotations

import asyncio
from pathlib import Path

from cockpit.app import Launch
from cockpit.config import RecorderSettings
from cockpit.headless import run_headless
from cockpit.recording.recorder import recorder_for
from cockpit.viewer import FeedApp
from tests.pilot import cockpit_running
from widgets.pods import PodsPane
from widgets.redis import RedisPane

from .conftest import wait_for


async def test_viewers_show_the_shared_pollers_and_say_when_they_stop(
    make_sim, make_settings, tmp_path: Path
) -> None:
    sim = make_sim("incident")
    settings = make_settings(sim, recorder=RecorderSettings(path=tmp_path / "rec.db"))
    socket = tmp_path / "feed" / "sock"
    recorder = recorder_for(settings)
    stop = asyncio.Event()
    pollers = asyncio.create_task(
        run_headless(Launch(settings, "cockpit-sim"), recorder, feed_socket=socket, stop=stop)
    )
    while not socket.exists():
        await asyncio.sleep(0.05)
    requests_before = sum(sim.server.requests.values())
    viewer = FeedApp(Launch(settings.model_copy(update={"read_only": True})), socket)
    async with cockpit_running(viewer, size=(200, 50)) as pilot:
        pods = viewer.query_one(PodsPane)
        await wait_for(pilot, lambda: getattr(pods, "snapshot", None), what="pods from the feed")
        redis = viewer.query_one(RedisPane)
        await wait_for(pilot, lambda: redis.taken_at is not None, what="redis from the feed")
        assert {p.name for p in pods.snapshot.pods} >= set(sim.broken.values())
        assert viewer.header.context == "cockpit-sim"  # named from the recorded pods
        assert viewer.sources.kube is None and viewer.recorder is None  # polls, records nothing
        # The viewer asked the API server nothing: the shared pollers did (a read-only
        # viewer does not even connect).
        shown = pods.snapshot.taken_at
        await wait_for(pilot, lambda: pods.snapshot.taken_at > shown, what="a later poll")
        assert sum(sim.server.requests.values()) > requests_before  # the pollers poll on
        stop.set()
        await asyncio.wait_for(pollers, 20)
        await wait_for(pilot, lambda: pods.failure is not None, what="the feed's end")
        assert "shared pollers" in pods.failure.message
        await pilot.press("q")
