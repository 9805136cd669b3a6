"""The project's own static checks, run by the test suite so CI cannot skip them."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    "argv",
    [
        ["ruff", "check", "."],
        ["ruff", "format", "--check", "."],
        [sys.executable, "-m", "mypy"],
    ],
    ids=["ruff-check", "ruff-format", "mypy-strict"],
)
def test_static_check_passes(argv: list[str]) -> None:
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]


# Raised without a hint, for now: the GitHub Release code is being reworked (issue 13,
# item 5), so these two keep their text until that lands. (file, code, message's start)
HINTLESS_ALLOWED = {
    ("steps/remote.py", "ErrorCode.INTERNAL", "'TAG without a merge SHA'"),
    ("adapters/github.py", "ErrorCode.GITHUB_ERROR", "f'cannot create the release"),
}


def test_every_error_is_raised_with_a_hint() -> None:
    """The README promises a hint with every error: each `ReleaseError(...)` passes one."""
    src = ROOT / "src" / "release_train"
    missing = []
    for path in sorted(src.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and ast.unparse(node.func) == "ReleaseError"):
                continue
            keywords = {k.arg for k in node.keywords}
            if "hint" in keywords or None in keywords or len(node.args) >= 4:
                continue
            file, code = str(path.relative_to(src)), ast.unparse(node.args[0])
            message = ast.unparse(node.args[1]) if len(node.args) > 1 else ""
            if not any(
                (file, code) == allowed[:2] and message.startswith(allowed[2])
                for allowed in HINTLESS_ALLOWED
            ):
                missing.append(f"{file}:{node.lineno}: {code} {message}")
    assert missing == []
