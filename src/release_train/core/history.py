"""The runs a store holds, as `release-train status` lists them: newest first, text or JSON."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from release_train.core import summary
from release_train.core.render import table
from release_train.core.state import RepoStatus, RunState, RunStatus

LIST_SCHEMA_VERSION = 1
RUNS_COLUMNS = (
    ("Run", 10),
    ("Status", 11),
    ("Started (UTC)", 16),
    ("Repos", 5),
    ("Done", 4),
    ("Failed", 6),
    ("Blocked", 7),
    ("Plan", 12),
)
UNREADABLE = "unreadable"  # a state that does not parse: listed, so it is not forgotten


class RunEntry(BaseModel):
    """One run of `status --format json`; keys are stable (docs/cli.md, "status")."""

    model_config = ConfigDict(extra="forbid")

    run_id: str
    status: str  # in_progress | success | partial | failed | unreadable
    archived: bool
    started_at: datetime | None = None
    updated_at: datetime | None = None
    plan_hash: str | None = None
    attempts: int = 0
    repos: int = 0
    done: int = 0
    failed: int = 0
    blocked: int = 0
    failed_repos: list[str] = Field(default_factory=list)
    location: str
    error: str | None = None  # why an unreadable state could not be read


class RunList(BaseModel):
    """`release-train status --format json` without a run id."""

    model_config = ConfigDict(extra="forbid")

    schema_version: int = LIST_SCHEMA_VERSION
    store: str
    runs: list[RunEntry]


def entry(state: RunState, *, archived: bool, location: str) -> RunEntry:
    statuses = [r.status for r in state.repos.values()]
    return RunEntry(
        run_id=state.run_id,
        status=str(state.status),
        archived=archived,
        started_at=state.started_at,
        updated_at=state.updated_at,
        plan_hash=state.plan_hash,
        attempts=state.attempts,
        repos=len(statuses),
        done=statuses.count(RepoStatus.DONE),
        failed=statuses.count(RepoStatus.FAILED),
        blocked=statuses.count(RepoStatus.BLOCKED),
        failed_repos=[r.repo for r in state.repos.values() if r.status is RepoStatus.FAILED],
        location=location,
    )


def unreadable(run_id: str, *, archived: bool, location: str, error: str) -> RunEntry:
    return RunEntry(
        run_id=run_id, status=UNREADABLE, archived=archived, location=location, error=error
    )


def newest_first(entries: Iterable[RunEntry]) -> list[RunEntry]:
    """By start time, newest first; unreadable states last; ties by run id (determinism)."""
    ordered = sorted(entries, key=lambda e: e.run_id)
    dated = sorted(
        (e for e in ordered if e.started_at is not None),
        key=lambda e: e.started_at or datetime.min,
        reverse=True,
    )
    return dated + [e for e in ordered if e.started_at is None]


def short_hash(plan_hash: str | None) -> str:
    """`sha256:0123456789ab` -> `0123456789ab`: the part people compare."""
    return "-" if plan_hash is None else plan_hash.removeprefix("sha256:")[:12]


def runs_text(listing: RunList) -> str:
    """The table of `release-train status`, then each failed repo and unreadable state."""
    if not listing.runs:
        return f"no runs in {listing.store}\n"
    rows = [_row(e) for e in listing.runs]
    notes = [
        f"  {e.run_id}: failed: {', '.join(e.failed_repos)}" for e in listing.runs if e.failed_repos
    ] + [f"  {e.run_id}: {e.error}" for e in listing.runs if e.error]
    lines = [
        f"Runs in {listing.store} (newest first)",
        "",
        *table(RUNS_COLUMNS, rows),
        *(["", *notes] if notes else []),
        "",
        "details and the resume command: release-train status RUN",
    ]
    return "\n".join(lines) + "\n"


def _row(e: RunEntry) -> Sequence[str]:
    status = e.status + (" (archived)" if e.archived else "")
    started = f"{e.started_at:%Y-%m-%d %H:%M}" if e.started_at else "-"
    counts = [str(n) for n in (e.repos, e.done, e.failed, e.blocked)]
    if e.status == UNREADABLE:
        counts = ["-"] * 4
    return [e.run_id, status, started, *counts, short_hash(e.plan_hash)]


OUTPUT_LINES = 12  # of a failing tool's recorded output: enough to see the cause


def run_text(state: RunState, *, archived: bool, location: str, resume: str) -> str:
    """`release-train status RUN`: where every repo is, each failure's cause with the tail
    of the failing tool's output, and the exact command that continues the run."""
    lines = [summary.status_text(state, archived=archived, location=location).rstrip("\n")]
    for repo in state.repos.values():
        if repo.error is None or not repo.error.output:
            continue
        tail = repo.error.output.rstrip("\n").splitlines()[-OUTPUT_LINES:]
        lines += ["", f"  {repo.repo}: output of {repo.error.step} (last lines):"]
        lines += [f"    | {line}".rstrip() for line in tail]
    if not archived and state.status is not RunStatus.SUCCESS:
        lines += ["", f"resume with: {resume}"]
    return "\n".join(lines) + "\n"
