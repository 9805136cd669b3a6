"""The state-branch store on the GitHub stand-in: create, CAS conflicts, archive, lost answers."""

from __future__ import annotations

from typing import Any

import pytest
from github import GithubRetry

from release_train.adapters.backoff import Backoff
from release_train.adapters.branch_store import BranchStore
from release_train.adapters.store import StateStore, Stored
from release_train.errors import ErrorCode, ReleaseError
from tests.integration.sandbox.test_github_fixtures import OWNER, REPO, World, gh_world

__all__ = ["gh_world"]

BRANCH = "release-train-state"
RUN = "release-20260101-a3f7b2"
FIRST = '{"run_id": "release-20260101-a3f7b2", "step": 1}\n'
SECOND = '{"run_id": "release-20260101-a3f7b2", "step": 2}\n'
CONTENTS = f"/api/v3/repos/{OWNER}/{REPO}/contents/"


def fresh_store(world: World, retry: GithubRetry | None = None) -> BranchStore:
    """Another process's view: its own client, nothing remembered."""
    return BranchStore(world.github(retry=retry).get_repo(f"{OWNER}/{REPO}"))


def stored_text(world: World, path: str) -> str:
    found = world.repo.get_contents(path, ref=BRANCH)
    assert not isinstance(found, list)
    return bytes(found.decoded_content).decode()


def puts(world: World) -> list[tuple[int, str | None]]:
    return [(r["status"], r["fault"]) for r in world.admin.requests() if r["method"] == "PUT"]


def test_create_makes_the_state_branch_from_main(gh_world: World) -> None:
    store = BranchStore(gh_world.repo)
    main = gh_world.repo.get_branch("main").commit.sha
    typed: StateStore = store
    assert typed.runs() == []
    assert BRANCH not in gh_world.admin.snapshot()["repos"][REPO]["branches"]

    store.create(RUN, FIRST)

    location = f"{OWNER}/{REPO}@{BRANCH}:runs/{RUN}.json"
    assert store.load(RUN) == Stored(FIRST, archived=False, location=location)
    head = gh_world.repo.get_branch(BRANCH).commit
    assert head.commit.message == f"chore(release-train): state of {RUN}"
    assert [p.sha for p in head.parents] == [main]
    assert gh_world.repo.get_branch("main").commit.sha == main
    assert store.describe() == f"branch {BRANCH} of {OWNER}/{REPO} (runs/<run-id>.json)"


def test_a_branch_made_by_a_retried_post_is_used(gh_world: World) -> None:
    # The ref is created, the answer is lost, the client's retry gets 422 "already exists".
    store = fresh_store(gh_world, retry=GithubRetry(total=2, backoff_factor=0))
    gh_world.admin.add_fault("drop", count=1, method="POST", phase="after")

    store.create(RUN, FIRST)

    refs = [r for r in gh_world.admin.requests() if r["method"] == "POST"]
    assert [(r["status"], r["fault"]) for r in refs] == [(0, "drop"), (422, None)]
    assert stored_text(gh_world, f"runs/{RUN}.json") == FIRST


def test_create_refuses_a_run_that_has_a_state(gh_world: World) -> None:
    BranchStore(gh_world.repo).create(RUN, FIRST)

    with pytest.raises(ReleaseError) as raised:
        fresh_store(gh_world).create(RUN, SECOND)

    assert raised.value.code is ErrorCode.RUN_EXISTS
    assert raised.value.hint is not None and f"release-train resume {RUN}" in raised.value.hint
    assert stored_text(gh_world, f"runs/{RUN}.json") == FIRST


def test_saves_are_read_back_by_another_store(gh_world: World) -> None:
    store = BranchStore(gh_world.repo)
    store.create(RUN, FIRST)

    store.save(RUN, SECOND)
    store.save(RUN, SECOND + "\n")

    assert fresh_store(gh_world).load(RUN).text == SECOND + "\n"


