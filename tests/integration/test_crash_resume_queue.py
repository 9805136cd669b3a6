"""Crash safety on the merge-queue path (issue 15, item 3): SIGKILL around each enqueue.

The sample family is released where omnibase_core and omniintelligence merge only through
their queue. For each of them the harness kills the CLI (and all it started) once its PR
is recorded, right after the enqueue (nothing recorded of it yet), while the entry waits
for its merge_group checks, once MERGED is recorded and once TAGGED is; then it resumes
until the run succeeds. Every repo must end with one PR, one merge, and its tag on the
merge commit GitHub recorded for that PR (the queue's, for the two).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from release_train.adapters.store import local_store
from release_train.runs import load_run
from release_train.sandbox.control import Sandbox

from .crash_harness import Crasher, cli_for

RUN_ID = "crash-queue"
QUEUED = ("omnibase_core", "omniintelligence")
# While the attempts are killed around the enqueue, the merge group's checks cannot finish,
# however long those attempts take to start; then a quick re-run lets the queue merge.
HELD_SECONDS = 600.0
CI_SECONDS = 1.0


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_sigkill_around_each_enqueue_resumes_to_one_merge_per_repo(tmp_path: Path) -> None:
    with Sandbox.start(tmp_path / "world") as world, cli_for(world, RUN_ID) as cli:
        admin = world.github.admin()
        for queued in QUEUED:
            admin.require_merge_queue(queued, "main", merge_method="SQUASH")
        crasher = Crasher(cli)
        for queued in QUEUED:
            crasher.kill_at((queued, "PR_CREATED"))
            admin.set_ci(queued, duration=HELD_SECONDS)  # the PR's own CI ran at the push
            crasher.kill_on((queued, "MERGED"), "added to the merge queue")
            crasher.kill_on((queued, "MERGED"), "in the merge queue: position")
            admin.set_ci(queued, duration=CI_SECONDS)
            refs = admin.snapshot()["repos"][queued]["refs"]
            [group] = [sha for ref, sha in refs.items() if "gh-readonly-queue" in ref]
            admin.rerun_ci(queued, group)
            crasher.kill_at((queued, "MERGED"))
            crasher.kill_at((queued, "TAGGED"))
        crasher.finish()
        state, _, _ = load_run(local_store(cli.state_dir), RUN_ID)
        snapshot = admin.snapshot()
        enqueued = [line for a in cli.attempts for line in a.lines if "added to the merge" in line]

    assert crasher.failures == [] and crasher.missed_pauses == []
    assert len(crasher.kills) == 5 * len(QUEUED)
    assert {repo.status for repo in state.repos.values()} == {"done"}
    for name, repo in state.repos.items():
        [pull] = [p for p in snapshot["pulls"] if p["repo"] == name]
        assert (pull["merged"], pull["head_sha"]) == (True, repo.release_commit)
        assert repo.merge_sha == repo.tag_sha == pull["merge_commit_sha"]
        assert snapshot["repos"][name]["tags"][repo.tag] == repo.merge_sha
        assert len([m for m in snapshot["merges"] if m["repo"] == name]) == 1
    # One enqueue per queue repo: every later attempt found the entry or the merge.
    assert sorted(line.split()[0] for line in enqueued) == sorted(QUEUED)
