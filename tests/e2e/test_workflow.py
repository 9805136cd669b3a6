"""The shipped central workflow, run by act with release-train's Docker action, against the sandbox.

`examples/workflows/release-train.yml` runs as users copy it; `--local-repository` maps its
`uses: release-train/release-train@<sha>` onto this checkout. act does not pause for an
environment's reviewers, so the approval is seeded in the GitHub stand-in and the release
job must read and record it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from release_train import runs
from release_train.config import load_config
from release_train.core.state import RunState
from release_train.sandbox.control import Sandbox
from release_train.sandbox.family import SAMPLE_FAMILY

from ..core.test_summary_gfm import (
    PLAN_HEADERS,
    assert_only_details_html,
    assert_table,
    flowchart,
    gfm,
    shown,
)
from ..core.test_summary_gfm import tables as gfm_tables
from ..integration.sandbox.conftest import (
    CENTRAL,
    add_central_repo,
    push_commit,
    tiny_config,
    tiny_family,
)
from .conftest import ACTION_USES, E2E_TIMEOUT, PROJECT
from .docker_world import ActJob, ActRun, Daemon, central_repo, run_act

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(E2E_TIMEOUT)]

WORKFLOW = ".github/workflows/release-train.yml"
UPLOAD_USES = "actions/upload-artifact@ea165f8d65b6e75b540449e92b4886f43607fa02"
UPLOAD_STAND_IN = Path(__file__).parent / "stand_ins" / "upload-artifact"
APP_TOKEN_USES = "actions/create-github-app-token@29824e69f54612133e76f7eaac726eef6c875baf"
APP_TOKEN_STAND_IN = Path(__file__).parent / "stand_ins" / "create-github-app-token"
REVIEWER = "octo-reviewer"


class Train:
    """A sandbox world with a central repo, and act running the workflow against it."""

    def __init__(self, world: Sandbox, central: Path, daemon: Daemon, image: str) -> None:
        self.world, self.central, self.daemon, self.image = world, central, daemon, image
        self.artifacts = central.parent / "artifacts"  # what the upload step kept
        self.artifacts.mkdir()

    def dispatch(
        self, actions_run: int, *, attempt: int = 1, inputs: dict[str, str] | None = None
    ) -> ActRun:
        env = self.world.env
        job = ActJob(
            platform_image=self.image,
            local_repositories={
                ACTION_USES: PROJECT,
                UPLOAD_USES: UPLOAD_STAND_IN,
                APP_TOKEN_USES: APP_TOKEN_STAND_IN,
            },
            mounts={self.artifacts: "/artifacts"},
            secrets={
                # The Apps' keys: the stand-in mints the sandbox's one token from them.
                "RELEASE_TRAIN_READER_KEY": env["GITHUB_TOKEN"],
                "RELEASE_TRAIN_APP_KEY": env["GITHUB_TOKEN"],
                "SLACK_BOT_TOKEN": env["SLACK_BOT_TOKEN"],
            },
            env={
                "GITHUB_API_URL": env["GITHUB_API_URL"],
                "GITHUB_SERVER_URL": env["GITHUB_SERVER_URL"],
                "GITHUB_REPOSITORY": f"{self.world.owner}/{CENTRAL}",
                "GITHUB_RUN_ID": str(actions_run),
                "GITHUB_RUN_ATTEMPT": str(attempt),
                "SLACK_API_URL": env["SLACK_API_URL"],
            },
        )
        payload = {"inputs": {"dry-run": "false", **(inputs or {})}}
        return run_act(self.daemon, self.central, WORKFLOW, job, payload=payload)

    def approve(self, actions_run: int) -> None:
        self.world.github.admin().add_approval(CENTRAL, actions_run, user=REVIEWER)

    def state(self, run_id: str) -> RunState:
        config, _ = load_config(self.central / "release-train.toml")
        store = runs.store_for(config, self.world.env)
        state, _, _ = runs.load_run(store, run_id)
        return state

    def artifact(self, run_id: str, attempt: int, name: str) -> dict[str, Any]:
        """A JSON file of the artifact the release job uploaded at the end of `attempt`."""
        folder = self.artifacts / f"release-train-{run_id}-attempt-{attempt}" / ".release-train"
        loaded: dict[str, Any] = json.loads((folder / name).read_text(encoding="utf-8"))
        return loaded

    def snapshot(self) -> dict[str, Any]:
        return self.world.github.admin().snapshot()


def _train(tmp_path: Path, daemon: Daemon, image: str, family: Any = None) -> Iterator[Train]:
    world = (
        Sandbox.start(tmp_path / "world", family=family)
        if family
        else Sandbox.start(tmp_path / "world")
    )
    try:
        add_central_repo(world, tmp_path / "central-seed")
        config = world.config_text() if family is None else tiny_config(world)
        config += (
            f'\n[state]\nstore = "branch"\nrepo = "{CENTRAL}"\n'
            f'\n[slack]\nchannel = "{world.slack.channel_id}"\n'
        )
        central = central_repo(
            tmp_path / "central", PROJECT / "examples/workflows/release-train.yml", config
        )
        yield Train(world, central, daemon, image)
    finally:
        world.stop()


@pytest.fixture
def sample_train(
    tmp_path: Path, docker_daemon: Daemon, base_image: str, action_image: str
) -> Iterator[Train]:
    yield from _train(tmp_path, docker_daemon, base_image)


@pytest.fixture
def tiny_train(
    tmp_path: Path, docker_daemon: Daemon, base_image: str, action_image: str
) -> Iterator[Train]:
    yield from _train(tmp_path, docker_daemon, base_image, family=tiny_family)


def test_dry_run_puts_the_plan_in_the_summary_and_changes_nothing(
    sample_train: Train, tmp_path: Path
) -> None:
    push_commit(sample_train.world, tmp_path / "someone", "omnibase_spi", HOSTILE)
    before = {name: repo["tags"] for name, repo in sample_train.snapshot()["repos"].items()}
    run = sample_train.dispatch(8001, inputs={"dry-run": "true"})

    assert run.returncode == 0, run.log[-4000:]
    assert run.job_results["plan"] == "success"
    assert "release" not in run.job_results or run.job_results["release"] == "skipped"
    summary = run.summary("plan")
    tokens = gfm().parse(summary)
    assert_only_details_html(tokens)  # the commit's <script> stayed text, in the details too
    assert summary.count("<details>") == len(SAMPLE_FAMILY)
    [table] = gfm_tables(tokens)  # its pipes opened no cell, its newline no table
    names = [row[0] for row in table.rows]
    assert_table(table, PLAN_HEADERS, names)
    assert sorted(names) == sorted(s.name for s in SAMPLE_FAMILY)
    [spi] = [row for row in table.rows if row[0] == "omnibase_spi"]
    assert shown(HOSTILE.splitlines()[0]) in spi[-1]  # shown as written, @ defused
    flowchart(tokens, len(SAMPLE_FAMILY))  # the Mermaid block is still well-formed
    outputs = run.outputs["plan"]
    assert outputs["has-work"] == "true"
    assert outputs["plan-hash"] in summary
    snapshot = sample_train.snapshot()
    assert snapshot["pulls"] == []
    assert {name: repo["tags"] for name, repo in snapshot["repos"].items()} == before
    assert snapshot["workflow_runs"] == []  # nothing published either


HOSTILE = 'feat: <script>alert(1)</script> | @channel `x` --> n_evil["]"] %% ;\n\nbody'


def test_full_release_of_the_sample_family(sample_train: Train) -> None:
    sample_train.approve(8002)
    run = sample_train.dispatch(8002)

    assert run.returncode == 0, run.log[-6000:]
    assert run.job_results == {"plan": "success", "release": "success"}
    outputs = run.outputs["release"]
    assert outputs["status"] == "SUCCESS"
    run_id = outputs["run-id"]
    assert run_id == run.outputs["plan"]["run-id"]
    state = sample_train.state(run_id)
    assert state.gate is not None
    assert (state.gate.kind, state.gate.approved_by) == ("environment", REVIEWER)
    assert state.plan_hash in (state.gate.token or "")
    assert state.origin is not None and state.origin.endswith(f"/{CENTRAL}/actions/runs/8002")
    assert sorted(r.status for r in state.repos.values()) == ["done"] * len(SAMPLE_FAMILY)
    summary = run.summary("release")
    for repo in state.repos.values():
        assert repo.tag in summary
    # The family's release note (issue 13, item 6) is in the summary, as GFM headings.
    tokens = gfm().parse(summary)
    headings = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"]
    assert f"Family release `{run_id}`" in headings
    assert {"Tier 1", "Tier 2"} <= set(headings)
    assert "now requires" in summary
    assert "::group::" in run.log  # one log group per repo and step
    assert sample_train.artifact(run_id, 1, "result.json")["status"] == "SUCCESS"
    assert sample_train.artifact(run_id, 1, f"{run_id}.json")["status"] == "success"
    posted = [m for m in sample_train.world.slack.messages() if run_id in json.dumps(m)]
    assert posted, "the LOW_RISK summary reached Slack"


def test_failing_ci_then_rerun_resumes_and_completes(tiny_train: Train) -> None:
    admin = tiny_train.world.github.admin()
    admin.set_ci("beta_app", conclusion="failure")
    tiny_train.approve(8101)
    first = tiny_train.dispatch(8101)

    assert first.returncode != 0
    assert first.job_results == {"plan": "success", "release": "failure"}
    run_id = first.outputs["plan"]["run-id"]
    assert "CI_FAILED" in first.summary("release").replace("\\", "")  # `_` is escaped
    kept = tiny_train.artifact(run_id, 1, f"{run_id}.json")  # the failed attempt's state
    assert kept["repos"]["beta_app"]["error"]["code"] == "CI_FAILED"
    failed = tiny_train.state(run_id)
    assert failed.repos["alpha_core"].status == "done"
    release_commit = failed.repos["beta_app"].release_commit
    assert release_commit is not None

    admin.set_ci("beta_app", conclusion="success")
    admin.rerun_ci("beta_app", release_commit)  # the engineer re-runs the red check
    again = tiny_train.dispatch(8101, attempt=2)  # "Re-run" of the same Actions run

    assert again.returncode == 0, again.log[-6000:]
    assert again.outputs["plan"]["run-id"] == run_id
    assert again.outputs["release"]["status"] == "SUCCESS"
    done = tiny_train.state(run_id)
    assert done.attempts == 2
    assert [g.approved_by for g in done.resume_gates] == [REVIEWER]
    assert tiny_train.artifact(run_id, 2, "result.json")["status"] == "SUCCESS"
    pulls = tiny_train.snapshot()["pulls"]
    assert sorted(p["repo"] for p in pulls) == ["alpha_core", "beta_app"]  # no second PR
