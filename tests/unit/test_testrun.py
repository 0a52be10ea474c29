from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest

from claudeserver.domain.testrun import (
    PytestRunner,
    RunContext,
    TestFileSnapshot,
    find_venv,
    parse_junit,
    pytest_report,
    workspace_python_path,
)
from claudeserver.domain.testrun.discovery import without_overlaps
from claudeserver.domain.testrun.pytest_config import PytestConfig, read_pytest_config


def test_junit_results_become_node_ids() -> None:
    xml = """<testsuites><testsuite>
      <testcase classname="tests.test_a" name="test_ok" file="tests/test_a.py" time="0.01"/>
      <testcase classname="tests.test_a.TestGroup" name="test_p[1]" file="tests/test_a.py">
        <failure message="assert 1 == 2">long traceback</failure></testcase>
      <testcase classname="tests.test_a" name="test_s" file="tests/test_a.py"><skipped/></testcase>
      <testcase classname="" name="tests.test_broken">
        <error message="collection failure"/></testcase>
    </testsuite></testsuites>"""
    results = parse_junit(xml)
    assert [(r.name, r.status) for r in results] == [
        ("tests/test_a.py::test_ok", "passed"),
        ("tests/test_a.py::TestGroup::test_p[1]", "failed"),
        ("tests/test_a.py::test_s", "skipped"),
        ("tests.test_broken", "error"),
    ]
    assert "long traceback" in (results[1].output or "")
    assert parse_junit("<not xml") == []


def test_snapshot_finds_new_and_changed_test_files(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_old.py").write_text("x = 1\n")
    (tmp_path / "tests" / "test_same.py").write_text("y = 1\n")
    (tmp_path / ".venv").mkdir()
    patterns = PytestRunner.test_file_patterns
    before = TestFileSnapshot.take(tmp_path, patterns)
    (tmp_path / "tests" / "test_old.py").write_text("x = 2\n")
    (tmp_path / "test_new.py").write_text("z = 1\n")
    (tmp_path / ".venv" / "test_ignored.py").write_text("")
    assert TestFileSnapshot.take(tmp_path, patterns).changed_since(before) == [
        "test_new.py",
        "tests/test_old.py",
    ]


def test_a_generated_file_next_to_the_suite_runs_with_it(tmp_path: Path) -> None:
    """The suite's directory and a new file in it: pytest is given the directory once, so
    both the suite and the new file are collected."""
    (tmp_path / "pytest.ini").write_text("[pytest]\ntestpaths = tests\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_x.py").write_text(
        "def test_pass():\n    pass\n\ndef test_fail():\n    assert 1 == 2\n"
    )
    (tmp_path / "tests" / "test_new.py").write_text("def test_new():\n    pass\n")
    runner = PytestRunner(RunContext(tmp_path, 60, {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}))
    results = asyncio.run(runner.run([*runner.regression_targets(), "tests/test_new.py"]))
    assert {r.name: r.status for r in results} == {
        "tests/test_new.py::test_new": "passed",
        "tests/test_x.py::test_pass": "passed",
        "tests/test_x.py::test_fail": "failed",
    }
    assert "assert 1 == 2" in (next(r for r in results if r.status == "failed").output or "")
    assert asyncio.run(runner.run([])) == []


def test_targets_inside_other_targets_are_dropped() -> None:
    assert without_overlaps(
        ["tests", "tests/test_new.py", "test/test_other.py", "./tests/sub/test_y.py::test_a"]
    ) == ["test/test_other.py", "tests"]
    assert without_overlaps([".", "tests/test_new.py", "setup_test.py"]) == ["."]
    assert without_overlaps(["tests2/test_a.py", "tests/", "tests/test_a.py::t[1]"]) == [
        "tests/",
        "tests2/test_a.py",
    ]
    # Reruns: node ids of one file are distinct targets.
    assert without_overlaps(["t.py::a", "t.py::b", "t.py::a"]) == ["t.py::a", "t.py::b"]


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("pytest.ini", "[pytest]\ntestpaths = test integration\npython_files = check_*.py\n"),
        ("pyproject.toml", '[tool.pytest.ini_options]\ntestpaths = ["test", "integration"]\n'
         'python_files = "check_*.py"\n'),
        ("pyproject.toml", '[tool.pytest]\ntestpaths = ["test", "integration"]\n'
         'python_files = ["check_*.py"]\n'),
        ("pytest.toml", '[pytest]\ntestpaths = ["test", "integration"]\n'
         'python_files = ["check_*.py"]\n'),
        ("tox.ini", "[tox]\nenvlist = py\n[pytest]\ntestpaths =\n    test\n    integration\n"
         "python_files = check_*.py\n"),
        ("setup.cfg", "[metadata]\nname = x\n[tool:pytest]\ntestpaths = test integration\n"
         "python_files = check_*.py\n"),
    ],
)  # fmt: skip
def test_the_projects_pytest_configuration_decides_the_suite(
    tmp_path: Path, name: str, text: str
) -> None:
    (tmp_path / name).write_text(text)
    (tmp_path / "test").mkdir()  # "integration" does not exist: pytest skips it too
    assert read_pytest_config(tmp_path) == PytestConfig(("test", "integration"), ("check_*.py",))
    runner = PytestRunner(RunContext(tmp_path, 60, {}))
    assert runner.regression_targets() == ["test"]
    assert runner.test_file_patterns == ("check_*.py",)
    assert runner.framework_hint == (
        "pytest test functions, in one or more new files named check_*.py under test/"
    )


