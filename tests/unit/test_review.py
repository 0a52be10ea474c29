from __future__ import annotations

from claudeserver.domain.taskrun.review import Finding, parse_findings, review_prompt


def test_findings_are_read_from_prose_wrapped_json() -> None:
    text = (
        "Here is my review:\n"
        '[{"severity": "warning", "file": "a.py", "line": 3, "comment": "No input check."},'
        ' {"severity": "bogus", "comment": "Naming."}, {"severity": "error"}]\nThanks.'
    )
    assert parse_findings(text) == [
        Finding("warning", "a.py", 3, "No input check."),
        Finding("info", None, None, "Naming."),
    ]


def test_an_unusable_answer_is_kept_as_one_finding() -> None:
    assert parse_findings("Looks fine to me.") == [Finding("info", None, None, "Looks fine to me.")]
    assert parse_findings("[]") == []


def test_prompt_carries_task_and_truncated_diff() -> None:
    prompt = review_prompt("Add add()", "+x\n" * 40_000)
    assert "Add add()" in prompt and "[diff truncated]" in prompt
