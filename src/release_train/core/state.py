"""Run state (Step 2.3) and results (Step 4.5): models, transitions, blocking, the result.

A repo's `status` (pending, running, done, failed, blocked, skipped) is kept apart from its
`phase`, the last step it completed (DESIGN defect 9), so a blocked repo is never mistaken
for a skipped one and a failed repo remembers where it stopped.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from release_train.core.family_note import Highlight, highlights, note_markdown
from release_train.core.plan import Plan
from release_train.core.versions import format_tag

SCHEMA_VERSION = 1

PHASES = (
    "PLANNED",
    "WORKTREE",
    "BUMPED",
    "PINNED",
    "CHANGELOG",
    "LOCKED",
    "LINT",
    "COMMITTED",
    "PUSHED",
    "PR_CREATED",
    "MERGED",
    "TAGGED",
    "PUBLISHED",
    "DONE",
)
# The specification's sub-step that records each phase (an error names the step).
STEP_OF_PHASE = {
    "WORKTREE": "WORKTREE",
    "BUMPED": "BUMP",
    "PINNED": "PIN",
    "CHANGELOG": "CHANGELOG",
    "LOCKED": "LOCK",
    "LINT": "LINT",
    "COMMITTED": "COMMIT",
    "PUSHED": "PUSH",
    "PR_CREATED": "PR",
    "MERGED": "MERGE",
    "TAGGED": "TAG",
    "PUBLISHED": "PUBLISH",
}
# Until the release commit is pushed, everything a repo did lives in a worktree that a
# resumed run (perhaps on another machine) may not have: those steps are redone, each
# skipping what its probe finds already there.
LOCAL_PHASES = PHASES[: PHASES.index("PUSHED")]


def _known_phase(value: str) -> str:
    """An unknown phase would read as "nothing left to do": refuse it (STATE_CORRUPT)."""
    if value not in PHASES:
        raise ValueError(f"unknown phase {value!r} (one of {', '.join(PHASES)})")
    return value


Phase = Annotated[str, AfterValidator(_known_phase)]


def now() -> datetime:
    return datetime.now(UTC)


class IndexStatus(StrEnum):
    AVAILABLE = "available"
    PENDING = "pending"
    TIMEOUT = "timeout"
    SKIPPED = "skipped"


class RepoStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    BLOCKED = "blocked"
    SKIPPED = "skipped"


class RunStatus(StrEnum):
    IN_PROGRESS = "in_progress"
    SUCCESS = "success"
    PARTIAL = "partial"
    FAILED = "failed"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class PhaseMark(_Model):
    phase: Phase
    at: datetime


class RepoError(_Model):
    code: str
    message: str
    step: str  # the sub-step that failed (STEP_OF_PHASE of the phase it was working towards)
    hint: str | None = None
    output: str | None = None  # a tail of the failing tool's output, secrets masked
    at: datetime = Field(default_factory=now)

    def line(self) -> str:
        return f"[{self.code}] {self.message}"


class RepoState(_Model):
    """One repo of the run: its plan entry, where it is, and what it has made so far."""

    repo: str
    package: str
    tier: int
    old_version: str
    new_version: str
    bump: str
    commits: int = 0
    reason: str = ""
    last_tag: str | None = None
    base: str  # the commit the plan saw; the release branch starts here
    upstreams: list[str] = Field(default_factory=list)  # same-run upstreams
    # The family note's lines for this repo (core/family_note), from the plan's commits.
    highlights: list[Highlight] = Field(default_factory=list)
    more_highlights: int = 0
    branch: str
    tag: str
    status: RepoStatus = RepoStatus.PENDING
    phase: Phase = "PLANNED"
    phase_history: list[PhaseMark] = Field(default_factory=list)
    worktree_path: str | None = None
    pins: dict[str, str] = Field(default_factory=dict)  # package -> specifier written
    release_commit: str | None = None
    pr_number: int | None = None
    pr_url: str | None = None
    merge_sha: str | None = None
    tag_sha: str | None = None
    release_url: str | None = None
    publish_run_url: str | None = None
    index_status: IndexStatus = IndexStatus.PENDING
    blocked_by: str | None = None
    error: RepoError | None = None

    def reached(self, phase: str) -> bool:
        return PHASES.index(self.phase) >= PHASES.index(phase)


class Gate(_Model):
    kind: str  # attestation | yes | environment | slack
    token: str | None = None
    approved_by: str | None = None
    at: datetime = Field(default_factory=now)


class RunState(_Model):
    schema_version: Literal[1] = 1
    run_id: str
    started_at: datetime = Field(default_factory=now)
    updated_at: datetime = Field(default_factory=now)
    plan_hash: str
    gate_token: str | None = None
    gate: Gate | None = None
    # Approvals of later attempts (a resume is approved again), oldest first.
    resume_gates: list[Gate] = Field(default_factory=list)
    # Where the run was started: the Actions run's URL, so its re-runs resume it.
    origin: str | None = None
    status: RunStatus = RunStatus.IN_PROGRESS
    failure_policy: str = "fail-fast"
    workspace: str | None = None  # --workspace of the run; None: run-owned fresh clones
    repos: dict[str, RepoState]  # in release order
    skipped: dict[str, str] = Field(default_factory=dict)  # planned skips: repo -> version
    attempts: int = 1

    def pending(self) -> list[str]:
        return [r for r, s in self.repos.items() if s.status is not RepoStatus.DONE]


def new_state(plan: Plan, tag_formats: dict[str, str], gate: Gate, failure_policy: str) -> RunState:
    """The state of a run about to start: every planned repo pending at PLANNED."""
    stamp = now()
    found = {e.repo: highlights(e.log) for e in plan.entries}
    repos = {
        e.repo: RepoState(
            repo=e.repo,
            package=e.package,
            tier=e.tier,
            old_version=e.current,
            new_version=e.new,
            bump=str(e.bump),
            commits=e.commits,
            reason=e.reason,
            last_tag=e.last_tag,
            base=e.head,
            upstreams=list(e.upstreams),
            highlights=found[e.repo][0],
            more_highlights=found[e.repo][1],
            branch=f"release/{plan.run_id}/{e.repo}",
            tag=format_tag(tag_formats[e.repo], e.repo, e.new, e.package),
            phase_history=[PhaseMark(phase="PLANNED", at=stamp)],
        )
        for e in plan.entries
    }
    return RunState(
        run_id=plan.run_id,
        started_at=stamp,
        updated_at=stamp,
        plan_hash=plan.plan_hash,
        gate_token=gate.token,
        gate=gate,
        failure_policy=failure_policy,
        repos=repos,
        skipped={s.repo: s.current for s in plan.skipped},
    )


def mark_phase(repo: RepoState, phase: str) -> None:
    repo.phase = phase
    repo.phase_history.append(PhaseMark(phase=phase, at=now()))
    if phase == "DONE":
        repo.status = RepoStatus.DONE


def mark_failed(repo: RepoState, error: RepoError) -> None:
    repo.status = RepoStatus.FAILED
    repo.error = error


def block(state: RunState, repos: Iterable[str], cause: str) -> list[str]:
    """Mark not-yet-started repos blocked by `cause`; return those that were."""
    blocked = []
    for name in repos:
        repo = state.repos[name]
        if repo.status is RepoStatus.PENDING:
            repo.status = RepoStatus.BLOCKED
            repo.blocked_by = cause
            blocked.append(name)
    return blocked


def reopen(state: RunState) -> list[str]:
    """A resumed run (spec "Failure Recovery"): failed and blocked repos are pending again.

    Done repos stay done. A repo that failed (or was killed) before its release commit was
    pushed starts again at WORKTREE; its steps skip what is already there.
    """
    reopened = []
    for name, repo in state.repos.items():
        if repo.status is RepoStatus.DONE:
            continue
        if repo.phase in LOCAL_PHASES and repo.phase != "PLANNED":
            repo.phase = "PLANNED"
            repo.phase_history.append(PhaseMark(phase="PLANNED", at=now()))
        repo.status = RepoStatus.PENDING
        repo.blocked_by = None
        repo.error = None
        reopened.append(name)
    state.status = RunStatus.IN_PROGRESS
    state.attempts += 1
    return reopened


def settle(state: RunState) -> RunStatus:
    """The run's status once nothing is running (Step 4.5, with blocked repos counted)."""
    statuses = [r.status for r in state.repos.values()]
    done = statuses.count(RepoStatus.DONE)
    unfinished = len(statuses) - done
    if unfinished == 0:
        state.status = RunStatus.SUCCESS
    elif done:
        state.status = RunStatus.PARTIAL
    else:
        state.status = RunStatus.FAILED
    state.updated_at = now()
    return state.status


