"""The environment of a task's Claude Code CLI, and of the commands the agent runs.

claude-agent-sdk starts the CLI with the server's whole environment plus what we add. The
CLI needs its own credentials (ANTHROPIC_*, CLAUDE_CODE_*, a cloud provider's for Bedrock
or Vertex, proxies) and none of the server's: those are blanked. The commands the agent
runs need no credentials at all: the shell file Claude Code sources before every Bash
command (CLAUDE_ENV_FILE) unsets every variable of ours that is not on the harmless list,
the model's credentials included, and limits the size of a file a command may write.
(Claude Code's own CLAUDE_CODE_SUBPROCESS_ENV_SCRUB is not used: with it set, the CLI
2.1.332 ran Bash outside its bubblewrap sandbox.)
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Mapping
from pathlib import Path

from claudeserver.domain.confinement import MAX_FILE_BYTES, PASSED_VARIABLES
from claudeserver.domain.processes import task_env

# The server's own configuration that is secret whatever its name looks like.
SERVER_SECRETS = frozenset({"API_TOKENS", "WEBHOOK_SECRET", "DATABASE_URL", "CLAUDESERVER_TOKEN"})
_CLI_NEEDS = re.compile(
    r"^(ANTHROPIC_|CLAUDE_|AWS_|GOOGLE_|CLOUD_ML_|VERTEX_|AZURE_|(HTTPS?|NO|ALL)_PROXY$)",
    re.IGNORECASE,
)
_SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSW|CREDENTIAL|DSN|DATABASE_URL", re.IGNORECASE)
# Set by Claude Code's sandbox for each command (its filtering proxy, its temp dir): the
# command needs its values, not ours, so they are never unset.
_SANDBOX_SETS = re.compile(
    r"^((HTTPS?|NO|ALL|FTP)_PROXY|TMPDIR|SSL_CERT_(FILE|DIR)|NODE_EXTRA_CA_CERTS|"
    r"REQUESTS_CA_BUNDLE|GIT_SSH_COMMAND)$",
    re.IGNORECASE,
)
ENV_FILE = "agent-env.sh"


def agent_environment(
    task_id: str, home: Path, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Variables to give the CLI (on top of ours), writing its command env file in `home`.

    `extra` reaches the agent's commands too (e.g. the PYTHONPATH of a worktree).
    """
    env = {**task_env(task_id), **(extra or {})}
    for name in os.environ:
        secret = name in SERVER_SECRETS or bool(_SECRET_NAME.search(name))
        if secret and not _CLI_NEEDS.match(name):
            env[name] = ""
    home.mkdir(parents=True, exist_ok=True)
    env_file = home / ENV_FILE
    env_file.write_text(command_env_script(keep=frozenset(env)))
    env["CLAUDE_ENV_FILE"] = str(env_file)
    return env


def command_env_script(keep: frozenset[str] = frozenset()) -> str:
    """Shell lines that strip an agent command's environment to the harmless variables
    and those we set for it (`keep`)."""
    dropped = sorted(
        name
        for name in os.environ
        if name not in PASSED_VARIABLES
        and name not in keep
        and not name.startswith("LC_")
        and not _SANDBOX_SETS.match(name)
        # Names a shell cannot unset (e.g. with dots) cannot reach it as variables either.
        and name.isidentifier()
    )
    lines = ["# Written by claudeserver: the agent's commands get none of the server's secrets."]
    if dropped:
        lines.append("unset " + " ".join(shlex.quote(name) for name in dropped))
    # `ulimit -f` counts 1024-byte blocks.
    lines.append(f"ulimit -f {MAX_FILE_BYTES // 1024} 2>/dev/null")
    return "\n".join(lines) + "\n"
