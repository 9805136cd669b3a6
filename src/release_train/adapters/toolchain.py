"""Where release-train finds the programs it runs: its own environment first, then PATH.

pipx, `uv tool install` and a venv's entry point run by absolute path put release-train's
own script on PATH and nothing else, while uv, pre-commit and pypiserver sit in that same
environment (issue 13, item 1). So each tool is looked for beside the running interpreter
before PATH; git is a system tool and comes from PATH alone.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from release_train.errors import ErrorCode, ReleaseError

# The extra that brings every Python tool the sandbox and the release steps run.
_EXTRA = "release-train[sandbox]"
INSTALL_HINT = (
    f"install them into release-train's environment: `pipx install '{_EXTRA}'` (or "
    "`pipx inject release-train uv pre-commit pypiserver`), "
    f"`uv tool install '{_EXTRA}'`, or `pip install '{_EXTRA}'` in its venv"
)
GIT_HINT = "install git with the system's package manager (e.g. `apt-get install git`)"


@dataclass(frozen=True)
class Tool:
    """A program release-train runs: its console script, and its module if it has one."""

    name: str
    script: str
    module: str | None = None  # run as `python -m module` when importable here
    system: bool = False  # found on PATH only, and run by its bare name


def _uv_package() -> list[str] | None:
    """The binary of the `uv` PyPI package installed beside release-train, if it is."""
    try:
        from uv import find_uv_bin  # noqa: PLC0415 - optional: the sandbox extra
    except ImportError:
        return None
    try:
        return [find_uv_bin()]
    except FileNotFoundError:  # the package without its binary (a broken install)
        return None


GIT = Tool("git", "git", system=True)
UV = Tool("uv", "uv")
PRE_COMMIT = Tool("pre-commit", "pre-commit", module="pre_commit")
PYPISERVER = Tool("pypiserver", "pypi-server", module="pypiserver")
# What the demo starts and runs: the sandbox's index, the steps' LOCK and LINT, and git.
DEMO_TOOLS = (UV, PRE_COMMIT, PYPISERVER, GIT)
_FINDERS: dict[str, Callable[[], list[str] | None]] = {"uv": _uv_package}
PRE_COMMIT_CONFIG = ".pre-commit-config.yaml"


def release_tools(clones: Iterable[Path]) -> list[Tool]:
    """What a release runs: git, uv (LOCK and the index waits), and pre-commit where a
    repo has hooks (LINT)."""
    hooks = any((clone / PRE_COMMIT_CONFIG).is_file() for clone in clones)
    return [GIT, UV, *([PRE_COMMIT] if hooks else [])]


def find(tool: Tool) -> list[str] | None:
    """The argv prefix that runs `tool`, or None when it is nowhere to be found."""
    if tool.system:
        return [tool.script] if shutil.which(tool.script) else None
    special = _FINDERS.get(tool.name)
    if special is not None and (found := special()) is not None:
        return found
    if tool.module is not None and importlib.util.find_spec(tool.module) is not None:
        return [sys.executable, "-m", tool.module]
    # A venv's scripts sit beside its interpreter, also when its bin/ is not on PATH.
    beside = Path(sys.executable).parent / tool.script
    if beside.is_file() and os.access(beside, os.X_OK):
        return [str(beside)]
    on_path = shutil.which(tool.script)
    return [on_path] if on_path else None


def argv(tool: Tool, *args: str) -> list[str]:
    """`tool`'s argv prefix followed by `args`; TOOL_MISSING when it cannot be found."""
    found = find(tool)
    if found is None:
        raise missing_error([tool])
    return [*found, *args]


def require(tools: Iterable[Tool]) -> None:
    """Before anything starts: one TOOL_MISSING naming every tool that cannot be found."""
    absent = [tool for tool in tools if find(tool) is None]
    if absent:
        raise missing_error(absent)


def missing_error(tools: list[Tool]) -> ReleaseError:
    names = ", ".join(tool.name for tool in tools)
    hints = []
    if any(not tool.system for tool in tools):
        hints.append(INSTALL_HINT)
    if any(tool.system for tool in tools):
        hints.append(GIT_HINT)
    return ReleaseError(
        ErrorCode.TOOL_MISSING,
        f"{names} not found in release-train's environment ({sys.prefix}) nor on PATH",
        hint="; ".join(hints),
    )
