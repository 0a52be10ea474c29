"""The project's Python environment, and making a worktree's code win over editable installs.

A task in a worktree runs with the user's checkout's virtualenv. If the project is installed
there in editable mode (`pip install -e .`), `import pkg` loads the checkout's code, not the
worktree's. So the directories the editable installs import from in the checkout are found
here, and their counterparts in the worktree go first on sys.path (PYTHONPATH), which comes
before site-packages and before setuptools' editable finders. Other packages stay as they are.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlparse


def find_venv(*roots: Path | None) -> Path | None:
    """The first `.venv` or `venv` virtualenv directly in one of `roots`."""
    for root in roots:
        for name in (".venv", "venv"):
            if root is not None and (root / name / "bin" / "python").is_file():
                return root / name
    return None


def workspace_python_path(*, venv: Path, checkout: Path, workspace: Path) -> list[str]:
    """PYTHONPATH entries that make `venv`'s editable installs of code in `checkout` import
    `workspace`'s copy instead: e.g. ["<workspace>/src"] for a src layout. Empty when
    nothing in `venv` points into `checkout`."""
    checkout = checkout.resolve()
    venv = venv.resolve()
    entries: list[str] = []
    for site in _site_packages(venv):
        for root in _import_roots(site, checkout):
            root = root.resolve()
            if root.is_relative_to(checkout) and not root.is_relative_to(venv):
                entry = str(workspace / root.relative_to(checkout))
                if entry not in entries:
                    entries.append(entry)
    return entries


def _site_packages(venv: Path) -> list[Path]:
    found = {p.resolve() for p in venv.glob("lib*/python*/site-packages") if p.is_dir()}
    return sorted(found)


def _import_roots(site: Path, checkout: Path) -> Iterator[Path]:
    """Directories the editable installs in `site` import top-level packages from."""
    editable_projects = []
    for info in site.glob("*.dist-info/direct_url.json"):
        project = _editable_project(info)
        if project is not None and project.resolve().is_relative_to(checkout):
            editable_projects.append(project.resolve())
    roots = [*_from_pth_files(site), *_from_symlinks(site)]
    yield from roots
    # An editable install by a backend none of the above covers: guess its layout.
    for project in editable_projects:
        if not any(r.resolve().is_relative_to(project) for r in roots):
            yield project / "src" if (project / "src").is_dir() else project


def _from_pth_files(site: Path) -> Iterator[Path]:
    """Path lines of .pth files (setuptools' src layouts, hatchling, pdm, flit, `setup.py
    develop`), and the paths in modules their `import` lines load (setuptools' finders'
    MAPPING, the `editables` redirector)."""
    for pth in sorted(site.glob("*.pth")):
        for line in _lines(pth):
            if line.startswith(("import ", "import\t")):
                module = line.split(None, 1)[1].split(";")[0].split(",")[0].strip()
                yield from _paths_in_module(site / f"{module}.py")
            elif line and not line.startswith("#"):
                yield site / line


def _paths_in_module(module: Path) -> Iterator[Path]:
    """The directory holding each package or module an editable finder maps to a path."""
    try:
        tree = ast.parse(module.read_text(errors="replace"))
    except (OSError, SyntaxError, ValueError):
        return
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            path = Path(node.value)
            if path.is_absolute() and "\n" not in node.value:
                package = path.parent if path.name == "__init__.py" else path
                yield package.parent


def _from_symlinks(site: Path) -> Iterator[Path]:
    """`flit install --symlink`: site-packages/pkg is a link to the project's package."""
    for entry in site.iterdir():
        if entry.is_symlink():
            yield entry.resolve().parent


def _editable_project(direct_url: Path) -> Path | None:
    try:
        data = json.loads(direct_url.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not (data.get("dir_info") or {}).get("editable"):
        return None
    url = urlparse(str(data.get("url", "")))
    return Path(unquote(url.path)) if url.scheme == "file" else None


def _lines(path: Path) -> list[str]:
    try:
        return [line.strip() for line in path.read_text(errors="replace").splitlines()]
    except OSError:
        return []
