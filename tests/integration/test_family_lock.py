"""The family lock over the local store (issue 12, item 3): compare-and-swap, resume, takeover.

Real files in a temp dir; the clock and "is that pid alive" are injected, so expiry and dead
holders are tested without waiting or killing anything.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from release_train.adapters.store import LocalStore
from release_train.errors import ErrorCode, ReleaseError
from release_train.family_lock import Trains

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
ACTIONS = {
    "GITHUB_ACTOR": "octo",
    "GITHUB_SERVER_URL": "https://github.example",
    "GITHUB_REPOSITORY": "acme/central",
    "GITHUB_RUN_ID": "777",
    "GITHUB_RUN_ATTEMPT": "1",
}


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def trains(
    store: LocalStore,
    clock: Clock,
    *,
    env: dict[str, str] | None = None,
    pid: int = 100,
    host: str = "box",
    alive: bool = True,
) -> Trains:
    return Trains(
        store, "acme", env or {}, clock=clock, alive=lambda _pid: alive, host=host, pid=pid
    )


def refused(call: object) -> ReleaseError:
    assert callable(call)
    with pytest.raises(ReleaseError) as caught:
        call()
    return caught.value


def test_a_second_run_gets_family_locked_naming_the_first(tmp_path: Path) -> None:
    store, clock = LocalStore(tmp_path), Clock()
    first = trains(store, clock, env=ACTIONS).acquire("run-a")

    error = refused(lambda: trains(store, clock, pid=200).acquire("run-b"))

    assert error.code is ErrorCode.FAMILY_LOCKED
    assert error.message == (
        "family acme is locked: run run-a is releasing it (octo, "
        "https://github.example/acme/central/actions/runs/777, since 2026-12-01 10:00:00 UTC, "
        "lock expires 2026-12-01 16:00:00 UTC)"
    )
    document = json.loads((tmp_path / "locks" / "acme.json").read_text())
    assert document == json.loads(first.model_dump_json())
    assert (document["run_id"], document["hold"], document["actions_attempt"]) == (
        "run-a",
        "running",
        "1",
    )


def test_the_same_run_takes_its_own_lock_again_on_resume(tmp_path: Path) -> None:
    store, clock = LocalStore(tmp_path), Clock()
    first = trains(store, clock, pid=100, alive=False).acquire("run-a")
    clock.now += timedelta(hours=1)

    again = trains(store, clock, pid=300).acquire("run-a")

    assert (again.pid, again.created_at) == (300, first.created_at)
    assert again.expires_at == clock.now + timedelta(hours=6)


def test_a_dead_local_holder_is_reported_stale_and_unlock_frees_the_family(
    tmp_path: Path,
) -> None:
    store, clock = LocalStore(tmp_path), Clock()
    trains(store, clock, pid=100).acquire("run-a")  # then SIGKILLed: nobody left it
    dead = trains(store, clock, pid=200, alive=False)

    error = refused(lambda: dead.acquire("run-b"))
    assert "its process (pid 100 on box) is no longer running" in error.message
    assert error.hint is not None and "`release-train unlock run-a`" in error.hint
    assert refused(lambda: dead.unlock("run-b")).code is ErrorCode.FAMILY_LOCKED

    dead.unlock("run-a")

    assert dead.acquire("run-b").run_id == "run-b"


def test_unlock_refuses_while_the_holder_runs_here(tmp_path: Path) -> None:
    store, clock = LocalStore(tmp_path), Clock()
    trains(store, clock, pid=100).acquire("run-a")

    error = refused(lambda: trains(store, clock, pid=200, alive=True).unlock("run-a"))

    assert error.code is ErrorCode.RUN_IN_PROGRESS
    assert refused(lambda: trains(store, clock).unlock("run-z")).code is ErrorCode.FAMILY_LOCKED


def test_a_run_that_stops_unfinished_keeps_the_family_and_a_success_frees_it(
    tmp_path: Path,
) -> None:
    store, clock = LocalStore(tmp_path), Clock()
    first = trains(store, clock)
    with pytest.raises(KeyboardInterrupt), first.holding("run-a"):
        raise KeyboardInterrupt

    error = refused(lambda: trains(store, clock, host="other").acquire("run-b"))
    assert error.message.startswith("family acme is locked: run run-a stopped unfinished")

    with first.holding("run-a") as holding:
        holding.free = True

    assert trains(store, clock, host="other").acquire("run-b").run_id == "run-b"


def test_an_expired_lock_is_taken_over_only_by_a_rerun_of_its_actions_run(
    tmp_path: Path,
) -> None:
    store, clock = LocalStore(tmp_path), Clock()
    trains(store, clock, env=ACTIONS, host="runner-1").acquire("run-a")
    rerun = {**ACTIONS, "GITHUB_RUN_ATTEMPT": "2"}
    stranger = {**ACTIONS, "GITHUB_RUN_ID": "888"}

    early = refused(lambda: trains(store, clock, env=rerun, host="runner-2").acquire("run-b"))
    assert "lock expires 2026-12-01 16:00:00 UTC" in early.message
    clock.now += timedelta(hours=6)
    late = refused(lambda: trains(store, clock, env=stranger, host="runner-3").acquire("run-c"))
    assert "the lock expired 2026-12-01 16:00:00 UTC" in late.message

    taken = trains(store, clock, env=rerun, host="runner-2").acquire("run-b")

    assert (taken.run_id, taken.actions_attempt, taken.host) == ("run-b", "2", "runner-2")


def test_two_runs_racing_for_a_free_family_never_both_win(tmp_path: Path) -> None:
    store, clock = LocalStore(tmp_path), Clock()
    start = threading.Barrier(8)
    winners: list[str] = []
    codes: list[ErrorCode] = []

    def race(run_id: str, pid: int) -> None:
        start.wait()
        try:
            winners.append(trains(store, clock, pid=pid).acquire(run_id).run_id)
        except ReleaseError as exc:
            codes.append(exc.code)

    threads = [threading.Thread(target=race, args=(f"run-{n}", n)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(winners) == 1 and codes == [ErrorCode.FAMILY_LOCKED] * 7
    assert json.loads((tmp_path / "locks" / "acme.json").read_text())["run_id"] == winners[0]


def test_a_replace_with_a_stale_version_is_refused(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    assert store.write_lock("acme", "one\n", None)
    assert not store.write_lock("acme", "two\n", None)  # create-if-absent only
    found = store.read_lock("acme")
    assert found is not None
    text, version = found
    assert store.write_lock("acme", "three\n", version)
    assert not store.write_lock("acme", "four\n", version)  # someone wrote after our read
    assert store.read_lock("acme") is not None
    assert (tmp_path / "locks" / "acme.json").read_text() == "three\n"
    assert text == "one\n"


def test_a_run_broken_by_unlock_does_not_take_the_family_back_when_it_ends(
    tmp_path: Path,
) -> None:
    store, clock = LocalStore(tmp_path), Clock()
    runner = trains(store, clock, host="runner-1")
    with runner.holding("run-a"):
        trains(store, clock, host="laptop").unlock("run-a")  # another host: allowed

    assert trains(store, clock, host="laptop").acquire("run-b").run_id == "run-b"
