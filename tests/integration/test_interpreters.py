"""LOCK's interpreter is uv's choice for requires-python; the plan warns when uv finds none."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from release_train.adapters import command
from release_train.adapters.git import git
from release_train.adapters.interpreters import requires_python
from release_train.adapters.tools import repo_code_environment, uv_lock
from release_train.config import load_config
from release_train.core.problems import Severity
from release_train.errors import ErrorCode
from release_train.planning import PlanRequest, plan_workspace
from release_train.sandbox.builder import Change, RepoBuilder

TODAY = date(2026, 12, 2)
NO_INDEX = "http://127.0.0.1:9/simple/"  # the projects here have no dependencies to fetch
SAMPLE_REPOS = ("omnibase_spi", "omnibase_core", "omnibase_infra")


def only_this_python(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *extra: Path) -> None:
    """PATH holds git, uv and release-train's own Python (plus `extra` dirs), nothing else.

    uv discovers interpreters on PATH and among its managed ones: both are fixed here, so
    what uv finds does not depend on the machine.
    """
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("git", "uv"):
        found = shutil.which(tool)
        assert found, f"{tool} is not installed"
        (bin_dir / tool).symlink_to(found)
    (bin_dir / "python3").symlink_to(sys.executable)
    monkeypatch.setenv("PATH", os.pathsep.join(str(p) for p in (bin_dir, *extra)))
    monkeypatch.setenv("UV_PYTHON_INSTALL_DIR", str(tmp_path / "uv-pythons"))


def _minor(python: Path) -> tuple[int, int] | None:
    try:
        done = subprocess.run(
            [str(python), "-c", "import sys; print(*sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except OSError:
        return None
    parts = done.stdout.split()
    return (int(parts[0]), int(parts[1])) if done.returncode == 0 and len(parts) == 2 else None


@pytest.fixture(scope="module")
def other_python() -> tuple[Path, tuple[int, int]]:
    """A CPython 3.8+ of another minor version than this one, or skip: the machine has one."""
    home = Path.home()
    candidates = [
        *(Path(p) for m in range(8, 16) if (p := shutil.which(f"python3.{m}"))),
        *sorted(home.glob(".pyenv/versions/3.*/bin/python3")),
        *sorted(home.glob(".local/share/uv/python/cpython-3.*/bin/python3")),
    ]
    for python in candidates:
        minor = _minor(python)
        if minor and minor >= (3, 8) and minor != sys.version_info[:2]:
            return python, minor
    pytest.skip("no second Python on this machine (uv cannot download one offline)")


def test_requires_python_is_read_from_the_project_table() -> None:
    assert requires_python('[project]\nname = "a"\nrequires-python = " >=3.12 "\n') == ">=3.12"
    assert requires_python('[project]\nname = "a"\n') is None
    assert requires_python('[tool.poetry]\nname = "a"\n') is None
    assert requires_python("[project\n") is None  # the plan reports a broken pyproject itself


def test_the_repo_code_environment_can_leave_the_interpreter_to_uv(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("UV_PYTHON", "/somewhere/python3.9")
    forced = repo_code_environment(NO_INDEX, None)
    assert (forced["UV_PYTHON"], forced["UV_PYTHON_DOWNLOADS"]) == (sys.executable, "never")
    free = repo_code_environment(NO_INDEX, None, python=None, python_downloads="automatic")
    # Empty is unset for uv: neither ours nor the caller's interpreter is imposed.
    assert (free["UV_PYTHON"], free["UV_PYTHON_DOWNLOADS"]) == ("", "automatic")


def test_uv_lock_takes_the_python_that_requires_python_asks_for(
    other_python: tuple[Path, tuple[int, int]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    python, (major, minor) = other_python
    only_this_python(tmp_path, monkeypatch, python.parent)
    builder = RepoBuilder(tmp_path / "app").init()
    builder.commit([Change("feat: first", {"pyproject.toml": _project(">=3.8")})])
    repo = builder.path
    command.run(["uv", "lock"], cwd=repo, env=repo_code_environment(NO_INDEX, tmp_path / "c"))
    # The repo moves to a Python that release-train itself does not run on.
    (repo / "pyproject.toml").write_text(_project(f"=={major}.{minor}.*"))

    assert uv_lock(repo, index_url=NO_INDEX, cache_dir=tmp_path / "c", repo="app")
    assert f'requires-python = "=={major}.{minor}.*"' in (repo / "uv.lock").read_text()


def _project(spec: str) -> str:
    return f'[project]\nname = "app"\nversion = "0.1.0"\nrequires-python = "{spec}"\n'


def _with_lock_files(workspace: Path, spec: str | None = None) -> None:
    """Give some sample repos a uv.lock (what LOCK needs to run), and a requires-python."""
    for repo in SAMPLE_REPOS:
        path = workspace / repo
        (path / "uv.lock").write_text("version = 1\n")
        if spec is not None:
            pyproject = path / "pyproject.toml"
            text = pyproject.read_text()
            pyproject.write_text(
                text.replace('requires-python = ">=3.11"', f'requires-python = "{spec}"')
            )
        git(path, "add", "-A")
        git(path, "commit", "-q", "-m", "chore: lock")


def _interpreter_problems(workspace: Path, extra: str = "") -> list[tuple[str | None, Severity]]:
    config_file = workspace / "release-train.toml"
    config_file.write_text(extra + config_file.read_text())
    config, _ = load_config(config_file)
    plan = plan_workspace(config, workspace, PlanRequest(), TODAY)
    return [(p.repo, p.severity) for p in plan.problems if p.code is ErrorCode.NO_INTERPRETER]


def test_the_sample_family_has_its_interpreter(
    sample_family: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _with_lock_files(sample_family)  # requires-python ">=3.11": this very Python
    only_this_python(tmp_path, monkeypatch)
    assert _interpreter_problems(sample_family, 'python_downloads = "never"\n') == []


def test_a_python_no_one_has_is_an_error_without_downloads(
    sample_family: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _with_lock_files(sample_family, ">=3.99")
    only_this_python(tmp_path, monkeypatch)
    found = _interpreter_problems(sample_family, 'python_downloads = "never"\n')
    assert found == [(repo, Severity.ERROR) for repo in sorted(SAMPLE_REPOS)]


def test_a_python_uv_may_download_is_a_warning(
    sample_family: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _with_lock_files(sample_family, ">=3.99")
    only_this_python(tmp_path, monkeypatch)
    found = _interpreter_problems(sample_family)  # python_downloads defaults to automatic
    assert found == [(repo, Severity.WARNING) for repo in sorted(SAMPLE_REPOS)]
