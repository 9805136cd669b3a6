"""The Action's plan and release jobs run the API-mode preflight with the job's token."""

from __future__ import annotations

from pathlib import Path

import pytest

from release_train.adapters.branch_store import BranchStore
from release_train.adapters.github import GitHub
from release_train.errors import ErrorCode, ReleaseError
from release_train.sandbox.control import Sandbox
from tests.integration.test_action import Job, workspace, world

from .sandbox.conftest import CENTRAL

__all__ = ["workspace", "world"]


def test_the_plan_job_fails_on_an_error_and_still_shows_the_plan(
    world: Sandbox, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reader = world.github.make_token(read_only=True)  # the token cannot push: an error
    plan = Job(world, workspace, "plan")
    with pytest.raises(ReleaseError) as raised:
        plan(monkeypatch, command="plan", token=reader)
    assert raised.value.code is ErrorCode.PREFLIGHT_FAILED
    assert "beta_app: [PERMISSION_DENIED]" in (raised.value.output or "")
    assert "alpha_core" in plan.summary  # the plan itself, then why it stopped
    assert "release-train stopped" in plan.summary and "PREFLIGHT_FAILED" in plan.summary
    assert plan.outputs["has-work"] == "true"


def test_the_release_job_refuses_before_the_gate_and_the_state(
    world: Sandbox, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = Job(world, workspace, "plan")
    assert plan(monkeypatch, command="plan") == 0
    reader = world.github.make_token(read_only=True)  # write access lost since the plan job
    release = Job(world, workspace, "release")
    with pytest.raises(ReleaseError) as raised:
        release(  # no approval was given: reaching the gate would fail differently
            monkeypatch,
            command="release",
            token=reader,
            run_id=plan.outputs["run-id"],
            plan_hash=plan.outputs["plan-hash"],
            gate="environment",
        )
    assert raised.value.code is ErrorCode.PREFLIGHT_FAILED
    github = GitHub(world.github.api_url, world.github.token, world.owner)
    store = BranchStore(github.repository(CENTRAL), "release-train-state")
    assert store.runs() == []
