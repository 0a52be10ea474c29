import tally


def test_total() -> None:
    assert tally.total([1, 2, 3]) == 6


def test_empty() -> None:
    assert tally.total([]) == 0
