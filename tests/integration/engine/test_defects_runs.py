"""DESIGN's known defects 9, 12, 13 and 14 (statuses, publishing, clones, run ids), fixed.

Every test names the defect it covers; its docstring says what the original did and why
the test fails on that behaviour.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import pytest

from release_train.adapters import clones
from release_train.adapters.git import git
from release_train.config import FailurePolicy
from release_train.core.state import RunState, run_result
from release_train.sandbox.control import PROTECTED_CHECKS

from .conftest import BOT, Rig, tree_bytes


class Counts(NamedTuple):
    status: str
    attempted: int
    succeeded: int
    failed: int
    blocked: int
    skipped: int


def _counts(state: RunState) -> Counts:
    result = run_result(state)
    numbers = ("attempted", "succeeded", "failed", "blocked", "skipped")
    return Counts(result.status, *(getattr(result, f"repos_{n}") for n in numbers))


def _where(state: RunState) -> dict[str, tuple[str, str, str | None]]:
    return {name: (r.status, r.phase, r.blocked_by) for name, r in state.repos.items()}


def test_defect9_fail_fast_blocks_and_counts_blocked_apart_from_skipped(
    rig: Rig, capsys: pytest.CaptureFixture[str]
) -> None:
    """The original had no BLOCKED status (blocked repos stayed at phase PLANNED) and counted
    every PLANNED repo without an error as skipped. Here a tier-2 repo's CI fails under
    fail-fast: the rest of its tier and the next tier are `blocked` (phase PLANNED), the
    result counts them as blocked and only the NOTHING_TO_RELEASE repo as skipped; once CI
    is fixed and re-run, a resume releases the failed and the blocked repos."""
    config = rig.config("policy")
    rig.push("pol_core", "fix: the fail-fast round")
    rig.admin.set_ci("pol_app", conclusion="failure")
    try:
        status, state = rig.release(config, "pol-ff")
    finally:
        rig.admin.set_ci("pol_app", conclusion="success")
    out = capsys.readouterr().out

    assert status == 1, out
    assert state.skipped == {"pol_docs": "1.0.0"}
    assert _where(state) == {
        "pol_core": ("done", "DONE", None),
        "pol_app": ("failed", "PR_CREATED", None),
        "pol_cli": ("blocked", "PLANNED", "pol_app"),
        "pol_ext": ("blocked", "PLANNED", "pol_app"),
    }
    app = state.repos["pol_app"]
    assert app.error is not None and app.error.code == "CI_FAILED"
    assert _counts(state) == Counts("PARTIAL", 2, succeeded=1, failed=1, blocked=2, skipped=1)
    assert "blocked by pol_app: pol_cli, pol_ext" in out

    assert app.release_commit is not None
    rig.admin.rerun_ci("pol_app", app.release_commit)  # "Re-run all jobs", now green
    status, state = rig.resume(config, "pol-ff")

    assert status == 0, capsys.readouterr().out
    assert {name: r.status for name, r in state.repos.items()} == dict.fromkeys(
        ["pol_core", "pol_app", "pol_cli", "pol_ext"], "done"
    )
    assert _counts(state) == Counts("SUCCESS", 4, succeeded=4, failed=0, blocked=0, skipped=1)
    assert state.attempts == 2
    assert len([p for p in rig.pulls("pol_app") if p["head_ref"] == app.branch]) == 1


# Branch protection that wants a check CI never posts: the merge is refused (405) until the
# rule is lifted.
UNMET_RULE = ["deploy/preview"]


def test_defect9_keep_going_blocks_only_the_dependents(
    rig: Rig, capsys: pytest.CaptureFixture[str]
) -> None:
    """Under keep-going, a failed repo blocks only what depends on it: its sibling in the tier
    is released, its dependent is blocked (not skipped), the planned skip stays a skip."""
    rig.push("pol_core", "fix: the keep-going round")
    rig.admin.set_ci("pol_app", required=UNMET_RULE)
    try:
        status, state = rig.release(
            rig.config("policy"), "pol-kg", failure_policy=FailurePolicy.KEEP_GOING
        )
    finally:
        rig.admin.set_ci("pol_app", required=list(PROTECTED_CHECKS))

    assert status == 1, capsys.readouterr().out
    assert _where(state) == {
        "pol_core": ("done", "DONE", None),
        "pol_app": ("failed", "PR_CREATED", None),
        "pol_cli": ("done", "DONE", None),
        "pol_ext": ("blocked", "PLANNED", "pol_app"),
    }
    assert _counts(state) == Counts("PARTIAL", 3, succeeded=2, failed=1, blocked=1, skipped=1)


def test_defect12_a_workflow_token_tag_starts_no_publish_run_and_dispatch_fixes_it(
    rig: Rig,
) -> None:
    """A tag pushed with a workflow's GITHUB_TOKEN starts no other workflow; the original
    waited for (or ignored) a publish that never came. Here, with such a token in tag mode,
    PUBLISH fails PUBLISH_NOT_STARTED with the App/PAT hint. Switched to `publish = "dispatch"`
    the resumed run dispatches the release workflow once: killed while waiting for the index
    and resumed again, it finds that run instead of dispatching a second one."""
    env = {"GITHUB_TOKEN": rig.admin.make_token(actions=True)}
    # The PR it opens runs no CI either: MERGE may merge it only because the config allows.
    settings = {
        "publish_start_timeout_seconds": 2,
        "allow_no_checks": True,
        "checks_grace_seconds": 1,
    }
    config = rig.config("token", settings=settings)

    failed = rig.cli("release", "tok_core", "--yes", "--run-id", "tok-1", config=config, env=env)

    assert failed.returncode == 1, failed.stdout + failed.stderr
    repo = rig.state("tok-1").repos["tok_core"]
    assert repo.error is not None and repo.error.code == "PUBLISH_NOT_STARTED"
    assert (repo.phase, repo.error.step) == ("TAGGED", "PUBLISH")
    assert "GITHUB_TOKEN" in (repo.error.hint or "") and "PAT" in (repo.error.hint or "")
    assert "hint: a tag created with a workflow's GITHUB_TOKEN" in failed.stdout
    assert rig.repo_snapshot("tok_core")["tags"][repo.tag] == repo.merge_sha
    assert rig.workflow_runs("tok_core") == []

    rig.admin.set_publish("tok_core", mode="dispatch", delay=2.0)
    config = rig.config("token", settings=settings, repos={"tok_core": {"publish": "dispatch"}})
    wanted = f"waiting for tok-core=={repo.new_version} to be installable"
    with rig.running("resume", "tok-1", until=wanted, config=config, env=env):
        pass  # killed while the dispatched run is on its way
    assert len(rig.workflow_runs("tok_core")) == 1

    resumed = rig.cli("resume", "tok-1", config=config, env=env)

    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    repo = rig.state("tok-1").repos["tok_core"]
    assert (repo.status, repo.index_status) == ("done", "available")
    [publish_run] = rig.workflow_runs("tok_core")
    assert (publish_run["event"], publish_run["tag"]) == ("workflow_dispatch", repo.tag)


def _persons_workspace(rig: Rig, wip: str) -> Path:
    """A person's clone of ws_core: a feature branch with a local commit (adding `wip`), a
    modified file, a staged file and an untracked one, as a working copy looks any day."""
    workspace = rig.root / "person"
    workspace.mkdir()
    auth = clones.GitAuth.for_token(rig.world.github.token, rig.root / "person-auth")
    url = clones.repo_url(rig.world.github.server_url, rig.world.owner, "ws_core")
    clones.authed(auth, workspace, "clone", "--quiet", url, "ws_core")
    clone = workspace / "ws_core"
    git(clone, "checkout", "--quiet", "-b", "feature/wip")
    (clone / "src" / "ws_core" / wip).write_text('"""Not ready."""\n\nWIP = True\n')
    git(clone, "add", "--all")
    git(clone, *BOT, "commit", "--quiet", "-m", "feat: local work in progress")
    (clone / "src" / "ws_core" / "__init__.py").write_text('"""Edited, not saved in git."""\n')
    (clone / "staged.txt").write_text("staged\n")
    git(clone, "add", "staged.txt")
    (clone / "notes.txt").write_text("my notes\n")
    return workspace


def _working_copy(clone: Path) -> dict[str, object]:
    return {
        "files": tree_bytes(clone),
        "status": git(clone, "status", "--porcelain=v1", "--untracked-files=all"),
        "staged": git(clone, "diff", "--cached"),
        "head": git(clone, "rev-parse", "HEAD"),
        "branch": git(clone, "symbolic-ref", "HEAD"),
        "stash": git(clone, "stash", "list"),
    }


def test_defect13_workspace_release_leaves_the_persons_clone_as_it_was(rig: Rig) -> None:
    """The original ran `git pull --ff-only` in the person's own clone, mutating their
    working copy (or failing on it). Here a release in `--workspace` mode works in a worktree
    the run owns: the person's files, index, HEAD and branch are byte-identical afterwards,
    and the run's worktree is gone."""
    rig.push("ws_core", "fix: something to release from the workspace")
    workspace = _persons_workspace(rig, "wip_1.py")
    clone = workspace / "ws_core"
    before = _working_copy(clone)

    args = ("release", "ws_core", "--yes", "--run-id", "ws-1", "--workspace", str(workspace))
    done = rig.cli(*args, config=rig.config("workspace"))

    assert done.returncode == 0, done.stdout + done.stderr
    assert rig.state("ws-1").repos["ws_core"].status == "done"
    assert _working_copy(clone) == before
    assert git(clone, "worktree", "list", "--porcelain").count("worktree ") == 1


