from __future__ import annotations

import pytest

from claudeserver.redact import MASK, redact, redact_data


def test_keys_and_tokens_are_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_SERVICE_TOKEN", "plain-value-123456")
    text = (
        "key sk-ant-api03-abcdefghijklmnopqrstuvwxyz and Authorization: Bearer abcdef123456 "
        "and password=hunter2hunter2 and plain-value-123456"
    )
    cleaned = redact(text)
    for secret in ("sk-ant-api03", "abcdef123456", "hunter2hunter2", "plain-value-123456"):
        assert secret not in cleaned
    assert cleaned.count(MASK) == 4


def test_nested_data_is_masked() -> None:
    data = {"input": {"command": "curl -H 'x-api-key: sk-abcdefghijklmnopqrstuv'"}, "n": 3}
    cleaned = redact_data(data)
    assert "sk-abcdefghijklmnopqrstuv" not in str(cleaned) and cleaned["n"] == 3
