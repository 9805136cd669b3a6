"""A whole release under 10% faults on the API *and* on git finishes in one attempt.

Issue 12, item 6: git over HTTP was never retried and the state store bypassed the retry
layer, so a 10% fault rate cost several re-runs. Here the sample family is released once
against the sandbox with a fixed seed: every repo must be done and no resume needed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from release_train.sandbox.control import Sandbox

from .sample_release import release_all, run_state

RUN_ID = "faulty-train"
FAULT_SEED = 20261202
# About 10% of API requests fail, a third of them after the request took effect.
API_FAULTS: tuple[dict[str, Any], ...] = (
    {"kind": "error", "rate": 0.03, "status": 502},
    {"kind": "error", "rate": 0.02, "status": 502, "phase": "after"},
    {"kind": "drop", "rate": 0.02},
    {"kind": "drop", "rate": 0.01, "phase": "after"},
    {"kind": "secondary_rate_limit", "rate": 0.02, "retry_after": 1},
)
# About 10% of git's smart-HTTP requests fail, likewise.
GIT_FAULTS: tuple[dict[str, Any], ...] = (
    {"kind": "error", "rate": 0.03, "status": 502},
    {"kind": "error", "rate": 0.02, "status": 503, "phase": "after"},
    {"kind": "drop", "rate": 0.03},
    {"kind": "drop", "rate": 0.02, "phase": "after"},
)


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_release_under_api_and_git_faults_needs_no_second_attempt(tmp_path: Path) -> None:
    with Sandbox.start(tmp_path / "world") as world:
        admin = world.github.admin()
        admin.seed_faults(FAULT_SEED)
        # One push whose answer is surely lost: git's own resend then meets the lease.
        receive = f"/{world.owner}/omnibase_core.git/git-receive-pack"
        admin.add_fault("drop", count=1, method="POST", path_prefix=receive, phase="after")
        for rule in API_FAULTS:
            admin.add_fault(path_prefix="/api/v3/", **rule)
        for rule in GIT_FAULTS:
            admin.add_fault(path_prefix=f"/{world.owner}/", **rule)  # git's paths alone

        done = release_all(world, RUN_ID)
        faulted = [r for r in admin.requests() if r["fault"]]
        admin.clear_faults()
        assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
        state = run_state(world, RUN_ID)

    assert state.attempts == 1
    assert {repo.status for repo in state.repos.values()} == {"done"}
    kinds = {(r["kind"], r["fault"]) for r in faulted}
    assert {("api", "error"), ("api", "drop"), ("git", "error"), ("git", "drop")} <= kinds
    assert any(r["path"] == receive and r["fault"] == "drop" for r in faulted)