def test_the_second_writer_of_a_run_loses_the_race(gh_world: World) -> None:
    first, second = BranchStore(gh_world.repo), fresh_store(gh_world)
    first.create(RUN, FIRST)
    second.load(RUN)
    first.save(RUN, '{"writer": "first"}')

    with pytest.raises(ReleaseError) as raised:
        second.save(RUN, '{"writer": "second"}')

    assert raised.value.code is ErrorCode.STATE_CONFLICT
    assert f"another writer changed {OWNER}/{REPO}@{BRANCH}:runs/{RUN}.json" in raised.value.message
    assert stored_text(gh_world, f"runs/{RUN}.json") == '{"writer": "first"}'
    # Re-reading is the caller's decision; after it, the CAS lets the write through.
    second.load(RUN)
    second.save(RUN, '{"writer": "second"}')
    assert stored_text(gh_world, f"runs/{RUN}.json") == '{"writer": "second"}'


def test_a_save_without_reading_never_overwrites(gh_world: World) -> None:
    BranchStore(gh_world.repo).create(RUN, FIRST)

    with pytest.raises(ReleaseError) as raised:
        fresh_store(gh_world).save(RUN, SECOND)

    assert raised.value.code is ErrorCode.STATE_CONFLICT
    assert stored_text(gh_world, f"runs/{RUN}.json") == FIRST


def test_archive_copies_the_final_state_and_marks_the_run_finished(gh_world: World) -> None:
    store = BranchStore(gh_world.repo)
    store.create("b-run", FIRST)
    store.create(RUN, FIRST)
    store.save(RUN, SECOND)

    store.archive(RUN)
    head = gh_world.repo.get_branch(BRANCH).commit.sha
    store.archive(RUN)

    assert gh_world.repo.get_branch(BRANCH).commit.sha == head  # nothing to do the 2nd time
    assert stored_text(gh_world, f"archive/{RUN}.json") == SECOND
    assert stored_text(gh_world, f"runs/{RUN}.json") == SECOND
    assert fresh_store(gh_world).load(RUN) == Stored(
        SECOND, archived=True, location=f"{OWNER}/{REPO}@{BRANCH}:runs/{RUN}.json"
    )
    assert fresh_store(gh_world).runs() == [("b-run", False), (RUN, True)]
    with pytest.raises(ReleaseError) as raised:
        fresh_store(gh_world).create(RUN, FIRST)
    assert raised.value.code is ErrorCode.RUN_EXISTS


def test_archive_refuses_a_state_someone_else_changed(gh_world: World) -> None:
    first, second = BranchStore(gh_world.repo), fresh_store(gh_world)
    first.create(RUN, FIRST)
    second.load(RUN)
    second.save(RUN, SECOND)

    with pytest.raises(ReleaseError) as raised:
        first.archive(RUN)

    assert raised.value.code is ErrorCode.STATE_CONFLICT
    assert fresh_store(gh_world).runs() == [(RUN, False)]


def test_a_put_applied_whose_answer_was_lost_counts_as_written(gh_world: World) -> None:
    store = fresh_store(gh_world, retry=GithubRetry(total=2, backoff_factor=0))
    store.create(RUN, FIRST)
    gh_world.admin.clear_requests()
    gh_world.admin.add_fault("error", count=1, status=502, method="PUT", phase="after")

    store.save(RUN, SECOND)

    # The client retried the applied PUT with the old sha: 409, and the text is ours.
    assert puts(gh_world) == [(502, "error"), (409, None)]
    assert stored_text(gh_world, f"runs/{RUN}.json") == SECOND
    store.save(RUN, FIRST)  # the new blob sha was remembered
    assert stored_text(gh_world, f"runs/{RUN}.json") == FIRST


def test_a_dropped_answer_without_client_retries_is_checked(gh_world: World) -> None:
    store = BranchStore(gh_world.repo)
    store.create(RUN, FIRST)
    gh_world.admin.clear_requests()
    gh_world.admin.add_fault("drop", count=1, method="PUT", phase="after")

    store.save(RUN, SECOND)

    assert puts(gh_world) == [(0, "drop")]
    store.save(RUN, FIRST)
    assert stored_text(gh_world, f"runs/{RUN}.json") == FIRST


