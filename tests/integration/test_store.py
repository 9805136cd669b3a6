"""The local state store on a real filesystem: atomic writes, refusals, archive, and flock."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from release_train.adapters.store import LocalStore, StateStore, Stored, local_store
from release_train.errors import ErrorCode, ReleaseError

RUN = "release-20260101-a3f7b2"
FIRST = '{"run_id": "release-20260101-a3f7b2", "step": 1}\n'
SECOND = '{"run_id": "release-20260101-a3f7b2", "step": 2}\n'

# Holds the lock from another process until killed: the run that crashed mid-release.
HOLDER = """
import sys, time
from pathlib import Path
from release_train.adapters.store import LocalStore
with LocalStore(Path(sys.argv[1])).lock(sys.argv[2]):
    print("locked", flush=True)
    time.sleep(120)
"""


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    return LocalStore(tmp_path / "state")


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.rglob("*") if p.name.endswith(".tmp"))


def test_a_local_store_is_a_state_store(store: LocalStore) -> None:
    typed: StateStore = store
    assert typed.describe() == f"local files in {store.directory}"


def test_create_then_load_returns_the_text(store: LocalStore) -> None:
    store.create(RUN, FIRST)

    path = store.directory / f"{RUN}.json"
    assert store.load(RUN) == Stored(FIRST, archived=False, location=str(path))
    assert path.read_text(encoding="utf-8") == FIRST
    assert leftovers(store.directory) == []


def test_create_refuses_a_run_that_has_a_state(store: LocalStore) -> None:
    store.create(RUN, FIRST)

    with pytest.raises(ReleaseError) as raised:
        store.create(RUN, SECOND)

    assert raised.value.code is ErrorCode.RUN_EXISTS
    assert raised.value.hint is not None and f"release-train resume {RUN}" in raised.value.hint
    assert store.load(RUN).text == FIRST


def test_create_refuses_a_finished_run(store: LocalStore) -> None:
    store.create(RUN, FIRST)
    store.archive(RUN)

    with pytest.raises(ReleaseError) as raised:
        store.create(RUN, SECOND)

    assert raised.value.code is ErrorCode.RUN_EXISTS
    assert "archive" in raised.value.message
    assert store.load(RUN) == Stored(FIRST, True, str(store.directory / "archive" / f"{RUN}.json"))


def test_racing_creates_leave_exactly_one_winner(store: LocalStore) -> None:
    barrier = threading.Barrier(8)
    outcomes: list[str] = []

    def create(n: int) -> None:
        barrier.wait()
        try:
            store.create(RUN, f'{{"writer": {n}}}')
            outcomes.append(f"won:{n}")
        except ReleaseError as exc:
            outcomes.append(str(exc.code))

    threads = [threading.Thread(target=create, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    winners = [o for o in outcomes if o.startswith("won:")]
    assert len(winners) == 1
    assert sorted(o for o in outcomes if o not in winners) == ["RUN_EXISTS"] * 7
    assert store.load(RUN).text == f'{{"writer": {winners[0].split(":")[1]}}}'


def test_save_replaces_the_text_and_leaves_no_temporary_file(store: LocalStore) -> None:
    store.create(RUN, FIRST)

    store.save(RUN, SECOND)

    assert store.load(RUN).text == SECOND
    assert sorted(p.name for p in store.directory.iterdir()) == [f"{RUN}.json"]


def test_a_failed_save_leaves_the_previous_state_whole(store: LocalStore) -> None:
    store.create(RUN, FIRST)

    with pytest.raises(UnicodeEncodeError):
        store.save(RUN, '{"half": "\ud800"}')  # fails while writing: a crash mid-write

    assert store.load(RUN).text == FIRST
    assert leftovers(store.directory) == []


def test_load_of_a_missing_run(store: LocalStore) -> None:
    with pytest.raises(ReleaseError) as raised:
        store.load(RUN)

    assert raised.value.code is ErrorCode.STATE_NOT_FOUND
    assert str(store.directory) in raised.value.message


def test_load_hands_corrupt_json_over_untouched(store: LocalStore) -> None:
    path = store.directory / f"{RUN}.json"
    store.directory.mkdir()
    path.write_bytes(b'{"run_id": "half')

    assert store.load(RUN).text == '{"run_id": "half'
    assert path.read_bytes() == b'{"run_id": "half'


def test_load_of_bytes_that_are_not_text_is_corrupt(store: LocalStore) -> None:
    path = store.directory / f"{RUN}.json"
    store.directory.mkdir()
    path.write_bytes(b"\xff\xfe{")

    with pytest.raises(ReleaseError) as raised:
        store.load(RUN)

    assert raised.value.code is ErrorCode.STATE_CORRUPT
    assert path.read_bytes() == b"\xff\xfe{"


@pytest.mark.parametrize("run_id", ["../escape", "a/b", ".hidden", ""])
def test_run_ids_cannot_leave_the_directory(store: LocalStore, run_id: str) -> None:
    for action in (
        lambda: store.create(run_id, FIRST),
        lambda: store.save(run_id, FIRST),
        lambda: store.load(run_id),
        lambda: store.archive(run_id),
    ):
        with pytest.raises(ReleaseError) as raised:
            action()
        assert raised.value.code is ErrorCode.USAGE
    assert not store.directory.exists()


def test_archive_moves_the_state_and_is_idempotent(store: LocalStore) -> None:
    store.create(RUN, FIRST)

    store.archive(RUN)
    store.archive(RUN)

    assert not (store.directory / f"{RUN}.json").exists()
    assert (store.directory / "archive" / f"{RUN}.json").read_text(encoding="utf-8") == FIRST
    assert store.load(RUN).archived


def test_archive_of_a_missing_run(store: LocalStore) -> None:
    with pytest.raises(ReleaseError) as raised:
        store.archive(RUN)

    assert raised.value.code is ErrorCode.STATE_NOT_FOUND


def test_runs_lists_active_and_finished_runs_sorted(store: LocalStore) -> None:
    assert store.runs() == []
    for run_id in ("c-run", "a-run", "b-run"):
        store.create(run_id, FIRST)
    store.archive("b-run")
    with store.lock("a-run"):
        (store.directory / ".c-run.x.tmp").write_text("partial", encoding="utf-8")
        (store.directory / "notes.txt").write_text("not a run", encoding="utf-8")
        (store.directory / "dir.json").mkdir()

        assert store.runs() == [("a-run", False), ("b-run", True), ("c-run", False)]


def test_local_store_defaults_to_the_configured_state_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RELEASE_TRAIN_STATE_DIR", str(tmp_path / "configured"))

    assert local_store().directory == tmp_path / "configured"
    assert local_store(tmp_path / "given").directory == tmp_path / "given"


def test_a_second_lock_in_this_process_is_refused(store: LocalStore) -> None:
    with store.lock(RUN):
        with pytest.raises(ReleaseError) as raised, store.lock(RUN):
            pass  # pragma: no cover - never entered
        assert raised.value.code is ErrorCode.RUN_IN_PROGRESS
        assert f"pid {os.getpid()}" in raised.value.message
        with store.lock("another-run"):
            pass  # other runs are not blocked

    with store.lock(RUN):
        pass  # released at the end of the first context


Holder = Callable[[Path, str], "subprocess.Popen[str]"]


@pytest.fixture
def lock_holder() -> Iterator[Holder]:
    started: list[subprocess.Popen[str]] = []

    def start(directory: Path, run_id: str) -> subprocess.Popen[str]:
        # Direct Popen (the sanctioned exception): this process must outlive the call so
        # it holds the lock while the test runs, and command.run waits for its end.
        proc = subprocess.Popen(
            [sys.executable, "-c", HOLDER, str(directory), run_id],
            stdout=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        started.append(proc)
        assert proc.stdout is not None and proc.stdout.readline() == "locked\n"
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()


def test_a_lock_held_by_another_process_names_it(store: LocalStore, lock_holder: Holder) -> None:
    holder = lock_holder(store.directory, RUN)

    with pytest.raises(ReleaseError) as raised, store.lock(RUN):
        pass  # pragma: no cover - never entered

    assert raised.value.code is ErrorCode.RUN_IN_PROGRESS
    assert f"pid {holder.pid}" in raised.value.message
    assert RUN in raised.value.message


def test_a_killed_holder_leaves_no_stale_lock(store: LocalStore, lock_holder: Holder) -> None:
    holder = lock_holder(store.directory, RUN)

    holder.send_signal(signal.SIGKILL)
    assert holder.wait(timeout=10) == -signal.SIGKILL

    with store.lock(RUN):
        lock_file = store.directory / f"{RUN}.lock"
        assert lock_file.read_text(encoding="utf-8").strip() == str(os.getpid())
