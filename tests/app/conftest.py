"""The real CockpitApp against a simulated cluster and test-owned PostgreSQL and Redis."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from cockpit.app import CockpitApp, Launch
from cockpit.config import (
    KubeSettings,
    PollSettings,
    PostgresSettings,
    RedisSettings,
    Settings,
)
from cockpit.sim.pace import Pace
from cockpit.sim.runner import SimCluster
from tests.pilot import wait_for  # noqa: F401  (the app tests import it from here)

FAST_POLL = PollSettings(
    pods=0.3,
    metrics=0.5,
    events=0.5,
    logs=0.3,
    postgres=0.5,
    redis=0.5,
    host=1.0,
    health=5.0,
    backups=1.0,
    timeout=3.0,
    backoff_max=2.0,
)


@pytest.fixture
def make_sim() -> Iterator[Callable[..., SimCluster]]:
    made: list[SimCluster] = []

    def make(scenario: str = "incident", **kwargs: Any) -> SimCluster:
        # Half an hour of generated log history: 24 h of it at the fast pace is a few
        # hundred thousand lines per container, which only slows the tests down.
        kwargs.setdefault("pace", Pace.fast().with_(history_hours=0.5))
        sim = SimCluster(scenario, **kwargs)
        made.append(sim)
        return sim.start()

    yield make
    for sim in made:
        sim.stop()


@pytest.fixture
def journal_path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "journal.jsonl"


@pytest.fixture
def make_settings(
    tmp_path: Path, pg_server: Any, redis_server: Any, journal_path: Path
) -> Callable[..., Settings]:
    def make(sim: SimCluster | None, **overrides: Any) -> Settings:
        kube: dict[str, Any] = {"context": "cockpit-sim"}
        if sim is not None:
            kube["kubeconfig"] = sim.write_kubeconfig(tmp_path / "kubeconfig")
        else:
            kube["kubeconfig"] = tmp_path / "missing-kubeconfig"
        kube.update(overrides.pop("kube", {}))
        values: dict[str, Any] = {
            "journal_path": journal_path,
            "kube": KubeSettings(**kube),
            "postgres": PostgresSettings(dsn=pg_server.dsn(), idle_minutes=10),
            "redis": RedisSettings(url=redis_server.url),
            "poll": FAST_POLL,
        }
        values.update(overrides)
        return Settings(**values)

    return make


@pytest.fixture
def make_app(make_settings: Callable[..., Settings]) -> Callable[..., CockpitApp]:
    def make(sim: SimCluster | None, **overrides: Any) -> CockpitApp:
        settings = make_settings(sim, **overrides)
        return CockpitApp(Launch(settings=settings, context="cockpit-sim"))

    return make


async def wait_async(
    pilot: Any, condition: Callable[[], Awaitable[Any]], timeout: float = 10.0, what: str = ""
) -> Any:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = await condition()
        if value:
            return value
        await pilot.pause(0.1)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


@pytest.fixture
def kubectl_for(tmp_path: Path) -> Callable[[SimCluster], Any]:
    """The real kubectl against a simulated cluster (see tests/sim/conftest.py)."""
    from tests.sim.conftest import Kubectl

    def make(sim: SimCluster) -> Any:
        workdir = tmp_path / f"kubectl-{sim.port}"
        workdir.mkdir(exist_ok=True)
        return Kubectl(sim, workdir)

    return make


def read_journal(path: Path) -> list[dict[str, Any]]:
    from cockpit.audit import Journal

    return Journal(path).read()