def test_a_failed_put_that_did_not_happen_is_retried(gh_world: World) -> None:
    # Issue 12, item 6: a 5xx on a state write used to fail the running step.
    waits: list[float] = []
    store = BranchStore(gh_world.repo, retry=Backoff(sleep=waits.append))
    store.create(RUN, FIRST)
    gh_world.admin.clear_requests()
    gh_world.admin.add_fault("error", count=1, status=502, method="PUT", path_prefix=CONTENTS)

    store.save(RUN, SECOND)

    assert puts(gh_world) == [(502, "error"), (200, None)]
    assert len(waits) == 1
    assert stored_text(gh_world, f"runs/{RUN}.json") == SECOND


def test_a_write_that_keeps_failing_is_an_error_and_writes_nothing(gh_world: World) -> None:
    waits: list[float] = []
    store = BranchStore(gh_world.repo, retry=Backoff(attempts=3, sleep=waits.append))
    store.create(RUN, FIRST)
    gh_world.admin.add_fault("error", count=3, status=502, method="PUT", path_prefix=CONTENTS)

    with pytest.raises(ReleaseError) as raised:
        store.save(RUN, SECOND)

    assert raised.value.code is ErrorCode.GITHUB_ERROR
    assert "502" in raised.value.message
    assert len(waits) == 2
    store.save(RUN, SECOND)  # nothing was written: the remembered sha still holds
    assert stored_text(gh_world, f"runs/{RUN}.json") == SECOND


@pytest.mark.parametrize(
    "fault",
    [{"kind": "drop"}, {"kind": "error", "status": 503}, {"kind": "secondary_rate_limit"}],
    ids=["drop", "503", "secondary-limit"],
)
def test_reads_ride_out_a_failed_request(gh_world: World, fault: dict[str, Any]) -> None:
    # A dropped connection on a read was an INTERNAL crash (requests' ConnectionError).
    waits: list[float] = []
    BranchStore(gh_world.repo).create(RUN, FIRST)
    store = BranchStore(gh_world.repo, retry=Backoff(sleep=waits.append))
    gh_world.admin.add_fault(count=1, method="GET", path_prefix=CONTENTS, **fault)

    assert store.load(RUN).text == FIRST
    assert len(waits) == 1
    gh_world.admin.add_fault(count=1, method="GET", path_prefix=CONTENTS, **fault)
    assert store.runs() == [(RUN, False)]
    assert len(waits) == 2


def test_a_lasting_outage_on_a_read_is_a_coded_error(gh_world: World) -> None:
    BranchStore(gh_world.repo).create(RUN, FIRST)
    store = BranchStore(gh_world.repo, retry=Backoff(attempts=2, sleep=lambda _: None))
    gh_world.admin.add_fault("drop", count=2, method="GET", path_prefix=CONTENTS)

    with pytest.raises(ReleaseError) as raised:
        store.load(RUN)

    assert raised.value.code is ErrorCode.GITHUB_ERROR
    assert "connection lost while reading" in raised.value.message


def test_a_409_for_a_moved_branch_is_retried_while_the_file_is_unchanged(
    gh_world: World,
) -> None:
    # GitHub answers 409 too when the branch tip moved under a write to another file.
    store = BranchStore(gh_world.repo)
    store.create(RUN, FIRST)
    gh_world.admin.clear_requests()
    gh_world.admin.add_fault("error", count=1, status=409, method="PUT", path_prefix=CONTENTS)

    store.save(RUN, SECOND)

    assert puts(gh_world) == [(409, "error"), (200, None)]
    assert stored_text(gh_world, f"runs/{RUN}.json") == SECOND


def test_missing_runs_and_bad_ids(gh_world: World) -> None:
    store = BranchStore(gh_world.repo)

    with pytest.raises(ReleaseError) as missing:
        store.load(RUN)
    with pytest.raises(ReleaseError) as bad:
        store.create("../main", FIRST)

    assert missing.value.code is ErrorCode.STATE_NOT_FOUND
    assert bad.value.code is ErrorCode.USAGE
    with store.lock(RUN), store.lock(RUN):
        pass  # a no-op: the workflow's concurrency group serialises trains
    assert BRANCH not in gh_world.admin.snapshot()["repos"][REPO]["branches"]
