"""Run results: the specification's `ModelSkillResult` (the engine's state models join it later)."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict

from release_train.core.plan import Plan
from release_train.core.versions import format_tag

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


class IndexStatus(StrEnum):
    AVAILABLE = "available"
    PENDING = "pending"
    TIMEOUT = "timeout"
    SKIPPED = "skipped"


class RepoResult(BaseModel):
    """One entry of `details` (Step 4.5), plus why the repo was planned."""

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
    commits: int = 0
    reason: str = ""


class SkillResult(BaseModel):
    """The specification's `ModelSkillResult` (Step 4.5), written by `--result-file`."""

    model_config = ConfigDict(extra="forbid")

    skill: Literal["release"] = "release"
    status: Literal["SUCCESS", "PARTIAL", "FAILED", "DRY_RUN", "NOTHING_TO_RELEASE"]
    run_id: str
    gate_token: str | None = None
    plan_hash: str
    repos_attempted: int = 0
    repos_succeeded: int = 0
    repos_failed: int = 0
    repos_skipped: int = 0
    details: list[RepoResult]


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
        status="DRY_RUN",
        run_id=plan.run_id,
        plan_hash=plan.plan_hash,
        repos_skipped=len(plan.skipped),
        details=details,
    )