def test_without_pytest_settings_the_suite_is_the_whole_project(tmp_path: Path) -> None:
    # A pyproject.toml without a pytest table does not hide a tox.ini that has one.
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    assert PytestRunner(RunContext(tmp_path, 60, {})).regression_targets() == ["."]
    (tmp_path / "tox.ini").write_text("[pytest]\ntestpaths = src/*/tests\n")
    (tmp_path / "src" / "a" / "tests").mkdir(parents=True)
    (tmp_path / "src" / "b" / "tests").mkdir(parents=True)
    runner = PytestRunner(RunContext(tmp_path, 60, {}))
    assert runner.regression_targets() == ["src/a/tests", "src/b/tests"]
    assert runner.test_file_patterns == ("test_*.py", "*_test.py")
    # An empty pytest.ini is pytest's configuration file, with nothing in it.
    (tmp_path / "pytest.ini").write_text("")
    assert PytestRunner(RunContext(tmp_path, 60, {})).regression_targets() == ["."]


def _site(venv: Path) -> Path:
    site = venv / "lib" / "python3.12" / "site-packages"
    site.mkdir(parents=True)
    (venv / "bin").mkdir()
    (venv / "bin" / "python").write_text("")
    return site


def test_editable_installs_of_every_kind_point_to_the_workspace(tmp_path: Path) -> None:
    """The files build backends leave in site-packages for an editable install."""
    checkout, work = tmp_path / "checkout", tmp_path / "work"
    site = _site(checkout / ".venv")
    assert find_venv(work, checkout) == checkout / ".venv"
    # setuptools, flat layout: a finder whose MAPPING names each top-level package.
    (site / "__editable__.flat-1.0.pth").write_text(
        "import __editable___flat_1_0_finder; __editable___flat_1_0_finder.install()\n"
    )
    (site / "__editable___flat_1_0_finder.py").write_text(
        f"MAPPING = {{'flat': '{checkout}/flat'}}\nNAMESPACES = {{}}\n"
    )
    # hatchling's dev-mode-exact (the editables redirector), a module under lib/.
    (site / "_other.pth").write_text("import _editable_impl_other\n")
    (site / "_editable_impl_other.py").write_text(
        "from editables.redirector import RedirectingFinder as F\nF.install()\n"
        f"F.map_module('other', '{checkout}/lib/other.py')\n"
    )
    # pdm / hatchling / flit --pth-file: a plain path, here relative to site-packages.
    (site / "nested.pth").write_text(
        f"# comment\n{os.path.relpath(checkout / 'nested/src', site)}\n"
    )
    # flit --symlink.
    (checkout / "linked" / "pkg").mkdir(parents=True)
    (site / "pkg").symlink_to(checkout / "linked" / "pkg")
    # Not editable, or not the checkout's: left alone.
    (site / "distutils-precedence.pth").write_text("import os; os.environ.get('X')\n")
    (site / "elsewhere.pth").write_text(f"{tmp_path / 'other-project'}\n")
    (site / "inside-venv.pth").write_text(f"{site / 'win32'}\n")
    assert workspace_python_path(venv=checkout / ".venv", checkout=checkout, workspace=work) == [
        str(work),
        str(work / "lib"),
        str(work / "nested" / "src"),
        str(work / "linked"),
    ]


def test_an_editable_install_without_known_files_is_guessed_from_its_project(
    tmp_path: Path,
) -> None:
    checkout, work = tmp_path / "checkout", tmp_path / "work"
    site = _site(checkout / ".venv")
    (checkout / "src").mkdir()
    info = site / "unknown-1.0.dist-info"
    info.mkdir()
    (info / "direct_url.json").write_text(
        json.dumps({"url": checkout.as_uri(), "dir_info": {"editable": True}})
    )
    assert workspace_python_path(venv=checkout / ".venv", checkout=checkout, workspace=work) == [
        str(work / "src")
    ]


def test_failure_text_keeps_its_start_and_end_within_bounds() -> None:
    text = "def test_x():\n" + "noise\n" * 2000 + "E   assert 1 == 2"
    bounded = pytest_report._bounded(text)
    assert len(bounded) < pytest_report.MAX_OUTPUT + 100
    assert bounded.startswith("def test_x():")
    assert bounded.endswith("E   assert 1 == 2")
    assert "characters left out" in bounded
