from __future__ import annotations

from claudeserver.domain.human import CONTINUATIONS, SimulatedHuman


def _gaps(seed: int, count: int = 20) -> list[int]:
    human = SimulatedHuman(seed)
    gaps = []
    for _ in range(count):
        gaps.append(human.next_pause_at)
        human.continuation()
    return gaps


def test_rhythm_is_every_three_to_five_interactions_and_seedable() -> None:
    gaps = _gaps(1)
    assert set(gaps) <= {3, 4, 5} and len(set(gaps)) > 1
    assert gaps == _gaps(1)
    assert gaps != _gaps(2)


def test_pause_due_only_at_the_gap() -> None:
    human = SimulatedHuman(3)
    gap = human.next_pause_at
    assert not human.wants_pause(gap - 1)
    assert human.wants_pause(gap)
    assert human.continuation() in CONTINUATIONS


def test_hedging_is_recognised() -> None:
    assert SimulatedHuman.hedges("Should I also update the docs?")
    assert SimulatedHuman.hedges("I'm unable to find the module.")
    assert not SimulatedHuman.hedges("Implemented add() in mathutil.py.")


def test_questions_get_the_first_option() -> None:
    questions = [
        {"question": "Which library?", "options": [{"label": "httpx"}, {"label": "requests"}]},
        {"question": "Anything else?", "options": []},
    ]
    answers = SimulatedHuman.answer(questions)
    assert answers["Which library?"] == "httpx"
    assert answers["Anything else?"]


def test_failure_feedback_names_tests_and_output() -> None:
    from claudeserver.domain.testrun import TestResult

    text = SimulatedHuman.failure_feedback(
        [TestResult("tests/test_a.py::test_x", "tests/test_a.py", "failed", "assert 1 == 2", 0.1)]
    )
    assert "tests/test_a.py::test_x" in text and "assert 1 == 2" in text
    assert "Some tests failed" in text
