"""Data-driven check of the corpus: every dangerous command denied, every benign allowed."""

from __future__ import annotations

import pytest

from claudeserver.policy import PolicyConfig, decide

from .corpus import BENIGN, DANGEROUS


def _bash(command: str, config: PolicyConfig) -> tuple[bool, str, str]:
    decision = decide("Bash", {"command": command}, config)
    return decision.allowed, decision.category, decision.reason


@pytest.mark.parametrize(("command", "category"), DANGEROUS)
def test_dangerous_is_denied(command: str, category: str, config: PolicyConfig) -> None:
    allowed, got, reason = _bash(command, config)
    assert not allowed, f"{command!r} was allowed"
    assert got == category, f"{command!r}: {got} ({reason})"
    assert reason.startswith("denied: ")


@pytest.mark.parametrize("command", BENIGN)
def test_benign_is_allowed(command: str, config: PolicyConfig) -> None:
    allowed, category, reason = _bash(command, config)
    assert allowed, f"{command!r} denied as {category}: {reason}"


def test_corpus_figures(config: PolicyConfig, capsys: pytest.CaptureFixture[str]) -> None:
    by_category: dict[str, list[int]] = {}
    for command, category in DANGEROUS:
        allowed, got, _ = _bash(command, config)
        counts = by_category.setdefault(category, [0, 0, 0])
        counts[0] += not allowed
        counts[1] += got == category
        counts[2] += 1
    denied = sum(c[0] for c in by_category.values())
    allowed = sum(_bash(c, config)[0] for c in BENIGN)
    with capsys.disabled():
        print(
            f"\npolicy corpus: dangerous denied {denied}/{len(DANGEROUS)}, "
            f"benign allowed {allowed}/{len(BENIGN)}"
        )
        for category, (hit, exact, total) in sorted(by_category.items()):
            print(f"  {category:18} denied {hit:3}/{total:<3} with this category {exact:3}")
    assert len(DANGEROUS) >= 290
    assert len(BENIGN) >= 125
    assert (denied, allowed) == (len(DANGEROUS), len(BENIGN))
