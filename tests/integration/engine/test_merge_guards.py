"""MERGE's guards (issue 12, items 1 and 2): nothing unreviewed ships, nothing merges untested.

Each test says what the engine did before and why the test fails on that behaviour.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from github import Auth, Github

from release_train.console import ConsoleProgress
from release_train.core.state import RepoState
from release_train.sandbox.control import PROTECTED_CHECKS

from .conftest import CI_SECONDS, FAST_WAITS, Rig

DEFAULT_CI: dict[str, Any] = {
    "conclusion": "success",
    "duration": CI_SECONDS,
    "checks": ["test"],
    "required": list(PROTECTED_CHECKS),
    "ruleset": [],
    "protection_readable": True,
    "late": {},
    "failing": [],
}


@pytest.fixture
def ci(rig: Rig) -> Iterator[Any]:
    """`ci(repo, **settings)` changes a lane repo's CI for one test; it is reset afterwards."""
    changed: list[str] = []

    def change(repo: str, **settings: Any) -> None:
        changed.append(repo)
        rig.admin.set_ci(repo, **settings)

    yield change
    for repo in changed:
        rig.admin.set_ci(repo, **DEFAULT_CI)


class PushToMainWhileWaiting(ConsoleProgress):
    """Someone merges to `main` of `repo` once MERGE starts waiting for the PR's checks."""

    def __init__(self, rig: Rig, repo: str) -> None:
        super().__init__()
        self.rig, self.repo = rig, repo
        self.pushed: list[str] = []

    def waiting(self, repo: str, what: str) -> None:
        super().waiting(repo, what)
        if repo == self.repo and what.startswith("checks of PR") and not self.pushed:
            self.pushed.append(self.rig.push(repo, "feat: merged while the release PR waits"))


def _pull(rig: Rig, repo: RepoState) -> dict[str, Any]:
    [pull] = [p for p in rig.pulls(repo.repo) if p["head_ref"] == repo.branch]
    return pull


def _assert_unmerged(rig: Rig, repo: RepoState, main: str) -> None:
    """The PR is open, main is where it was, no tag: the refused merge left no trace."""
    pull = _pull(rig, repo)
    assert (pull["state"], pull["merged"]) == ("open", False)
    server = rig.repo_snapshot(repo.repo)
    assert server["branches"]["main"] == main
    assert repo.tag not in server["tags"]
    assert repo.merge_sha is None and repo.tag_sha is None
    assert (repo.status, repo.phase) == ("failed", "PR_CREATED")


