from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from claudeserver.testing import FakeAnthropic
from claudeserver.testing.fake_anthropic import Model
from tests.scaleout.cluster import STALLED_SECONDS, Cluster

# Short heartbeats, so a killed worker is found dead within seconds.
HEARTBEAT_SECONDS = 0.5


StartCluster = Callable[[Model], Cluster]


@pytest.fixture
def start_cluster(
    tmp_path: Path, postgres_url: str, fake_model: Callable[[Model], FakeAnthropic]
) -> Iterator[StartCluster]:
    """An API-only process and two workers with two task slots each, on a fresh database."""
    started: list[Cluster] = []

    def start(model: Model) -> Cluster:
        env = {**fake_model(model).env(), **_settings(tmp_path, postgres_url)}
        started.append(Cluster(env, tmp_path))
        return started[-1].start(workers=2, concurrency=2)

    yield start
    for cluster in started:
        cluster.stop()


def _settings(tmp_path: Path, postgres_url: str) -> dict[str, str]:
    return {
        "EXECUTOR": "procrastinate",
        "DATABASE_URL": postgres_url,
        "WORKER_HEARTBEAT_SECONDS": str(HEARTBEAT_SECONDS),
        "WORKER_STALLED_SECONDS": str(STALLED_SECONDS),
        "HUMAN_THINK_SECONDS": "0.05",
        "HUMAN_SEED": "7",
        "MAX_ITERATIONS": "8",
        "WORKSPACES_DIR": str(tmp_path / "workspaces"),
    }


@pytest.fixture
def projects(tmp_path: Path) -> Callable[[int], list[Path]]:
    """`n` small Python projects, each with one regression test."""

    def make(n: int) -> list[Path]:
        made = []
        for i in range(n):
            root = tmp_path / f"project{i}"
            (root / "tests").mkdir(parents=True)
            (root / "tests" / "test_existing.py").write_text(
                "def test_existing():\n    assert 1 + 1 == 2\n"
            )
            made.append(root)
        return made

    return make
