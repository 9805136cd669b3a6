"""`status` over the state-branch store: runs on the central repo's branch are listed too."""

from __future__ import annotations

from datetime import timedelta

from release_train import runs
from release_train.adapters.branch_store import BranchStore
from release_train.core import history
from release_train.core.state import RunStatus
from tests.core.test_summary import AT, partial_state
from tests.integration.sandbox.test_github_fixtures import OWNER, REPO, World, gh_world

__all__ = ["gh_world"]


def test_the_state_branch_lists_its_runs_newest_first(gh_world: World) -> None:
    store = BranchStore(gh_world.repo)
    older, newer = partial_state(), partial_state()
    older.run_id, newer.run_id = "release-20260224-aaaaaa", "release-20260225-bbbbbb"
    older.started_at, older.status = AT - timedelta(days=1), RunStatus.SUCCESS
    for state in (older, newer):
        store.create(state.run_id, state.model_dump_json(indent=2) + "\n")
    store.archive(older.run_id)

    listing = runs.list_runs(BranchStore(gh_world.github().get_repo(f"{OWNER}/{REPO}")))

    where = f"{OWNER}/{REPO}@release-train-state:"
    assert [(e.run_id, e.status, e.archived, e.location) for e in listing.runs] == [
        (newer.run_id, "partial", False, f"{where}runs/{newer.run_id}.json"),
        (older.run_id, "success", True, f"{where}runs/{older.run_id}.json"),
    ]
    assert (listing.runs[0].done, listing.runs[0].failed, listing.runs[0].blocked) == (1, 1, 4)
    assert history.runs_text(listing).splitlines()[0] == (
        f"Runs in branch release-train-state of {OWNER}/{REPO} (runs/<run-id>.json) (newest first)"
    )
