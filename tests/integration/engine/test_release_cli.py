"""The `release`, `status` and `resume` commands as a user runs them: exit codes and output.

Releases run as new processes; commands that only read a state call the same `cli.main`
in this process (`Rig.main`), which is faster than an interpreter per call.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from release_train.adapters import clones
from release_train.adapters.command import Completed
from release_train.adapters.git import git
from release_train.errors import ErrorCode, ReleaseError
from release_train.sandbox.control import Sandbox
from tests.core.test_state import RESULT_KEYS

from .conftest import Rig, tree_bytes


def test_release_without_approval_refuses_before_any_clone(rig: Rig) -> None:
    config = rig.config("cli")

    done = rig.cli("release", "--all", config=config)

    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.startswith("error[USAGE]: a release needs an approval")
    assert "hint: review the plan (`release-train plan`" in done.stderr
    assert not rig.work_dir.exists() and not rig.state_dir.exists()


@dataclass(frozen=True)
class Finished:
    """A successful release of the cli lane, run once for the tests that read it."""

    rig: Rig
    config: Path
    run_id: str
    done: Completed
    result: dict[str, object]


@pytest.fixture(scope="module")
def finished(world: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> Finished:
    rig = Rig(world, tmp_path_factory.mktemp("finished"))
    config = rig.config("cli")
    result_file = rig.root / "result.json"
    args = ("release", "--all", "--yes", "--run-id", "cli-1", "--result-file", str(result_file))
    done = rig.cli(*args, config=config)
    assert done.returncode == 0, done.stdout + done.stderr
    return Finished(rig, config, "cli-1", done, json.loads(result_file.read_text()))


def test_release_result_file_is_the_model_skill_result(finished: Finished) -> None:
    result, state = finished.result, finished.rig.state(finished.run_id)
    assert list(result) == RESULT_KEYS
    assert str(result["release_note"]).startswith(
        "## Family release `cli-1`\n\n2 of 2 repos released."
    )
    assert {k: v for k, v in result.items() if k not in ("details", "release_note")} == {
        "skill": "release",
        "status": "SUCCESS",
        "run_id": "cli-1",
        "gate_token": "yes:cli-1",
        "plan_hash": state.plan_hash,
        "repos_attempted": 2,
        "repos_succeeded": 2,
        "repos_failed": 0,
        "repos_skipped": 0,
        "repos_blocked": 0,
    }
    details = result["details"]
    assert isinstance(details, list)
    server = f"{finished.rig.world.github.server_url}/{finished.rig.world.owner}"
    for detail, (name, repo) in zip(details, state.repos.items(), strict=True):
        assert detail == {
            "repo": name,
            "tier": repo.tier,
            "old_version": "1.0.0",
            "new_version": "1.0.1",
            "bump": "patch",
            "pr_url": f"{server}/{name}/pull/{repo.pr_number}",
            "pr_number": repo.pr_number,
            "tag": f"{name}/v1.0.1",
            "pypi_status": "skipped",  # publish = "none": nothing to wait for
            "phase": "DONE",
            "status": "done",
            "error": None,
            "error_code": None,
            "blocked_by": None,
            "merge_sha": repo.merge_sha,
            "commits": 1,
            "reason": "1 fix",
        }
    assert [d["tier"] for d in details] == [1, 2]


def test_release_prints_the_summary_table(finished: Finished) -> None:
    out = finished.done.stdout
    summary = out[out.index("Release Summary (run: cli-1)") :]
    assert summary.splitlines()[2:7] == [
        "  Repo               Old    New      PR                Tag                    PyPI",
        "  ─────────────────  ─────  ───────  ────────────────  ─────────────────────  ─────────",
        "  cli_core           1.0.0  1.0.1    #1 (merged)       cli_core/v1.0.1        skipped",
        "  cli_app            1.0.0  1.0.1    #1 (merged)       cli_app/v1.0.1         skipped",
        "",
    ]
    assert "  Status: SUCCESS (2/2 repos released)" in summary


def test_a_step_a_repo_does_not_need_says_why_not_already_there(finished: Finished) -> None:
    """cli_core has no upstreams, neither repo a uv.lock or a pre-commit config."""
    lines = finished.done.stdout.splitlines()

    def outcome(repo: str, phase: str) -> str:
        [line] = [line for line in lines if line.startswith(f"  {repo:<18} {phase:<11} ")]
        return line[len(f"  {repo:<18} {phase:<11} ") :]

    assert outcome("cli_core", "PINNED") == "no upstreams to pin"
    assert outcome("cli_app", "PINNED").startswith("done in ")
    assert outcome("cli_core", "LOCKED") == "no uv.lock to lock"
    assert outcome("cli_app", "LINT") == "no .pre-commit-config.yaml"
    assert [line for line in lines if " PINNED " in line and "already there" in line] == []


def test_status_without_a_run_id_lists_the_runs(finished: Finished) -> None:
    done = finished.rig.main("status", config=finished.config)

    assert done.returncode == 0, done.stderr
    [row] = [line for line in done.stdout.splitlines() if line.startswith("  cli-1 ")]
    assert row.split()[:2] == ["cli-1", "success"]
    assert row.split()[2] == "(archived)"


def test_status_of_a_run_shows_where_every_repo_is(finished: Finished) -> None:
    done = finished.rig.main("status", "cli-1", config=finished.config)

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    archive = finished.rig.state_dir / "archive" / "cli-1.json"
    assert lines[:2] == ["Run cli-1: success (archived)", f"  state: {archive}"]
    assert re.fullmatch(r"  plan hash: sha256:[0-9a-f]{12}; started .*; attempt 1", lines[2])
    assert lines[3].startswith("  gate: yes, token yes:cli-1, approved by ")  # a login name
    assert lines[5:9] == [
        "  Repo               Tier  New      Status   Phase       PR",
        "  ─────────────────  ────  ───────  ───────  ──────────  ──────",
        "  cli_core           1     1.0.1    done     DONE        #1",
        "  cli_app            2     1.0.1    done     DONE        #1",
    ]
    assert "Release Summary (run: cli-1)" in done.stdout


def test_status_as_json_is_the_result(finished: Finished) -> None:
    done = finished.rig.main("status", "cli-1", "--format", "json", config=finished.config)

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == finished.result


def _states(directory: Path) -> dict[str, bytes]:
    """The state documents (a lock file only holds its last holder's pid)."""
    return {k: v for k, v in tree_bytes(directory, skip=()).items() if k.endswith(".json")}


def test_resume_of_a_finished_run_has_nothing_to_do(finished: Finished) -> None:
    states = _states(finished.rig.state_dir)

    done = finished.rig.main("resume", "cli-1", config=finished.config)

    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.endswith("run cli-1 is finished; there is nothing to resume\n")
    assert "Release Summary (run: cli-1)" in done.stdout
    assert _states(finished.rig.state_dir) == states


def test_resume_of_an_unknown_run_is_state_not_found(rig: Rig) -> None:
    config = rig.config("cli")

    done = rig.main("resume", "release-20200101-abcdef", config=config)

    assert done.returncode == 3, done.stdout + done.stderr
    assert done.stderr.startswith("error[STATE_NOT_FOUND]: no state of release-20200101-abcdef")
    assert not (rig.work_dir / "clones").exists()
    listed = rig.main("status", config=config)
    assert (listed.returncode, listed.stdout) == (0, f"no runs in local files in {rig.state_dir}\n")


def _corrupt(text: str, how: str) -> str:
    if how == "truncated":
        return text[: len(text) // 2]
    if how == "bad-status":
        return text.replace('"status": "success"', '"status": "exploded"', 1)
    if how == "unknown-phase":  # read as "nothing left to do" before: the repo counted done
        return text.replace('"phase": "DONE"', '"phase": "SHIPPED"', 1)
    return text.replace('"run_id": "cli-1"', '"run_id": "cli-9"', 1)  # another run's state


@pytest.mark.parametrize("how", ["truncated", "bad-status", "unknown-phase", "other-run"])
def test_a_corrupt_state_is_state_corrupt_and_left_as_it_was(
    finished: Finished, rig: Rig, how: str
) -> None:
    good = (finished.rig.state_dir / "archive" / "cli-1.json").read_text()
    broken = _corrupt(good, how)
    assert broken != good
    path = rig.state_dir / "cli-1.json"
    path.parent.mkdir(parents=True)
    path.write_text(broken)
    config = rig.config("cli")

    resumed = rig.main("resume", "cli-1", config=config)
    shown = rig.main("status", "cli-1", config=config)

    for done in (resumed, shown):
        assert done.returncode == 3, done.stdout + done.stderr
        assert done.stderr.startswith(f"error[STATE_CORRUPT]: state {path} ")
    assert path.read_text() == broken
    assert sorted(p.name for p in rig.state_dir.iterdir()) == ["cli-1.json", "cli-1.lock"]


def test_a_second_process_on_a_run_in_progress_is_run_in_progress(rig: Rig) -> None:
    """While a run holds its lock (paused by the hook), `status` reads it, but neither a
    `resume` nor a `release` with its id may start: RUN_IN_PROGRESS, the state untouched."""
    config = rig.config("lock")
    rig.push("lck_core", "fix: something to release")
    args = ("release", "lck_core", "--yes", "--run-id", "lck-1")
    with rig.paused(*args, after="lck_core:WORKTREE", config=config):
        path = rig.state_dir / "lck-1.json"
        before = path.read_bytes()

        shown = rig.main("status", "lck-1", config=config)
        resumed = rig.cli("resume", "lck-1", config=config)
        released = rig.cli(*args, config=config)

        assert path.read_bytes() == before
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith("Run lck-1: in_progress\n")
    assert re.search(r"^  lck_core +1 +1\.0\.1 +running +WORKTREE +-$", shown.stdout, re.M)
    for second in (resumed, released):
        assert second.returncode == 3, second.stdout + second.stderr
        assert second.stderr.startswith("error[RUN_IN_PROGRESS]: run lck-1 is in progress (pid ")


@pytest.mark.parametrize("where", ["under-a-file", "read-only"])
def test_an_unusable_state_dir_is_state_unusable(rig: Rig, where: str) -> None:
    """A state dir under a regular file (or read-only) crashed with INTERNAL at the first
    write. Now: STATE_UNUSABLE naming the dir and the cause, exit 3, nothing started."""
    if where == "read-only" and os.geteuid() == 0:
        pytest.skip("root writes through read-only permissions")
    config = rig.config("cli")
    blocker = rig.root / "a-file"
    blocker.write_text("not a directory\n")
    state_dir = blocker / "state"
    if where == "read-only":
        state_dir = rig.root / "read-only"
        state_dir.mkdir()
        state_dir.chmod(0o500)
    env = {"RELEASE_TRAIN_STATE_DIR": str(state_dir)}
    rig.push("cli_core", f"fix: something to release with a state dir {where}")
    before = rig.repo_snapshot("cli_core")

    released = rig.cli(
        "release", "cli_core", "--yes", "--run-id", "unusable-1", config=config, env=env
    )
    listed = rig.cli("status", config=config, env=env)

    for done in (released, listed):
        assert done.returncode == 3, done.stdout + done.stderr
        assert "error[STATE_UNUSABLE]: cannot " in done.stderr
        assert (
            str(state_dir) in done.stderr and "hint: point RELEASE_TRAIN_STATE_DIR" in done.stderr
        )
    assert blocker.read_text() == "not a directory\n"
    assert rig.repo_snapshot("cli_core") == before


@pytest.mark.parametrize("token", ["read-only", "wrong"])
def test_a_token_that_may_not_push_is_permission_denied_with_the_remotes_words(
    rig: Rig, token: str
) -> None:
    """A read-only or unknown token failed as GIT_FAILED at PUSH, the real cause only inside
    the state JSON. Now a read-only token is refused before anything starts (the preflight
    reads its permissions), and an unknown one is PERMISSION_DENIED with the remote's words."""
    config = rig.config("cli")
    rig.push("cli_core", f"fix: something for the {token} token test")
    value = rig.admin.make_token(read_only=True) if token == "read-only" else "ghp_not-a-token"
    said = {
        "read-only": "the token cannot push to",
        "wrong": "Invalid username or token",
    }[token]
    args = ("release", "cli_core", "--yes", "--run-id", f"perm-{token}")

    done = rig.cli(*args, config=config, env={"GITHUB_TOKEN": value})

    out = done.stdout + done.stderr
    assert done.returncode != 0, out
    assert "PERMISSION_DENIED" in out and said in out, out
    assert "GIT_FAILED" not in out and value not in out
    assert not (rig.state_dir / f"perm-{token}.json").exists()


def test_a_push_the_remote_refuses_is_permission_denied_with_its_message(rig: Rig) -> None:
    """Where the token loses its rights after the preflight, git's own refusal is mapped:
    PERMISSION_DENIED carrying the remote's message, not a GIT_FAILED with it hidden."""
    rig.push("cli_core", "fix: a change to push back")
    clone = rig.root / "others" / "cli_core"
    read_only = clones.GitAuth.for_token(rig.admin.make_token(read_only=True), rig.root / "ro")

    with pytest.raises(ReleaseError) as raised:
        clones.authed(read_only, clone, "push", "--quiet", "origin", "HEAD:refs/heads/ro-push")

    assert raised.value.code is ErrorCode.PERMISSION_DENIED
    assert "Write access to repository not granted" in raised.value.message


def test_a_pr_body_is_cut_to_githubs_limit(rig: Rig) -> None:
    """Three 30,000-character subjects made a 90 KB PR body, which GitHub refuses (422).
    Now each subject is cut (the changelog in the PR has them whole), the body holds at most
    65,536 characters (tests/core/test_pr_body.py: how many changes fit), and the PR opens."""
    config = rig.config("cli")
    for n in range(3):
        rig.push("cli_core", f"fix: {n} " + "long " * 6_000)

    done = rig.cli("release", "cli_core", "--yes", "--run-id", "long-body-1", config=config)

    assert done.returncode == 0, done.stdout + done.stderr
    [pr] = [p for p in rig.pulls("cli_core") if p["head_ref"] == "release/long-body-1/cli_core"]
    assert len(pr["body"]) <= 65_536
    assert pr["body"].count("\u2026\n") == 3


def test_a_stale_index_lock_left_by_a_kill_is_cleared_on_resume(rig: Rig) -> None:
    """A run killed while git held the worktree's index.lock left the file behind, and every
    resume failed at COMMIT with GIT_FAILED ("index.lock: File exists"). Now the resume
    removes a lock no live process holds, says so, and completes the release."""
    config = rig.config("cli")
    rig.push("cli_core", "fix: something before the kill")
    args = ("release", "cli_core", "--yes", "--run-id", "stale-lock-1")
    with rig.paused(*args, after="cli_core:CHANGELOG", config=config):
        pass  # killed with SIGKILL when the block ends
    worktree = rig.work_dir / "runs" / "stale-lock-1" / "cli_core"
    lock = Path(
        git(worktree, "rev-parse", "--path-format=absolute", "--git-path", "index.lock").strip()
    )
    lock.write_text("")

    done = rig.cli("resume", "stale-lock-1", config=config)

    assert done.returncode == 0, done.stdout + done.stderr
    assert f"removed {lock} left by a killed run" in done.stdout
    assert not lock.exists()


def test_an_index_lock_a_live_process_works_under_is_left_alone(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    git(tmp_path, "init", "--quiet", str(repo))
    lock = repo / ".git" / "index.lock"
    lock.write_text("")
    holder = subprocess.Popen(["sleep", "30"], cwd=repo)
    try:
        assert clones.clear_stale_index_lock(repo) is None
        assert lock.exists()
    finally:
        holder.kill()
        holder.wait()
    assert clones.clear_stale_index_lock(repo) == lock
    assert not lock.exists()
