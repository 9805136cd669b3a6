"""Tools are found in release-train's own environment first, then on PATH; git on PATH only."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from release_train.adapters import toolchain
from release_train.adapters.toolchain import Tool
from release_train.errors import ErrorCode, ReleaseError


def test_pre_commit_and_pypiserver_run_as_modules_of_this_interpreter() -> None:
    assert toolchain.find(toolchain.PRE_COMMIT) == [sys.executable, "-m", "pre_commit"]
    assert toolchain.find(toolchain.PYPISERVER) == [sys.executable, "-m", "pypiserver"]


def test_uv_is_the_binary_of_the_uv_package_even_without_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from uv import find_uv_bin

    monkeypatch.setenv("PATH", "/nonexistent")
    assert toolchain.find(toolchain.UV) == [find_uv_bin()]


def test_git_is_found_on_path_only(monkeypatch: pytest.MonkeyPatch) -> None:
    assert toolchain.find(toolchain.GIT) == ["git"]
    monkeypatch.setenv("PATH", "/nonexistent")
    assert toolchain.find(toolchain.GIT) is None


def test_a_script_beside_the_interpreter_is_found_without_path(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "python").touch()
    script = tmp_path / "some-tool"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", "/nonexistent")
    assert toolchain.find(Tool("some-tool", "some-tool", module="no_such_module_here")) == [
        str(script)
    ]


def test_every_missing_tool_is_named_in_one_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    absent = Tool("frobnicate", "release-train-no-such-tool", module="no_such_module_here")
    with pytest.raises(ReleaseError) as caught:
        toolchain.require([toolchain.PRE_COMMIT, absent, toolchain.GIT])
    error = caught.value
    assert error.code is ErrorCode.TOOL_MISSING
    assert error.message == (
        f"frobnicate, git not found in release-train's environment ({sys.prefix}) nor on PATH"
    )
    assert error.hint == f"{toolchain.INSTALL_HINT}; {toolchain.GIT_HINT}"
    assert error.code.exit_status == 2


def test_argv_puts_the_arguments_after_the_tool() -> None:
    expected = [sys.executable, "-m", "pre_commit", "run"]
    assert toolchain.argv(toolchain.PRE_COMMIT, "run") == expected


def test_a_release_needs_pre_commit_only_where_a_repo_has_hooks(tmp_path: Path) -> None:
    plain, hooked = tmp_path / "plain", tmp_path / "hooked"
    plain.mkdir()
    hooked.mkdir()
    (hooked / ".pre-commit-config.yaml").write_text("repos: []\n")
    assert toolchain.release_tools([plain]) == [toolchain.GIT, toolchain.UV]
    assert toolchain.release_tools([plain, hooked]) == [
        toolchain.GIT,
        toolchain.UV,
        toolchain.PRE_COMMIT,
    ]
