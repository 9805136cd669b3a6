"""The state transitions the engine relies on: block, reopen, settle, and the run's result."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from release_train.core.state import (
    PHASES,
    STEP_OF_PHASE,
    Gate,
    IndexStatus,
    RepoError,
    RepoStatus,
    RunState,
    RunStatus,
    block,
    mark_failed,
    mark_phase,
    new_state,
    reopen,
    run_result,
    settle,
)
from tests.core.test_render import spec_example_plan

RUN = "release-20260225-a3f7b2"
SPI, CORE, INFRA, INTEL, MEMORY, CLAUDE = (
    "omnibase_spi",
    "omnibase_core",
    "omnibase_infra",
    "omniintelligence",
    "omnimemory",
    "omniclaude",
)


def fresh_state() -> RunState:
    plan = spec_example_plan()
    formats = {e.repo: "{repo}/v{version}" for e in plan.entries}
    gate = Gate(kind="attestation", token=f"1767225600.000100:{RUN}")
    return new_state(plan, formats, gate, "fail-fast")


def error(code: str = "CI_FAILED", step: str = "MERGE") -> RepoError:
    return RepoError(code=code, message=f"{code.lower()} happened", step=step, hint="fix it")


def advance(state: RunState, repo: str, phase: str) -> None:
    """Record every phase up to `phase`, as the engine does step by step."""
    for name in PHASES[1 : PHASES.index(phase) + 1]:
        mark_phase(state.repos[repo], name)


def test_every_phase_between_planned_and_done_is_recorded_by_one_named_step() -> None:
    assert list(STEP_OF_PHASE) == list(PHASES[1:-1])
    assert STEP_OF_PHASE["MERGED"] == "MERGE" and len(set(STEP_OF_PHASE.values())) == 12


def test_a_new_state_has_every_planned_repo_pending_at_planned() -> None:
    state = fresh_state()

    assert list(state.repos) == [SPI, CORE, INFRA, INTEL, MEMORY, CLAUDE]
    assert {(r.status, r.phase) for r in state.repos.values()} == {("pending", "PLANNED")}
    core = state.repos[CORE]
    assert (core.branch, core.tag, core.upstreams) == (
        f"release/{RUN}/{CORE}",
        f"{CORE}/v1.5.0",
        [SPI],
    )
    assert [m.phase for m in core.phase_history] == ["PLANNED"]
    assert (state.status, state.attempts, state.gate_token) == (
        "in_progress",
        1,
        f"1767225600.000100:{RUN}",
    )


def test_marking_done_sets_the_status_and_failing_keeps_the_phase() -> None:
    state = fresh_state()
    advance(state, SPI, "DONE")
    advance(state, CORE, "PR_CREATED")
    mark_failed(state.repos[CORE], error())

    spi, core = state.repos[SPI], state.repos[CORE]
    assert (spi.status, spi.phase, len(spi.phase_history)) == ("done", "DONE", len(PHASES))
    assert (core.status, core.phase) == ("failed", "PR_CREATED")
    assert core.error is not None and core.error.line() == "[CI_FAILED] ci_failed happened"
    assert core.reached("PUSHED") and not core.reached("MERGED")


def test_block_marks_only_repos_that_have_not_started() -> None:
    state = fresh_state()
    advance(state, SPI, "DONE")
    mark_failed(state.repos[CORE], error())
    state.repos[INTEL].status = RepoStatus.RUNNING

    blocked = block(state, list(state.repos), CORE)

    assert blocked == [INFRA, MEMORY, CLAUDE]
    assert {n: (r.status, r.blocked_by) for n, r in state.repos.items()} == {
        SPI: ("done", None),
        CORE: ("failed", None),
        INFRA: ("blocked", CORE),
        INTEL: ("running", None),
        MEMORY: ("blocked", CORE),
        CLAUDE: ("blocked", CORE),
    }
    assert {state.repos[n].phase for n in blocked} == {"PLANNED"}  # blocked is no phase
    assert block(state, list(state.repos), CORE) == []  # blocking twice changes nothing


@pytest.mark.parametrize(
    ("status", "phase", "resumes_at"),
    [
        # Before PUSHED, the work lives in a worktree a resumed run may not have: redo it.
        (RepoStatus.FAILED, "LOCKED", "PLANNED"),
        (RepoStatus.RUNNING, "COMMITTED", "PLANNED"),  # killed mid-run
        (RepoStatus.FAILED, "PLANNED", "PLANNED"),
        # From PUSHED on, the effect is on the server: continue after it.
        (RepoStatus.RUNNING, "PUSHED", "PUSHED"),
        (RepoStatus.FAILED, "PR_CREATED", "PR_CREATED"),
        (RepoStatus.FAILED, "TAGGED", "TAGGED"),
        (RepoStatus.BLOCKED, "PLANNED", "PLANNED"),
    ],
)
def test_reopen_makes_unfinished_repos_pending_again(
    status: RepoStatus, phase: str, resumes_at: str
) -> None:
    state = fresh_state()
    repo = state.repos[CORE]
    if phase != "PLANNED":
        advance(state, CORE, phase)
    repo.status = status
    repo.error = error() if status is RepoStatus.FAILED else None
    repo.blocked_by = SPI if status is RepoStatus.BLOCKED else None
    marks = len(repo.phase_history)

    reopened = reopen(state)

    assert CORE in reopened
    assert (repo.status, repo.phase, repo.error, repo.blocked_by) == (
        "pending",
        resumes_at,
        None,
        None,
    )
    # The history keeps what happened and records the restart, if there was one.
    restarted = resumes_at != phase
    assert len(repo.phase_history) == marks + restarted
    assert repo.phase_history[-1].phase == resumes_at


def test_reopen_leaves_done_repos_alone_and_counts_the_attempt() -> None:
    state = fresh_state()
    advance(state, SPI, "DONE")
    mark_failed(state.repos[CORE], error())
    block(state, list(state.repos), CORE)
    settle(state)
    done_before = state.repos[SPI].model_copy(deep=True)

    reopened = reopen(state)

    assert reopened == [CORE, INFRA, INTEL, MEMORY, CLAUDE]
    assert state.repos[SPI] == done_before
    assert (state.status, state.attempts) == ("in_progress", 2)
    assert {state.repos[n].status for n in reopened} == {"pending"}


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ({SPI: "done", CORE: "done"}, RunStatus.SUCCESS),
        ({SPI: "done", CORE: "failed"}, RunStatus.PARTIAL),
        ({SPI: "done", CORE: "blocked"}, RunStatus.PARTIAL),
        ({SPI: "failed", CORE: "blocked"}, RunStatus.FAILED),
        ({SPI: "blocked", CORE: "blocked"}, RunStatus.FAILED),
    ],
)
def test_settle_names_the_runs_outcome(statuses: dict[str, str], expected: RunStatus) -> None:
    state = fresh_state()
    state.repos = {n: state.repos[n] for n in statuses}
    for name, status in statuses.items():
        state.repos[name].status = RepoStatus(status)
    state.updated_at = datetime(2026, 1, 1, tzinfo=UTC)

    assert settle(state) is expected
    assert state.status is expected
    assert state.updated_at > datetime(2026, 1, 1, tzinfo=UTC)


def test_the_result_counts_blocked_repos_apart_from_planned_skips() -> None:
    """DESIGN defect 9: the original counted every repo still at PLANNED as skipped."""
    state = fresh_state()
    state.skipped = {"omnidocs": "0.4.0"}  # NOTHING_TO_RELEASE in the plan
    advance(state, SPI, "DONE")
    advance(state, CORE, "PR_CREATED")
    mark_failed(state.repos[CORE], error())
    block(state, list(state.repos), CORE)
    settle(state)

    result = run_result(state)

    assert (result.status, result.run_id, result.gate_token, result.plan_hash) == (
        "PARTIAL",
        RUN,
        f"1767225600.000100:{RUN}",
        state.plan_hash,
    )
    counts = (
        result.repos_attempted,
        result.repos_succeeded,
        result.repos_failed,
        result.repos_blocked,
        result.repos_skipped,
    )
    assert counts == (2, 1, 1, 4, 1)
    core = result.details[1]
    assert (core.status, core.phase, core.error, core.error_code) == (
        "failed",
        "PR_CREATED",
        "[CI_FAILED] ci_failed happened",
        "CI_FAILED",
    )
    assert [(d.status, d.phase, d.blocked_by) for d in result.details[2:]] == [
        ("blocked", "PLANNED", CORE)
    ] * 4


def test_the_result_keeps_each_repos_own_index_status() -> None:
    """DESIGN defect 8: the original reported `available` for every DONE repo."""
    state = fresh_state()
    statuses = [IndexStatus.AVAILABLE, IndexStatus.TIMEOUT, IndexStatus.SKIPPED]
    for name, index_status in zip([SPI, CORE, INFRA], statuses, strict=True):
        advance(state, name, "DONE")
        state.repos[name].index_status = index_status

    details = run_result(state).details

    assert [d.pypi_status for d in details] == [*statuses, "pending", "pending", "pending"]
    assert [d.status for d in details] == ["done"] * 3 + ["pending"] * 3


@pytest.mark.parametrize(
    ("done", "failed", "expected"),
    [(6, 0, "SUCCESS"), (5, 1, "PARTIAL"), (0, 1, "FAILED"), (0, 0, "FAILED")],
)
def test_the_result_status(done: int, failed: int, expected: str) -> None:
    state = fresh_state()
    names = list(state.repos)
    for name in names[:done]:
        advance(state, name, "DONE")
    for name in names[done : done + failed]:
        mark_failed(state.repos[name], error())

    result = run_result(state)

    assert result.status == expected
    assert (result.repos_attempted, result.repos_succeeded, result.repos_failed) == (
        done + failed,
        done,
        failed,
    )


def test_a_run_without_repos_has_nothing_to_release() -> None:
    state = fresh_state()
    state.repos = {}

    assert run_result(state).status == "NOTHING_TO_RELEASE"


def test_a_state_survives_its_json_and_refuses_unknown_fields() -> None:
    state = fresh_state()
    advance(state, SPI, "DONE")
    mark_failed(state.repos[CORE], error())
    text = state.model_dump_json(indent=2)

    assert RunState.model_validate_json(text) == state
    with pytest.raises(ValidationError):
        RunState.model_validate_json(text.replace('"attempts": 1', '"attempts": 1, "x": 2'))
    with pytest.raises(ValidationError):
        RunState.model_validate_json(text.replace('"schema_version": 1', '"schema_version": 2'))
