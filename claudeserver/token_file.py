"""The API token a server generates when API_TOKENS is unset, kept in a file only its user reads.

Both sides use it: the server makes (or reuses) the token at start, and the `claudeserver`
client on the same machine reads it, so nobody has to copy it around.
"""

from __future__ import annotations

import os
import secrets
import stat
import tempfile
from pathlib import Path


class TokenFileError(RuntimeError):
    pass


def default_path() -> Path:
    return Path.home() / ".claudeserver" / "token"


def read(path: Path) -> str | None:
    """The token in `path`, or None if there is none (no file, or an empty one)."""
    try:
        return path.read_text().strip() or None
    except (FileNotFoundError, NotADirectoryError):
        return None


def load_or_create(path: Path) -> str:
    """The token in `path`, written there first (mode 0600) if the file does not exist."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not path.exists():
        # Written aside, then linked into place: a server starting beside us never reads
        # a half-written file, and the first link wins.
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".token-")  # mode 0600
        try:
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_urlsafe(32) + "\n")
            os.link(temp, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(temp)
    return _existing(path)


def _existing(path: Path) -> str:
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        # Like ssh with a private key: a token others could read may already be theirs.
        raise TokenFileError(
            f"TOKEN_FILE {path} is readable by other users (mode {stat.filemode(mode)}): "
            "delete it to get a new token at the next start, or `chmod 600` it"
        )
    token = read(path)
    if token is None:
        raise TokenFileError(f"TOKEN_FILE {path} is empty: delete it to get a new token")
    return token
