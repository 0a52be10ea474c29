from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator

import pytest

from claudeserver.api.app import create_app
from claudeserver.client import add_commands, dispatch
from claudeserver.settings import Settings
from tests.web.live import live_server

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def server(settings: Settings) -> Iterator[str]:
    with live_server(create_app(settings)) as url:
        yield url


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Run:
    """Parse and run one command in-process as `claudeserver ...` would."""

    def run(*argv: str) -> tuple[int, str, str]:
        parser = argparse.ArgumentParser(prog="claudeserver")
        add_commands(parser.add_subparsers(dest="command", required=True))
        code = dispatch(parser.parse_args(argv))
        assert code is not None
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run
