from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    # Registered here too, so the marker works before pyproject lists it.
    config.addinivalue_line(
        "markers", "benchmark: runs the benchmark suite (real CLI, fake model) at a small size"
    )
