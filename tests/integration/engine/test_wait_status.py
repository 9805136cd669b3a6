"""A long wait says something (issue 13, item 7): MERGE's wait names the PR's checks, their
states and the PR, against the CI bound; PUBLISH's index wait names the publish run."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from release_train.console import ConsoleProgress
from release_train.context import WaitStatus
from release_train.sandbox.control import PROTECTED_CHECKS

from .conftest import FAST_WAITS, Rig
from .test_merge_guards import DEFAULT_CI


class Recording(ConsoleProgress):
    def __init__(self) -> None:
        super().__init__()
        self.statuses: list[tuple[str, WaitStatus]] = []

    def wait_status(self, repo: str, status: WaitStatus) -> None:
        super().wait_status(repo, status)
        self.statuses.append((repo, status))


def test_the_ci_wait_reports_each_check_its_state_and_the_pr(
    rig: Rig, capsys: pytest.CaptureFixture[str]
) -> None:
    config = rig.config("waits")
    rig.push("wts_core", "fix: worth a release")
    ci: dict[str, Any] = {**DEFAULT_CI, "duration": 1.5, "checks": ["test", "lint"]}
    rig.admin.set_ci("wts_core", **ci)
    progress = Recording()
    try:
        status, state = rig.release(config, "wts-1", progress=progress)
    finally:
        rig.admin.set_ci("wts_core", **DEFAULT_CI)

    assert status == 0, capsys.readouterr().out
    repo = state.repos["wts_core"]
    ci_waits = [s for name, s in progress.statuses if s.what.startswith("checks of PR")]
    assert ci_waits and {name for name, _ in progress.statuses} == {"wts_core"}
    assert {s.url for s in ci_waits} == {repo.pr_url}
    assert {s.timeout for s in ci_waits} == {FAST_WAITS.ci_timeout}
    seen = {check for s in ci_waits for check in s.states}
    assert {("test", "pending"), ("lint", "pending")} <= seen
    assert {name for name, _ in seen} <= {"test", "lint", *PROTECTED_CHECKS}
    elapsed = [s.elapsed for s in ci_waits]
    assert elapsed == sorted(elapsed) and elapsed[-1] < FAST_WAITS.ci_timeout


def test_the_index_wait_reports_the_publish_run_and_its_url(
    rig: Rig, capsys: pytest.CaptureFixture[str]
) -> None:
    """The publish run outlasts the index bound: each poll names the run, its state, its URL."""
    progress = Recording()
    waits = replace(FAST_WAITS, index_timeout=2.0)
    status, state = rig.release(rig.config("indexwait"), "idw-1", waits=waits, progress=progress)

    assert status == 0, capsys.readouterr().out
    repo = state.repos["idw_core"]
    assert repo.index_status == "timeout" and repo.publish_run_url is not None
    index_waits = [s for _, s in progress.statuses if s.what.endswith("from the index")]
    assert index_waits and {s.url for s in index_waits} == {repo.publish_run_url}
    assert {round(s.timeout, 1) for s in index_waits} == {2.0}  # the bound was set just before
    runs = {(("release.yml", state), ("index", "not yet")) for state in ("queued", "in_progress")}
    assert {s.states for s in index_waits} <= runs
