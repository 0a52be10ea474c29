"""A throw-away project, a fake home and symlinks between them for policy tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from claudeserver.policy import PolicyConfig


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("policy")
    project = root / "project"
    home = root / "home"
    other = root / "other-project"
    for directory in (
        project / ".git" / "hooks",
        project / "src",
        project / "tests",
        project / "build",
        project / "node_modules" / "left-pad",
        project / "scripts",
        home / ".ssh",
        home / ".aws",
        home / ".config" / "autostart",
        home / ".config" / "gh",
        home / ".cargo" / "registry" / "src",
        home / "Documents",
        project / ".venv" / "lib",
        other,
        root / "extra",
        root / "someone",
    ):
        directory.mkdir(parents=True)
    files = {
        project / "src" / "app.py": "print('hi')\n",
        project / "tests" / "test_regression.py": "def test_x():\n    assert True\n",
        project / "tests" / "test_new.py": "",
        project / ".env": "TOKEN=project\n",
        project / "scripts" / "run.sh": "echo run\n",
        project / "README.md": "# demo\n",
        project / ".git" / "HEAD": "ref: refs/heads/main\n",
        home / ".ssh" / "id_rsa": "PRIVATE KEY\n",
        home / ".aws" / "credentials": "[default]\n",
        home / ".bashrc": "# rc\n",
        other / ".env": "TOKEN=other\n",
        other / ".envrc": "export TOKEN=other\n",
        other / "main.py": "",
        home / ".npmrc": "//registry.npmjs.org/:_authToken=secret\n",
        home / ".config" / "gh" / "hosts.yml": "oauth_token: secret\n",
        home / ".claude.json": "{}\n",
        home / ".cargo" / "credentials.toml": "token = 'secret'\n",
        home / ".cargo" / "registry" / "src" / "lib.rs": "",
        home / ".bash_history": "export TOKEN=secret\n",
        home / "Documents" / "taxes.txt": "private\n",
        project / ".venv" / "pyvenv.cfg": "home = /usr/bin\n",
        root / "someone" / ".bashrc": "# another user's\n",
    }
    for path, content in files.items():
        path.write_text(content)
    # Links planted inside the project that lead out of it.
    os.symlink(home, project / "homelink")
    os.symlink(home / ".ssh" / "id_rsa", project / "deploy_key")
    os.symlink(other, project / "sibling")
    return root


@pytest.fixture(scope="session")
def config(sandbox: Path) -> PolicyConfig:
    project = sandbox / "project"
    return PolicyConfig(
        project_dir=project,
        extra_dirs=(sandbox / "extra",),
        protected_paths=frozenset({project / "tests" / "test_regression.py"}),
        home=sandbox / "home",
    )
