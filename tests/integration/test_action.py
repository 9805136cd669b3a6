"""The Action's entry point in-process against the sandbox: what the workflow's jobs do.

The same code runs in the Docker image under act (tests/e2e); here it runs without Docker,
so each job's behaviour (outputs, summaries, the gate, PLAN_CHANGED, re-runs) is quick to pin.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from release_train.action import run_action
from release_train.errors import ErrorCode, ReleaseError
from release_train.sandbox.control import Sandbox

from .sandbox.conftest import CENTRAL, central_world, push_commit, tiny_config

ACTIONS_RUN = 7001


@pytest.fixture
def world(tmp_path: Path) -> Iterator[Sandbox]:
    yield from central_world(tmp_path)


class Job:
    """One job of the workflow: its own output and summary files, like a runner gives."""

    def __init__(self, world: Sandbox, workspace: Path, name: str, run: int = ACTIONS_RUN):
        self.world, self.workspace, self.name, self.run = world, workspace, name, run
        self.files = workspace.parent / f"runner-{name}-{run}"
        self.files.mkdir(parents=True, exist_ok=True)

    def env(self, **inputs: str) -> dict[str, str]:
        env = {
            key: value
            for key, value in self.world.env.items()
            if key not in ("GITHUB_TOKEN", "RELEASE_TRAIN_STATE_DIR")
        }
        env.update(
            {
                "GITHUB_ACTIONS": "true",
                "GITHUB_REPOSITORY": f"{self.world.owner}/{CENTRAL}",
                "GITHUB_RUN_ID": str(self.run),
                "GITHUB_STEP_SUMMARY": str(self.files / "summary.md"),
                "GITHUB_OUTPUT": str(self.files / "output"),
                "INPUT_TOKEN": self.world.env["GITHUB_TOKEN"],
                "INPUT_CONFIG": "release-train.toml",
            }
        )
        env.update({f"INPUT_{k.upper().replace('_', '-')}": v for k, v in inputs.items()})
        return env

    def __call__(self, monkeypatch: pytest.MonkeyPatch, **inputs: str) -> int:
        monkeypatch.chdir(self.workspace)
        return run_action(self.env(**inputs))

    @property
    def summary(self) -> str:
        path = self.files / "summary.md"
        return path.read_text(encoding="utf-8") if path.exists() else ""

    @property
    def outputs(self) -> dict[str, str]:
        text = (self.files / "output").read_text(encoding="utf-8")
        found = re.findall(r"^([\w-]+)<<(\S+)\n(.*?)\n\2$", text, flags=re.MULTILINE | re.DOTALL)
        return {name: value for name, _, value in found}


@pytest.fixture
def workspace(world: Sandbox, tmp_path: Path) -> Path:
    """The central repo's checkout: the config, state on the state branch."""
    path = tmp_path / "workspace"
    path.mkdir()
    state = f'[state]\nstore = "branch"\nrepo = "{CENTRAL}"\n'
    (path / "release-train.toml").write_text(tiny_config(world, state), encoding="utf-8")
    return path


def approve(
    world: Sandbox,
    run: int = ACTIONS_RUN,
    user: str = "octo-reviewer",
    environment: str = "release",
) -> None:
    world.github.admin().add_approval(CENTRAL, run, user=user, environment=environment)


