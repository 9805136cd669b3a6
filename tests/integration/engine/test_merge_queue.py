"""MERGE through a merge queue (issue 15): the queue lands the release commit, TAG tags the
queue's merge commit, a removal is a coded error, and crashes or lost answers around the
enqueue leave one PR, one merge and the tag where it belongs.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from github import Auth, Github

from release_train.adapters import github_graphql as graphql
from release_train.adapters.github import GitHub
from release_train.console import ConsoleProgress
from release_train.core.state import RepoState
from release_train.sandbox.control import PROTECTED_CHECKS

from .conftest import CI_SECONDS, FAST_WAITS, Rig

QUEUED = ("mq_core", "mq_app")  # mq_mid, between them, merges through REST
ADDED = "added to the merge queue"
IN_QUEUE = "in the merge queue: position"
DEFAULT_CI: dict[str, Any] = {
    "conclusion": "success",
    "duration": CI_SECONDS,
    "required": list(PROTECTED_CHECKS),
    "failing": [],
}


@pytest.fixture
def queues(rig: Rig) -> Iterator[Any]:
    """`queues(*repos, delay=...)` requires a merge queue on their main for one test."""
    required: list[str] = []

    def require(*repos: str, delay: float | None = None) -> None:
        for repo in repos:
            required.append(repo)
            rig.admin.require_merge_queue(repo, "main", merge_method="SQUASH", delay=delay)

    yield require
    for repo in required:
        rig.admin.set_rules(repo, [])
        rig.admin.set_ci(repo, **DEFAULT_CI)


def _landed_by_queue(rig: Rig, repo: RepoState) -> None:
    """One PR, merged once; the tag, main and the state all at the PR's merge commit."""
    [pull] = rig.pulls(repo.repo)
    assert (pull["state"], pull["merged"], pull["head_sha"]) == (
        "closed",
        True,
        repo.release_commit,
    )
    merges = [m for m in rig.admin.snapshot()["merges"] if m["repo"] == repo.repo]
    assert len(merges) == 1
    server = rig.repo_snapshot(repo.repo)
    assert repo.merge_sha == pull["merge_commit_sha"] == server["branches"]["main"]
    assert server["tags"][repo.tag] == repo.merge_sha
    assert (repo.status, repo.phase) == ("done", "DONE")