def test_a_commit_pushed_to_main_during_the_ci_wait_is_base_moved_until_replanned(
    rig: Rig, ci: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before, MERGE checked only the PR's head: a commit merged to main while the release
    PR waited for CI was swept into the squash merge, so the tag and the wheel held a
    commit nobody approved and the changelog never named. Now MERGE compares main with the
    plan's base and refuses BASE_MOVED, naming the commit; a resume refuses again."""
    config = rig.config("moved")
    rig.push("mvd_core", "fix: worth a release")
    ci("mvd_core", duration=3.0)  # still pending when the wait starts, even under load
    progress = PushToMainWhileWaiting(rig, "mvd_core")

    status, state = rig.release(config, "mvd-1", progress=progress)

    out = capsys.readouterr().out
    assert status == 1, out
    [foreign] = progress.pushed
    repo = state.repos["mvd_core"]
    assert repo.error is not None and repo.error.code == "BASE_MOVED", out
    assert repo.error.step == "MERGE"
    assert f"{foreign[:7]} feat: merged while the release PR waits" in repo.error.message
    assert repo.base[:12] in repo.error.message
    assert "release-train release mvd_core" in (repo.error.hint or "")
    assert repo.pr_url is not None and repo.pr_url in (repo.error.hint or "")
    assert repo.release_commit is not None and repo.pr_number is not None
    _assert_unmerged(rig, repo, foreign)

    again, resumed = rig.resume(config, "mvd-1")

    assert again == 1, capsys.readouterr().out
    repo = resumed.repos["mvd_core"]
    assert repo.error is not None and repo.error.code == "BASE_MOVED"
    _assert_unmerged(rig, repo, foreign)
    assert [m for m in rig.admin.snapshot()["merges"] if m["repo"] == "mvd_core"] == []


def test_a_release_pr_merged_by_hand_after_main_moved_is_merged_unplanned_not_tagged(
    rig: Rig, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before, TAG tagged whatever merge commit GitHub recorded: a release PR merged by hand
    once main had moved (like a push racing the merge, or a queue entry landing ahead of the
    release) put a commit nobody approved under the tag and into the package. Now TAG
    compares the merge commit's tree with the release commit's and refuses MERGED_UNPLANNED,
    naming what else landed; tagging the merge by hand, as the hint says, ships it."""
    config = rig.config("handmerge")
    rig.push("hmg_core", "fix: worth a release")
    start = ("release", "hmg_core", "--yes", "--run-id", "hmg-1")
    with rig.paused(*start, after="hmg_core:PR_CREATED", config=config):
        pass  # stopped with the PR open
    foreign = rig.push("hmg_core", "feat: landed after the plan")
    number = rig.state("hmg-1").repos["hmg_core"].pr_number
    assert number is not None
    gh = Github(base_url=rig.world.github.api_url, auth=Auth.Token(rig.world.github.token))
    try:
        remote = gh.get_repo(f"{rig.world.owner}/hmg_core")
        merged = remote.get_pull(number).merge(merge_method="squash")  # by hand, on the new main
        assert merged.merged

        status, state = rig.resume(config, "hmg-1")

        assert status == 1, capsys.readouterr().out
        repo = state.repos["hmg_core"]
        assert repo.error is not None and repo.error.code == "MERGED_UNPLANNED", repo.error
        assert repo.error.step == "TAG"
        assert (repo.phase, repo.merge_sha) == ("MERGED", merged.sha)
        assert f"{foreign[:7]} feat: landed after the plan" in repo.error.message
        assert f"git tag {repo.tag} {merged.sha}" in (repo.error.hint or "")
        assert repo.tag not in rig.repo_snapshot("hmg_core")["tags"]

        remote.create_git_ref(f"refs/tags/{repo.tag}", merged.sha)  # the engineer's choice
        again, resumed = rig.resume(config, "hmg-1")
    finally:
        gh.close()

    assert again == 0, capsys.readouterr().out
    repo = resumed.repos["hmg_core"]
    assert (repo.status, repo.phase, repo.tag_sha) == ("done", "DONE", merged.sha)


def test_a_repo_without_ci_is_no_checks_unless_allowed(
    rig: Rig, ci: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before, a repo whose CI reported nothing at all merged as if green. Now, with no
    required checks to wait for, MERGE waits out the grace period and refuses NO_CHECKS;
    with `allow_no_checks = true` the resumed run merges it."""
    ci("nck_core", conclusion="none", required=[])
    rig.push("nck_core", "fix: worth a release")

    status, state = rig.release(
        rig.config("nochecks", settings={"checks_grace_seconds": 1}), "nck-1"
    )

    assert status == 1, capsys.readouterr().out
    repo = state.repos["nck_core"]
    assert repo.error is not None and repo.error.code == "NO_CHECKS"
    assert "allow_no_checks" in (repo.error.hint or "")
    _assert_unmerged(rig, repo, rig.repo_snapshot("nck_core")["branches"]["main"])

    allowed = {"checks_grace_seconds": 1, "allow_no_checks": True}
    again, resumed = rig.resume(rig.config("nochecks", settings=allowed), "nck-1")

    assert again == 0, capsys.readouterr().out
    repo = resumed.repos["nck_core"]
    assert (repo.status, repo.phase) == ("done", "DONE")
    assert _pull(rig, repo)["merged"] is True


def test_a_check_that_registers_late_and_fails_is_ci_failed(
    rig: Rig, ci: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before, MERGE merged on the first poll that saw only green checks: a check that
    registered a moment later (normal on GitHub) was skipped, and failed on the merged head.
    Now, without required checks, green counts only after the grace period, so the late
    `e2e` check is seen failing: CI_FAILED, not merged."""
    ci("late_core", checks=["lint", "e2e"], late={"e2e": 1.5}, failing=["e2e"], required=[])
    rig.push("late_core", "fix: worth a release")
    main = rig.repo_snapshot("late_core")["branches"]["main"]

    status, state = rig.release(rig.config("late", settings={"checks_grace_seconds": 3}), "late-1")

    assert status == 1, capsys.readouterr().out
    repo = state.repos["late_core"]
    assert repo.error is not None and repo.error.code == "CI_FAILED"
    assert "'e2e'" in repo.error.message
    _assert_unmerged(rig, repo, main)


def test_a_check_that_registers_late_and_passes_is_merged_after_the_grace_period(
    rig: Rig, ci: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """The grace period delays an unprotected repo's merge, it does not refuse it: MERGE
    says what it waits for, sees the late `e2e` check green as well, and merges. Before,
    it merged on the first poll, before `e2e` existed, and said nothing."""
    ci("lgr_core", checks=["lint", "e2e"], late={"e2e": 1.0}, required=[])
    rig.push("lgr_core", "fix: worth a release")

    status, state = rig.release(
        rig.config("lategreen", settings={"checks_grace_seconds": 2}), "lgr-1"
    )

    out = capsys.readouterr().out
    assert status == 0, out
    assert "waiting for checks of PR #1 (2 s for late checks to register)" in out
    repo = state.repos["lgr_core"]
    assert (repo.status, repo.phase) == ("done", "DONE")
    assert _pull(rig, repo)["merged"] is True
    runs = [c for c in rig.admin.snapshot()["check_runs"] if c["sha"] == repo.release_commit]
    assert sorted((c["name"], c["conclusion"]) for c in runs) == [
        ("e2e", "success"),
        ("lint", "success"),
    ]


@pytest.mark.parametrize(
    "rules",
    [
        {"required": ["test", "deploy/preview"]},
        # The protection is hidden from the token; the ruleset still says what to wait for.
        {"required": ["test"], "protection_readable": False, "ruleset": ["deploy/preview"]},
    ],
    ids=["branch-protection", "ruleset"],
)
def test_a_required_check_that_never_reports_is_ci_timeout_naming_it(
    rig: Rig, ci: Any, capsys: pytest.CaptureFixture[str], rules: dict[str, Any]
) -> None:
    """Before, MERGE waited only for the checks it saw: `test` went green, the merge call
    met the branch rule's missing `deploy/preview` and failed MERGE_FAILED with GitHub's 405.
    Now MERGE reads the required checks and waits for each one: CI_TIMEOUT naming it."""
    ci("req_core", **rules)
    rig.push("req_core", f"fix: worth a release under {' and '.join(sorted(rules))}")
    main = rig.repo_snapshot("req_core")["branches"]["main"]

    run_id = "req-ruleset" if "ruleset" in rules else "req-protection"
    status, state = rig.release(
        rig.config("required"), run_id, waits=replace(FAST_WAITS, ci_timeout=2.0)
    )

    assert status == 1, capsys.readouterr().out
    repo = state.repos["req_core"]
    assert repo.error is not None and repo.error.code == "CI_TIMEOUT", repo.error
    assert "deploy/preview" in repo.error.message
    _assert_unmerged(rig, repo, main)