class RepoResult(BaseModel):
    """One entry of `details` (Step 4.5), plus why the repo was planned and where it is."""

    model_config = ConfigDict(extra="forbid")

    repo: str
    tier: int
    old_version: str
    new_version: str
    bump: str
    pr_url: str | None = None
    pr_number: int | None = None
    tag: str | None = None
    pypi_status: IndexStatus = IndexStatus.PENDING
    phase: str = "PLANNED"
    status: str = "pending"
    error: str | None = None
    error_code: str | None = None
    blocked_by: str | None = None
    merge_sha: str | None = None
    commits: int = 0
    reason: str = ""


ResultStatus = Literal["SUCCESS", "PARTIAL", "FAILED", "DRY_RUN", "NOTHING_TO_RELEASE"]


class SkillResult(BaseModel):
    """The specification's `ModelSkillResult` (Step 4.5), written by `--result-file`."""

    model_config = ConfigDict(extra="forbid")

    skill: Literal["release"] = "release"
    status: ResultStatus
    run_id: str
    gate_token: str | None = None
    plan_hash: str
    repos_attempted: int = 0
    repos_succeeded: int = 0
    repos_failed: int = 0
    repos_skipped: int = 0  # planned skips only (nothing to release), never blocked repos
    repos_blocked: int = 0  # ours: repos a failure kept from starting (DESIGN defect 9)
    details: list[RepoResult]
    release_note: str | None = None  # ours: the family's note (core/family_note), Markdown