def test_plan_job_outputs_and_summary(
    world: Sandbox, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = Job(world, workspace, "plan")
    assert plan(monkeypatch, command="plan") == 0
    outputs = plan.outputs
    assert outputs["has-work"] == "true"
    assert re.fullmatch(r"sha256:[0-9a-f]{12}", outputs["plan-hash"])
    assert outputs["run-id"].startswith("release-")
    assert outputs["plan-hash"] in plan.summary
    assert "alpha_core" in plan.summary and "```mermaid" in plan.summary
    # Each repo's detail, folded; in API mode with a compare link on the server.
    compare = f"{world.github.server_url}/{world.owner}/alpha_core/compare/alpha_core/v1.0.0..."
    assert plan.summary.count("<details>") == 2 and f"([compare]({compare}" in plan.summary


def test_release_job_records_the_environment_approval(
    world: Sandbox, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = Job(world, workspace, "plan")
    plan(monkeypatch, command="plan")
    approve(world)
    release = Job(world, workspace, "release")
    code = release(
        monkeypatch,
        command="release",
        run_id=plan.outputs["run-id"],
        plan_hash=plan.outputs["plan-hash"],
        gate="environment",
        skip_pypi_wait="true",
    )
    assert code == 0, release.summary
    outputs = release.outputs
    assert outputs["status"] == "SUCCESS"
    state = json.loads((workspace / ".release-train" / f"{outputs['run-id']}.json").read_text())
    assert state["gate"]["kind"] == "environment"
    assert state["gate"]["approved_by"] == "octo-reviewer"
    assert plan.outputs["plan-hash"] in state["gate"]["token"]
    assert state["origin"].endswith(f"/{CENTRAL}/actions/runs/{ACTIONS_RUN}")
    result = json.loads((workspace / outputs["result-file"]).read_text())
    assert result["status"] == "SUCCESS"
    assert "alpha_core/v1.0.1" in release.summary

    status = Job(world, workspace, "status", run=ACTIONS_RUN + 9)
    assert status(monkeypatch, command="status", run_id=outputs["run-id"]) == 0
    assert status.outputs["status"] == "SUCCESS"
    assert "alpha_core/v1.0.1" in status.summary


def test_no_approval_refuses_before_any_change(
    world: Sandbox, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = Job(world, workspace, "plan")
    plan(monkeypatch, command="plan")
    approve(world, environment="staging")  # another environment's review does not count
    release = Job(world, workspace, "release")
    with pytest.raises(ReleaseError) as caught:
        release(monkeypatch, command="release", run_id=plan.outputs["run-id"], gate="environment")
    assert caught.value.code is ErrorCode.GATE_REJECTED
    assert "GATE_REJECTED" in release.summary
    assert world.github.admin().snapshot()["pulls"] == []


def test_a_push_after_the_plan_is_plan_changed(
    world: Sandbox, workspace: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    plan = Job(world, workspace, "plan")
    plan(monkeypatch, command="plan")
    push_commit(world, tmp_path / "push", "alpha_core", "feat: a feature after the plan")
    approve(world)
    release = Job(world, workspace, "release")
    with pytest.raises(ReleaseError) as caught:
        release(
            monkeypatch,
            command="release",
            run_id=plan.outputs["run-id"],
            plan_hash=plan.outputs["plan-hash"],
        )
    assert caught.value.code is ErrorCode.PLAN_CHANGED
    assert "The plan changed" in release.summary


def release_inputs(plan: Job) -> dict[str, str]:
    return {
        "command": "release",
        "run_id": plan.outputs["run-id"],
        "plan_hash": plan.outputs["plan-hash"],
        "skip_pypi_wait": "true",
    }


def test_a_rerun_of_the_failed_job_resumes_and_another_run_cannot(
    world: Sandbox, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ "Re-run failed jobs" keeps the Actions run id: the run resumes; another run is refused."""
    admin = world.github.admin()
    admin.set_ci("beta_app", conclusion="failure")
    plan = Job(world, workspace, "plan")
    plan(monkeypatch, command="plan")
    approve(world)
    first = Job(world, workspace, "release")
    assert first(monkeypatch, **release_inputs(plan)) == 1
    assert first.outputs["status"] == "PARTIAL"
    run_id = plan.outputs["run-id"]
    state = json.loads((workspace / ".release-train" / f"{run_id}.json").read_text())
    assert state["repos"]["beta_app"]["error"]["code"] == "CI_FAILED"
    assert "CI_FAILED" in first.summary.replace("\\", "")  # rendered: `_` is escaped

    other = Job(world, workspace, "release-other", run=ACTIONS_RUN + 1)
    approve(world, run=ACTIONS_RUN + 1)
    with pytest.raises(ReleaseError) as caught:
        other(monkeypatch, **release_inputs(plan))
    assert caught.value.code is ErrorCode.RUN_EXISTS

    # "Re-run all jobs": the plan job of the same Actions run picks its own run again.
    again = Job(world, workspace, "plan-again")
    assert again(monkeypatch, command="plan") == 0
    assert (again.outputs["run-id"], again.outputs["has-work"]) == (run_id, "true")

    admin.set_ci("beta_app", conclusion="success")
    admin.rerun_ci("beta_app", state["repos"]["beta_app"]["release_commit"])
    rerun = Job(world, workspace, "release-rerun")  # same Actions run, next attempt
    assert rerun(monkeypatch, **release_inputs(plan)) == 0, rerun.summary
    assert rerun.outputs["status"] == "SUCCESS"
    final = json.loads((workspace / ".release-train" / f"{run_id}.json").read_text())
    assert final["attempts"] == 2
    assert [g["approved_by"] for g in final["resume_gates"]] == ["octo-reviewer"]
    snapshot = admin.snapshot()
    assert sorted(p["repo"] for p in snapshot["pulls"]) == ["alpha_core", "beta_app"]


def test_dispatch_with_resume_continues_an_older_run(
    world: Sandbox, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.github.admin().set_ci("beta_app", conclusion="failure")
    plan = Job(world, workspace, "plan")
    plan(monkeypatch, command="plan")
    approve(world)
    assert Job(world, workspace, "release")(monkeypatch, **release_inputs(plan)) == 1
    run_id = plan.outputs["run-id"]

    world.github.admin().set_ci("beta_app", conclusion="success")
    later = ACTIONS_RUN + 5
    replan = Job(world, workspace, "plan-later", run=later)
    assert replan(monkeypatch, command="plan", resume=run_id) == 0
    assert replan.outputs == {**replan.outputs, "run-id": run_id, "has-work": "true"}
    assert f"Resuming run `{run_id}`" in replan.summary
    approve(world, run=later, user="second-reviewer")
    resumed = Job(world, workspace, "release-later", run=later)
    code = resumed(monkeypatch, command="release", resume=run_id, skip_pypi_wait="true")
    # The release commit's CI was red; resume re-checks it: still red until it is re-run.
    assert code == 1
    state = json.loads((workspace / ".release-train" / f"{run_id}.json").read_text())
    assert state["resume_gates"][-1]["approved_by"] == "second-reviewer"


def test_dry_run_changes_nothing(
    world: Sandbox, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = Job(world, workspace, "dry")
    assert job(monkeypatch, command="release", dry_run="true") == 0
    assert job.outputs["status"] == "DRY_RUN"
    assert "Dry run" in job.summary
    snapshot = world.github.admin().snapshot()
    assert snapshot["pulls"] == []


def test_bad_inputs_are_usage_errors(
    world: Sandbox, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = Job(world, workspace, "bad")
    for inputs in ({"bump": "huge"}, {"dry_run": "yes"}, {"max_parallel": "0"}):
        with pytest.raises(ReleaseError) as caught:
            job(monkeypatch, command="plan", **inputs)
        assert caught.value.code is ErrorCode.USAGE
    with pytest.raises(ReleaseError) as caught:
        run_action({"GITHUB_ACTIONS": "false"})
    assert caught.value.code is ErrorCode.USAGE


def test_a_slack_failure_is_a_warning_not_a_failed_release(
    world: Sandbox,
    workspace: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = workspace / "release-train.toml"
    slack = f'[slack]\nchannel = "{world.slack.channel_id}"\n'
    config.write_text(config.read_text(encoding="utf-8") + slack, encoding="utf-8")
    plan = Job(world, workspace, "plan")
    plan(monkeypatch, command="plan")
    approve(world)
    release = Job(world, workspace, "release")
    inputs = {**release_inputs(plan), "slack_bot_token": "xoxb-revoked"}
    assert release(monkeypatch, **inputs) == 0
    assert release.outputs["status"] == "SUCCESS"
    out = capsys.readouterr().out
    assert "::warning::the Slack summary was not posted" in out
    assert "::add-mask::xoxb-revoked" in out  # masked before anything could print it
    assert world.slack.messages() == []
