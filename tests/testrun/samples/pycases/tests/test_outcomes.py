from pathlib import Path

import pytest


@pytest.mark.xfail(reason="rounding is not implemented")
def test_expected_failure() -> None:
    assert round(2.5) == 3


@pytest.mark.xfail(reason="fixed already")
def test_unexpected_pass() -> None:
    assert True


@pytest.mark.xfail(strict=True, reason="must fail")
def test_strict_unexpected_pass() -> None:
    assert True


@pytest.mark.skip(reason="not on this platform")
def test_skipped() -> None:
    raise AssertionError


def test_flaky() -> None:
    """Fails on its first run and passes on the next (a counter file beside it)."""
    counter = Path(__file__).with_name("flaky.count")
    runs = int(counter.read_text()) if counter.exists() else 0
    counter.write_text(str(runs + 1))
    assert runs % 2 == 1, f"run {runs + 1} fails"


@pytest.mark.parametrize("value", [1, 2])
def test_parametrized(value: int) -> None:
    assert value > 0