def test_defect13_workspace_release_is_cut_from_main_not_the_checked_out_branch(
    rig: Rig,
) -> None:
    """Releasing in a person's workspace must release the server's `main`, as the original
    did after its pull: the feature branch they have checked out, with a commit they never
    pushed, is not part of the release (no bump from it, not on main afterwards)."""
    main = rig.push("ws_core", "fix: the change this release is for")
    workspace = _persons_workspace(rig, "wip_2.py")

    args = ("release", "ws_core", "--yes", "--run-id", "ws-2", "--workspace", str(workspace))
    done = rig.cli(*args, config=rig.config("workspace"))

    assert done.returncode == 0, done.stdout + done.stderr
    repo = rig.state("ws-2").repos["ws_core"]
    assert (repo.base, repo.bump) == (main, "patch")
    assert "wip_2.py" not in rig.show("ws_core", "main", "src/ws_core/").split()


def _untouched(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under `root`, .git included, with its mtime: any write shows."""
    return {
        str(path.relative_to(root)): (path.read_bytes(), path.stat().st_mtime_ns)
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def test_defect13_fresh_clone_mode_never_touches_the_workspace(rig: Rig) -> None:
    """Without --workspace the run clones afresh into its own work dir: a person's clone in
    the directory the command runs from (where its config lives) is not read or written."""
    rig.push("ws_core", "fix: something to release from fresh clones")
    workspace = _persons_workspace(rig, "wip_3.py")
    config = workspace / "release-train.toml"
    config.write_text(rig.config("workspace").read_text())
    before = _untouched(workspace)

    done = rig.cli("release", "ws_core", "--yes", "--run-id", "ws-3", cwd=workspace)

    assert done.returncode == 0, done.stdout + done.stderr
    repo = rig.state("ws-3").repos["ws_core"]
    assert repo.status == "done"
    assert repo.worktree_path is not None
    assert Path(repo.worktree_path).is_relative_to(rig.work_dir)
    assert _untouched(workspace) == before


def test_defect14_a_second_run_on_the_same_day_never_overwrites_the_first(
    rig: Rig, capsys: pytest.CaptureFixture[str]
) -> None:
    """The run id is the repos and the date, so the original's second release of the same
    repos on the same day reused the first's id and state file. Here the second run gets the
    id with `-2` and its own state, the first's archived state stays byte-identical, and an
    explicit `--run-id` of the finished run is refused (RUN_EXISTS, exit 3) with every state
    file untouched and nothing pushed."""
    config = rig.config("day")
    rig.push("day_core", "fix: the first change of the day")
    status, first = rig.release(config, None)
    assert status == 0, capsys.readouterr().out
    archived = rig.state_dir / "archive" / f"{first.run_id}.json"
    first_state = archived.read_bytes()

    rig.push("day_core", "fix: the second change of the day")
    status, second = rig.release(config, None)

    out = capsys.readouterr().out
    assert status == 0, out
    assert second.run_id == f"{first.run_id}-2"
    assert f"run id {first.run_id} is taken by an earlier run; this run is {second.run_id}" in out
    assert archived.read_bytes() == first_state
    assert [first.repos["day_core"].new_version, second.repos["day_core"].new_version] == [
        "1.0.1",
        "1.0.2",
    ]

    rig.push("day_core", "fix: the third change of the day")
    states, pulls = tree_bytes(rig.state_dir, skip=()), rig.pulls("day_core")
    args = ("release", "day_core", "--yes", "--run-id", first.run_id)
    refused = rig.cli(*args, config=config)

    assert refused.returncode == 3, refused.stdout + refused.stderr
    assert f"error[RUN_EXISTS]: run {first.run_id} already exists" in refused.stderr
    assert tree_bytes(rig.state_dir, skip=()) == states
    assert rig.pulls("day_core") == pulls
    assert f"release/{first.run_id}/day_core" not in rig.repo_snapshot("day_core")["branches"]
