"""The sample family released where two repos' main requires a merge queue (issue 15).

Six repos, upstreams first: omnibase_core and omniintelligence merge only through their
queue, the others through REST. One `release --all` must leave every repo done, one PR
per repo, and each queue repo's tag on the merge commit its queue made.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from release_train.sandbox.control import Sandbox

from .sample_release import release_all, run_state

RUN_ID = "queued-train"
QUEUED = ("omnibase_core", "omniintelligence")


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_the_sample_family_releases_through_two_merge_queues(tmp_path: Path) -> None:
    with Sandbox.start(tmp_path / "world") as world:
        admin = world.github.admin()
        for queued in QUEUED:
            admin.require_merge_queue(queued, "main", merge_method="SQUASH")

        done = release_all(world, RUN_ID)
        assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
        state = run_state(world, RUN_ID)
        snapshot = admin.snapshot()

    assert {repo.status for repo in state.repos.values()} == {"done"}
    assert set(QUEUED) <= set(state.repos)
    for name, repo in state.repos.items():
        [pull] = [p for p in snapshot["pulls"] if p["repo"] == name]
        assert (pull["merged"], pull["head_sha"]) == (True, repo.release_commit)
        assert repo.merge_sha == pull["merge_commit_sha"]
        assert snapshot["repos"][name]["tags"][repo.tag] == repo.merge_sha
        assert len([m for m in snapshot["merges"] if m["repo"] == name]) == 1
    for name in QUEUED:
        assert f"  {name:<18} PR #{state.repos[name].pr_number} added to the merge queue" in (
            done.stdout
        )
