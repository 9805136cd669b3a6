"""The real family needs Python 3.12+: where uv finds none, the plan says so at every repo."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import pytest

from release_train.config import load_config
from release_train.core.problems import Severity
from release_train.errors import ErrorCode
from release_train.planning import PlanRequest, plan_workspace
from tests.integration.test_interpreters import only_this_python

# The five repos with a uv.lock (omnimemory is a Poetry project: LOCK leaves it alone).
LOCKED = ("omniclaude", "omnibase_core", "omnibase_infra", "omnibase_spi", "omniintelligence")


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="this Python satisfies the family")
def test_no_interpreter_for_the_real_family_without_downloads(
    realfam: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config_file = realfam / "release-train.toml"
    config_file.write_text('python_downloads = "never"\n' + config_file.read_text())
    config, _ = load_config(config_file)
    only_this_python(tmp_path, monkeypatch)

    plan = plan_workspace(config, realfam, PlanRequest(), date(2026, 12, 2))
    problems = [p for p in plan.problems if p.code is ErrorCode.NO_INTERPRETER]

    assert sorted((p.repo, p.code, p.severity) for p in problems) == sorted(
        (repo, ErrorCode.NO_INTERPRETER, Severity.ERROR) for repo in LOCKED
    )
    assert all("'>=3.12" in p.message for p in problems)
