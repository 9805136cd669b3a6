"""One family, one train; Ctrl-C stops a train (issue 12, items 3 and 5), from the outside.

Real `release-train` processes against the sandbox: a second run of the family while the
first holds it, a release PR another run left open, and SIGINT sent the way a terminal's
Ctrl-C sends it (to the whole process group) during a CI wait and at a paused boundary.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from github import Auth, Github

from release_train.core.state import RunState

from .conftest import CI_SECONDS, Rig

SIGNAL_EXIT = 20.0  # a stopped train exits within this, on a loaded machine too


def _release_branches(rig: Rig, repo: str, run_id: str) -> list[str]:
    branches = rig.repo_snapshot(repo)["branches"]
    return sorted(b for b in branches if b.startswith(f"release/{run_id}/"))


def test_a_second_train_on_the_family_is_family_locked_and_pushes_nothing(rig: Rig) -> None:
    """While run trn-1 holds the family (paused by the hook), run trn-2 is refused before it
    has a state or pushes anything; once trn-1 is killed its dead pid is named, and only an
    explicit `unlock` lets another train go."""
    config = rig.config("train")
    rig.push("trn_core", "fix: something to release")
    first = ("release", "trn_core", "--yes", "--run-id", "trn-1")
    with rig.paused(*first, after="trn_core:WORKTREE", config=config):
        second = rig.cli("release", "trn_core", "--yes", "--run-id", "trn-2", config=config)
    owner = rig.world.owner

    assert second.returncode == 3, second.stdout + second.stderr
    assert second.stderr.startswith(
        f"error[FAMILY_LOCKED]: family {owner} is locked: run trn-1 is releasing it ("
    ), second.stderr
    assert "wait for run trn-1 to end" in second.stderr
    assert not (rig.state_dir / "trn-2.json").exists()
    assert _release_branches(rig, "trn_core", "trn-2") == []
    assert rig.pulls("trn_core") == []

    stale = rig.cli("release", "trn_core", "--yes", "--run-id", "trn-3", config=config)
    assert stale.returncode == 3, stale.stdout + stale.stderr
    assert "holds it, but its process (pid " in stale.stderr
    assert "is no longer running" in stale.stderr
    assert "`release-train unlock trn-1`" in stale.stderr

    unlocked = rig.cli("unlock", "trn-1", config=config)
    assert unlocked.returncode == 0, unlocked.stdout + unlocked.stderr
    assert unlocked.stdout.startswith(f"family {owner} unlocked: run trn-1 (")
    third = rig.cli("release", "trn_core", "--yes", "--run-id", "trn-3", config=config)
    assert third.returncode == 0, third.stdout + third.stderr
    assert [p["head_ref"] for p in rig.pulls("trn_core")] == ["release/trn-3/trn_core"]


def test_a_release_pr_another_run_left_open_is_pr_conflict(rig: Rig) -> None:
    config = rig.config("conflict")
    base = rig.push("prc_core", "fix: something to release")
    gh = Github(base_url=rig.world.github.api_url, auth=Auth.Token(rig.world.github.token))
    repo = gh.get_repo(f"{rig.world.owner}/prc_core")
    other = "release/prc-old/prc_core"
    repo.create_git_ref(f"refs/heads/{other}", base)
    rig.push("prc_core", "chore(release): prc_core v1.0.1", branch=other)
    left = repo.create_pull(
        title="chore(release): prc_core v1.0.1", body="", head=other, base="main"
    )

    status, state = rig.release(config, "prc-new")

    found = state.repos["prc_core"]
    assert status == 1
    assert found.error is not None
    assert (found.status, found.phase, found.error.code) == ("failed", "PUSHED", "PR_CONFLICT")
    assert found.error.message == (
        f"PR #{left.number} of run prc-old is open for prc_core ({left.html_url})"
    )
    assert [p["head_ref"] for p in rig.pulls("prc_core")] == [other]


def test_ctrl_c_during_the_ci_wait_stops_the_train_and_resume_finishes_it(rig: Rig) -> None:
    """SIGINT while MERGE waits for CI: the wait wakes, nothing is merged, tagged or
    published, the state says INTERRUPTED, the exact resume command is printed, exit 130;
    `resume` then completes the release."""
    config = rig.config("signal")
    rig.push("sig_core", "fix: something to release")
    rig.admin.set_ci("sig_core", duration=15.0)
    args = ("release", "sig_core", "--yes", "--run-id", "sig-1")
    try:
        with rig.running(*args, until="waiting for checks", config=config) as run:
            os.killpg(run.process.pid, signal.SIGINT)  # as Ctrl-C: the whole process group
            sent = time.monotonic()
            status = run.process.wait(timeout=SIGNAL_EXIT)
            took = time.monotonic() - sent
            [pull] = rig.pulls("sig_core")
            tags = rig.repo_snapshot("sig_core")["tags"]
    finally:
        rig.admin.set_ci("sig_core", duration=CI_SECONDS)

    assert (pull["state"], pull["merged"]) == ("open", False), run.output
    assert "sig_core/v1.0.1" not in tags
    assert status == 130, run.output
    assert took < 10.0, run.output
    assert "SIGINT: stopping the train" in run.output
    resume = f"release-train resume sig-1 --config {config}"
    assert f"interrupted by SIGINT: no step was started after it; resume with: {resume}\n" in (
        run.output
    )
    stopped = rig.state("sig-1").repos["sig_core"]
    assert stopped.error is not None
    assert (stopped.phase, stopped.error.code) == ("PR_CREATED", "INTERRUPTED")
    assert stopped.error.message.startswith("interrupted by SIGINT before the end of the wait")

    resumed = rig.cli("resume", "sig-1", config=config)

    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    [merged] = rig.pulls("sig_core")
    assert merged["merged"] and merged["number"] == pull["number"]
    assert "sig_core/v1.0.1" in rig.repo_snapshot("sig_core")["tags"]
    assert rig.state("sig-1").status == "success"


def test_a_second_ctrl_c_exits_at_once_with_the_state_intact(rig: Rig) -> None:
    """The first SIGINT waits for the call in flight (here the pause hook, which never ends);
    the second exits at once, 130, and the state on disk is a complete, valid state."""
    config = rig.config("signal")
    rig.push("sig_core", "fix: something else to release")
    args = ("release", "sig_core", "--yes", "--run-id", "sig-2")
    with rig.paused(*args, after="sig_core:COMMITTED", config=config) as run:
        os.killpg(run.process.pid, signal.SIGINT)
        time.sleep(1.0)  # a real process, not a clock: it must still be there
        alive_after_first = run.process.poll() is None
        os.killpg(run.process.pid, signal.SIGINT)
        status = run.process.wait(timeout=SIGNAL_EXIT)

    assert alive_after_first, run.output
    assert status == 130, run.output
    assert "SIGINT again: exiting now; the state is as last recorded." in run.output
    text = Path(rig.state_dir / "sig-2.json").read_text(encoding="utf-8")
    state = RunState.model_validate_json(text)
    assert state.repos["sig_core"].phase == "COMMITTED"
    assert not [p.name for p in rig.state_dir.glob(".*.tmp")]


def test_ctrl_c_stops_every_thread_of_a_parallel_train(rig: Rig) -> None:
    """With --max-parallel 2 both repos wait for CI in worker threads while the signal lands
    in the main thread: both waits end, neither PR is merged, exit 130."""
    config = rig.config("parallel")
    for repo in ("par_one", "par_two"):
        rig.push(repo, "fix: something to release")
        rig.admin.set_ci(repo, duration=15.0)
    args = ("release", "--all", "--yes", "--run-id", "par-1", "--max-parallel", "2")
    try:
        with rig.running(*args, until="waiting for checks", config=config) as run:
            deadline = time.monotonic() + SIGNAL_EXIT
            while run.output.count("waiting for checks") < 2 and time.monotonic() < deadline:
                time.sleep(0.1)
            os.killpg(run.process.pid, signal.SIGINT)
            status = run.process.wait(timeout=SIGNAL_EXIT)
            pulls = [p for r in ("par_one", "par_two") for p in rig.pulls(r)]
    finally:
        for repo in ("par_one", "par_two"):
            rig.admin.set_ci(repo, duration=CI_SECONDS)

    assert [(p["state"], p["merged"]) for p in pulls] == [("open", False)] * 2, run.output
    assert status == 130, run.output
    state = rig.state("par-1")
    codes = {name: r.error.code if r.error else None for name, r in state.repos.items()}
    assert codes == {"par_one": "INTERRUPTED", "par_two": "INTERRUPTED"}
