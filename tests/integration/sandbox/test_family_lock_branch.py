"""The family lock on the state branch (issue 12, item 3): `locks/<owner>.json` by the contents
API's compare-and-swap, so two trains on two machines cannot both hold the family."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime

from release_train.adapters.branch_store import BranchStore
from release_train.errors import ErrorCode, ReleaseError
from release_train.family_lock import Trains
from tests.integration.sandbox.test_github_fixtures import OWNER, REPO, World, gh_world

__all__ = ["gh_world"]

BRANCH = "release-train-state"
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
ACTIONS = {
    "GITHUB_ACTOR": "octo",
    "GITHUB_SERVER_URL": "https://github.example",
    "GITHUB_REPOSITORY": f"{OWNER}/{REPO}",
    "GITHUB_RUN_ID": "4001",
    "GITHUB_RUN_ATTEMPT": "1",
}


def machine(world: World, host: str, env: dict[str, str] | None = None) -> Trains:
    """Another machine's view: its own client, its own host name, nothing remembered."""
    store = BranchStore(world.github().get_repo(f"{OWNER}/{REPO}"))
    return Trains(store, OWNER, env or {}, clock=lambda: NOW, host=host, pid=1)


def stored_lock(world: World) -> dict[str, object]:
    found = world.repo.get_contents(f"locks/{OWNER}.json", ref=BRANCH)
    assert not isinstance(found, list)
    loaded: dict[str, object] = json.loads(found.decoded_content)
    return loaded


def test_a_second_train_on_another_machine_is_family_locked(gh_world: World) -> None:
    machine(gh_world, "runner-1", ACTIONS).acquire("run-a")

    try:
        machine(gh_world, "laptop").acquire("run-b")
    except ReleaseError as exc:
        error = exc
    else:
        raise AssertionError("the second train took the family")

    assert error.code is ErrorCode.FAMILY_LOCKED
    assert error.message.startswith(
        f"family {OWNER} is locked: run run-a is releasing it (octo, "
        f"https://github.example/{OWNER}/{REPO}/actions/runs/4001, since 2026-12-01 10:00:00 UTC"
    )
    assert stored_lock(gh_world)["run_id"] == "run-a"
    assert "main" in gh_world.admin.snapshot()["repos"][REPO]["branches"]


def test_the_lock_is_left_unfinished_then_released_on_the_branch(gh_world: World) -> None:
    first = machine(gh_world, "runner-1", ACTIONS)
    lock = first.acquire("run-a")
    first.leave(lock, finished=False)
    assert stored_lock(gh_world)["hold"] == "unfinished"

    rerun = machine(gh_world, "runner-2", {**ACTIONS, "GITHUB_RUN_ATTEMPT": "2"})
    taken = rerun.acquire("run-a2")  # a re-run of the same Actions run carries the train on
    rerun.leave(taken, finished=True)

    assert (stored_lock(gh_world)["run_id"], stored_lock(gh_world)["hold"]) == (
        "run-a2",
        "released",
    )
    assert machine(gh_world, "laptop").acquire("run-b").run_id == "run-b"


def test_two_machines_racing_for_the_branch_lock_never_both_win(gh_world: World) -> None:
    racers = [machine(gh_world, f"runner-{n}") for n in range(4)]
    racers[0].store.runs()  # the state branch does not exist yet: both may try to make it
    start = threading.Barrier(len(racers))
    won: list[str] = []
    lost: list[ErrorCode] = []

    def race(n: int) -> None:
        start.wait()
        try:
            won.append(racers[n].acquire(f"run-{n}").run_id)
        except ReleaseError as exc:
            lost.append(exc.code)

    threads = [threading.Thread(target=race, args=(n,)) for n in range(len(racers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(won) == 1 and lost == [ErrorCode.FAMILY_LOCKED] * (len(racers) - 1)
    assert stored_lock(gh_world)["run_id"] == won[0]
