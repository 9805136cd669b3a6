"""`plan` and `--help` start fast: they import no run machinery (issue 11, item 6)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

# What only a release, a resume or `status` needs: the engine and its steps, the state
# models (pydantic schemas built at import), the stores, PyGithub, Slack, HTTP clients.
RUN_ONLY = (
    "release_train.engine",
    "release_train.steps",
    "release_train.context",
    "release_train.core.state",
    "release_train.core.summary",
    "release_train.adapters.store",
    "release_train.adapters.github",
    "github",
    "slack_sdk",
    "requests",
    "urllib.request",
)


def _imported_after(argv: list[str]) -> list[str]:
    probe = (
        "import sys\n"
        "from release_train.cli import main\n"
        f"code = main({argv!r})\n"
        f"print('LOADED', sorted(m for m in {RUN_ONLY!r} if m in sys.modules))\n"
        "raise SystemExit(code)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    last = done.stdout.splitlines()[-1]
    assert last.startswith("LOADED "), done.stdout
    return list(ast.literal_eval(last.removeprefix("LOADED ")))


def test_the_plan_imports_no_run_machinery(sample_family: Path) -> None:
    config = str(sample_family / "release-train.toml")
    argv = ["plan", "--config", config, "--workspace", str(sample_family), "--format", "json"]
    argv.append("--offline")  # the index query needs urllib; the bench measures it apart
    assert _imported_after(argv) == []


def test_help_imports_no_run_machinery() -> None:
    probe = "import sys\nfrom release_train.cli import build_parser\nbuild_parser()\n"
    probe += f"print(sorted(m for m in {RUN_ONLY!r} if m in sys.modules))\n"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