def dry_run_result(plan: Plan, tag_formats: dict[str, str]) -> SkillResult:
    """Phase 1's dry-run exit: the plan as a DRY_RUN result; nothing was attempted."""
    details = [
        RepoResult(
            repo=e.repo,
            tier=e.tier,
            old_version=e.current,
            new_version=e.new,
            bump=str(e.bump),
            tag=format_tag(tag_formats[e.repo], e.repo, e.new, e.package),
            commits=e.commits,
            reason=e.reason,
        )
        for e in plan.entries
    ]
    return SkillResult(
        status="DRY_RUN" if plan.entries else "NOTHING_TO_RELEASE",
        run_id=plan.run_id,
        plan_hash=plan.plan_hash,
        repos_skipped=len(plan.skipped),
        details=details,
    )


def _detail(repo: RepoState) -> RepoResult:
    return RepoResult(
        repo=repo.repo,
        tier=repo.tier,
        old_version=repo.old_version,
        new_version=repo.new_version,
        bump=repo.bump,
        pr_url=repo.pr_url,
        pr_number=repo.pr_number,
        tag=repo.tag,
        pypi_status=repo.index_status,  # per repo: a timeout stays a timeout (defect 8)
        phase=repo.phase,
        status=str(repo.status),
        error=repo.error.line() if repo.error else None,
        error_code=repo.error.code if repo.error else None,
        blocked_by=repo.blocked_by,
        merge_sha=repo.merge_sha,
        commits=repo.commits,
        reason=repo.reason,
    )


def run_result(state: RunState) -> SkillResult:
    """Step 4.5 from the state, with blocked repos counted as blocked, not skipped (defect 9)."""
    repos = list(state.repos.values())
    succeeded = sum(1 for r in repos if r.status is RepoStatus.DONE)
    failed = sum(1 for r in repos if r.status is RepoStatus.FAILED)
    blocked = sum(1 for r in repos if r.status is RepoStatus.BLOCKED)
    status: ResultStatus
    if not repos:
        status = "NOTHING_TO_RELEASE"
    elif succeeded == len(repos):
        status = "SUCCESS"
    elif succeeded:
        status = "PARTIAL"
    else:
        status = "FAILED"
    return SkillResult(
        status=status,
        run_id=state.run_id,
        gate_token=state.gate_token,
        plan_hash=state.plan_hash,
        repos_attempted=succeeded + failed,
        repos_succeeded=succeeded,
        repos_failed=failed,
        repos_blocked=blocked,
        repos_skipped=len(state.skipped),
        details=[_detail(r) for r in repos],
        release_note=note_markdown(state) if repos else None,
    )