def test_two_repos_behind_merge_queues_release_end_to_end(
    rig: Rig, queues: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before, MERGE's REST merge was refused (405) on a queue branch and the preflight
    refused the release. Now both queue repos are enqueued and merged by the queue, the
    one between them merges through REST, and each tag is on the queue's merge commit."""
    for repo in ("mq_core", "mq_mid", "mq_app"):
        rig.push(repo, f"fix: worth a release of {repo}")
    queues(*QUEUED)

    status, state = rig.release(rig.config("queue"), "mq-1")

    out = capsys.readouterr().out
    assert status == 0, out
    for name in ("mq_core", "mq_mid", "mq_app"):
        _landed_by_queue(rig, state.repos[name])
    assert f"  mq_core            PR #{state.repos['mq_core'].pr_number} {ADDED}" in out
    assert "mq_mid             PR #" not in out  # no queue there: nothing enqueued
    # The queue builds its merge group on main: the REST merge was never what merged.
    queue_refs = [r for r in rig.repo_snapshot("mq_core")["refs"] if "gh-readonly-queue" in r]
    assert queue_refs == []  # the queue cleans up its merge group ref once it merged


class AfterTheEnqueue(ConsoleProgress):
    """Changes `repo`'s CI right after the enqueue: the PR's own checks were green, the
    queue's `merge_group` run (built after the queue's delay) gets `ci`."""

    def __init__(self, rig: Rig, repo: str, **ci: Any) -> None:
        super().__init__()
        self.rig, self.repo, self.ci = rig, repo, ci

    def note(self, repo: str | None, message: str) -> None:
        super().note(repo, message)
        if repo == self.repo and message.endswith(ADDED):
            self.rig.admin.set_ci(repo, **self.ci)


def fail_the_merge_group(rig: Rig, repo: str) -> AfterTheEnqueue:
    return AfterTheEnqueue(rig, repo, conclusion="failure")


def test_a_failing_merge_group_check_is_merge_queue_removed_and_resume_completes(
    rig: Rig, queues: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """A merge_group check that fails removes the entry: the repo stops with
    MERGE_QUEUE_REMOVED and the queue's reason, nothing merged or tagged; once the check is
    green, resume enqueues the same release commit again and completes."""
    rig.push("mqf_core", "fix: worth a release")
    queues("mqf_core", delay=1.0)
    config = rig.config("queuefail")

    status, state = rig.release(config, "mqf-1", progress=fail_the_merge_group(rig, "mqf_core"))

    assert status == 1, capsys.readouterr().out
    repo = state.repos["mqf_core"]
    assert repo.error is not None and repo.error.code == "MERGE_QUEUE_REMOVED"
    assert repo.error.step == "MERGE"
    assert repo.error.message == (
        f"the merge queue removed PR #{repo.pr_number} without merging it: "
        'The merge group failed the required status check "test".'
    )
    assert "then resume; it enqueues the release commit again" in (repo.error.hint or "")
    [pull] = rig.pulls("mqf_core")
    assert (pull["state"], pull["merged"]) == ("open", False)
    assert repo.tag not in rig.repo_snapshot("mqf_core")["tags"]
    assert (repo.status, repo.phase, repo.merge_sha) == ("failed", "PR_CREATED", None)

    rig.admin.set_ci("mqf_core", conclusion="success")
    again, resumed = rig.resume(config, "mqf-1")

    assert again == 0, capsys.readouterr().out
    _landed_by_queue(rig, resumed.repos["mqf_core"])


def _group_sha(rig: Rig, repo: str) -> str:
    refs: dict[str, str] = rig.repo_snapshot(repo)["refs"]
    [sha] = [sha for ref, sha in refs.items() if "gh-readonly-queue" in ref]
    return sha


@pytest.mark.slow
def test_sigkill_around_the_enqueue_and_the_merge_leaves_one_pr_one_merge(
    rig: Rig, queues: Any
) -> None:
    """SIGKILL at each boundary around the queue: before MERGE, right after the enqueue
    (before anything is recorded), while the entry waits for its merge_group checks, and
    after MERGED. Each resume finds the entry instead of enqueuing again; the end is one
    PR, one merge, the tag on the queue's merge commit."""
    rig.push("mqc_core", "fix: worth a release")
    queues("mqc_core")
    config = rig.config("queuecrash")
    start = ("release", "mqc_core", "--yes", "--run-id", "mqc-1")

    with rig.paused(*start, after="mqc_core:PR_CREATED", config=config):
        pass  # killed with the PR open, before MERGE
    # The merge group's checks stay pending until the test lets them finish.
    rig.admin.set_ci("mqc_core", duration=600.0)
    with rig.running("resume", "mqc-1", until=ADDED, config=config):
        pass  # killed between the enqueue and any record of it
    with rig.running("resume", "mqc-1", until=IN_QUEUE, config=config) as waiting:
        pass  # killed while the entry waits for its checks
    assert ADDED not in waiting.output  # the entry was found, not enqueued again
    rig.admin.set_ci("mqc_core", duration=CI_SECONDS)
    rig.admin.rerun_ci("mqc_core", _group_sha(rig, "mqc_core"))
    with rig.paused("resume", "mqc-1", after="mqc_core:MERGED", config=config):
        pass  # killed once the merge commit is recorded

    done = rig.cli("resume", "mqc-1", config=config)

    assert done.returncode == 0, done.stdout + done.stderr
    _landed_by_queue(rig, rig.state("mqc-1").repos["mqc_core"])


def test_lost_answers_to_the_enqueue_are_found_in_the_queue(
    rig: Rig, queues: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """The enqueue took effect but its answer was lost (a dropped connection, then a 502):
    the retried mutation finds the PR already queued, and the release completes with one
    entry, one merge and the tag on the queue's merge commit."""
    rig.push("mqd_core", "fix: worth a release")
    queues("mqd_core")
    rig.admin.add_fault("drop", count=1, phase="after", graphql="enqueuePullRequest")
    rig.admin.add_fault("error", count=1, status=502, phase="after", graphql="enqueuePullRequest")
    try:
        status, state = rig.release(rig.config("queuefault"), "mqd-1")
        assert rig.admin.faults() == []  # both fired (a count rule leaves once spent)
    finally:
        rig.admin.clear_faults()

    assert status == 0, capsys.readouterr().out
    _landed_by_queue(rig, state.repos["mqd_core"])


class RequireAQueueWhileWaiting(ConsoleProgress):
    """Requires a merge queue on `repo`'s main once MERGE waits for the PR's checks: after
    MERGE read the branch's rules, before its REST merge."""

    def __init__(self, require: Any, repo: str) -> None:
        super().__init__()
        self.require, self.repo = require, repo
        self.required = False

    def waiting(self, repo: str, what: str) -> None:
        super().waiting(repo, what)
        if repo == self.repo and what.startswith("checks of PR") and not self.required:
            self.required = True
            self.require(repo)


def test_a_queue_required_after_merge_read_the_rules_is_used_not_a_failure(
    rig: Rig, queues: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """The REST merge answers 405 "Changes must be made through the merge queue" when a
    queue appeared after MERGE read the rules: MERGE enqueues instead of failing."""
    rig.push("mql_core", "fix: worth a release")
    rig.admin.set_ci("mql_core", duration=3.0)  # still pending when the wait starts, under load too
    progress = RequireAQueueWhileWaiting(queues, "mql_core")

    status, state = rig.release(rig.config("queuelate"), "mql-1", progress=progress)

    out = capsys.readouterr().out
    assert status == 0, out
    assert progress.required
    repo = state.repos["mql_core"]
    merge_path = f"/api/v3/repos/{rig.world.owner}/mql_core/pulls/{repo.pr_number}/merge"
    answers = [r["status"] for r in rig.admin.requests() if r["path"] == merge_path]
    assert answers == [405]  # the REST merge was tried once, refused, and not retried
    assert f"  mql_core           PR #{repo.pr_number} {ADDED}" in out
    _landed_by_queue(rig, repo)


def _queue_someone_elses_pull(rig: Rig, repo: str) -> tuple[GitHub, str, int]:
    """Someone's feature PR into main of `repo`, enqueued: (adapter, PR node id, number)."""
    main = rig.repo_snapshot(repo)["branches"]["main"]
    gh = Github(base_url=rig.world.github.api_url, auth=Auth.Token(rig.world.github.token))
    server = gh.get_repo(f"{rig.world.owner}/{repo}")
    server.create_git_ref("refs/heads/feature", main)
    rig.push(repo, "feat: someone's feature", branch="feature")
    number = server.create_pull(base="main", head="feature", title="A feature", body="").number
    hub = GitHub(rig.world.github.api_url, rig.world.github.token, rig.world.owner)
    state = graphql.pull_state(hub, repo, number)
    assert graphql.enqueue(hub, repo, state.id, state.head) is not None
    return hub, state.id, number


def test_a_pull_queued_ahead_is_base_moved_and_resume_completes_once_it_left(
    rig: Rig, queues: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """The queue builds each merge group on the entries ahead: a PR queued before the
    release would land first, inside the tagged release, unplanned. MERGE refuses
    BASE_MOVED naming it and enqueues nothing; once the queue is empty, resume completes."""
    rig.push("mqa_core", "fix: worth a release")
    queues("mqa_core", delay=40.0)  # the other entry stays QUEUED while MERGE looks
    hub, other, number = _queue_someone_elses_pull(rig, "mqa_core")
    config = rig.config("queueahead")

    status, state = rig.release(config, "mqa-1")

    assert status == 1, capsys.readouterr().out
    repo = state.repos["mqa_core"]
    assert repo.error is not None and repo.error.code == "BASE_MOVED"
    assert repo.error.message == (
        f"the merge queue of main holds #{number}: the queue would land it first, into the "
        "release, unplanned"
    )
    assert repo.pr_number is not None
    assert graphql.pull_state(hub, "mqa_core", repo.pr_number).entry is None

    graphql.dequeue(hub, "mqa_core", other)
    queues("mqa_core", delay=0.0)
    again, resumed = rig.resume(config, "mqa-1")

    assert again == 0, capsys.readouterr().out
    [release_pull] = [p for p in rig.pulls("mqa_core") if p["number"] == repo.pr_number]
    assert release_pull["merged"] is True
    merged = resumed.repos["mqa_core"]
    assert rig.repo_snapshot("mqa_core")["tags"][merged.tag] == merged.merge_sha
    assert merged.merge_sha == release_pull["merge_commit_sha"]


def test_a_queue_slower_than_the_bound_is_ci_timeout_and_resume_waits_on_the_entry(
    rig: Rig, queues: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """The wait for the queue is bounded: CI_TIMEOUT names the entry's position and
    state, and the entry stays queued; resume waits on it again (no second enqueue) and
    records the queue's merge commit once its checks pass."""
    rig.push("mqs_core", "fix: worth a release")
    queues("mqs_core", delay=1.0)
    config = rig.config("queueslow")
    hold = AfterTheEnqueue(rig, "mqs_core", duration=600.0)  # merge_group checks pend

    status, state = rig.release(
        config, "mqs-1", waits=replace(FAST_WAITS, ci_timeout=3.0), progress=hold
    )

    assert status == 1, capsys.readouterr().out
    repo = state.repos["mqs_core"]
    assert repo.error is not None and repo.error.code == "CI_TIMEOUT"
    assert repo.error.message.startswith(
        f"PR #{repo.pr_number} still in the merge queue after 3 s (position 1, "
    )
    assert repo.error.hint is not None and repo.error.hint.startswith("the entry stays queued")
    assert repo.pr_number is not None
    hub = GitHub(rig.world.github.api_url, rig.world.github.token, rig.world.owner)
    assert graphql.pull_state(hub, "mqs_core", repo.pr_number).entry is not None

    rig.admin.set_ci("mqs_core", duration=CI_SECONDS)
    rig.admin.rerun_ci("mqs_core", _group_sha(rig, "mqs_core"))
    capsys.readouterr()
    again, resumed = rig.resume(config, "mqs-1")

    out = capsys.readouterr().out
    assert again == 0, out
    assert ADDED not in out  # waited on the entry it left, not enqueued again
    _landed_by_queue(rig, resumed.repos["mqs_core"])


def test_resume_after_a_removal_does_not_enqueue_a_closed_pull(
    rig: Rig, queues: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """Resume enqueues again only while the PR is open at the release commit: a PR
    closed after the queue removed it is MERGE_FAILED, and nothing is enqueued."""
    rig.push("mqx_core", "fix: worth a release")
    queues("mqx_core", delay=1.0)
    config = rig.config("queueclosed")
    status, state = rig.release(config, "mqx-1", progress=fail_the_merge_group(rig, "mqx_core"))
    repo = state.repos["mqx_core"]
    assert status == 1 and repo.error is not None, capsys.readouterr().out
    assert repo.error.code == "MERGE_QUEUE_REMOVED"
    gh = Github(base_url=rig.world.github.api_url, auth=Auth.Token(rig.world.github.token))
    assert repo.pr_number is not None
    gh.get_repo(f"{rig.world.owner}/mqx_core").get_pull(repo.pr_number).edit(state="closed")
    rig.admin.set_ci("mqx_core", conclusion="success")

    again, resumed = rig.resume(config, "mqx-1")

    assert again == 1, capsys.readouterr().out
    failed = resumed.repos["mqx_core"]
    assert failed.error is not None and failed.error.code == "MERGE_FAILED"
    assert failed.error.message == (
        f"PR #{repo.pr_number} is closed, not open: it cannot be enqueued"
    )
    [pull] = rig.pulls("mqx_core")
    assert (pull["state"], pull["merged"]) == ("closed", False)
    assert repo.tag not in rig.repo_snapshot("mqx_core")["tags"]
