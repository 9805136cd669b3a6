"""The stand-in's records (PRs, CI, releases, runs, tokens): pydantic models persisted as JSON."""

from __future__ import annotations

import secrets
import threading
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

CiConclusion = Literal["success", "failure", "none"]
CiMode = Literal["checks", "statuses", "both"]
PublishMode = Literal["tag", "dispatch", "none"]
DEFAULT_LOGIN = "release-train-bot"
ACTIONS_LOGIN = "github-actions[bot]"


class CiSettings(BaseModel):
    """How a repo's simulated CI answers: `none` models a repo without CI at all."""

    conclusion: CiConclusion = "success"
    duration: float = 0.3
    mode: CiMode = "checks"
    checks: list[str] = Field(default_factory=lambda: ["test"])
    required: list[str] = Field(default_factory=list)  # branch protection: contexts to be green
    # A ruleset's `required_status_checks` rule on the default branch: enforced like `required`.
    ruleset: list[str] = Field(default_factory=list)
    # False: reading the branch protection answers 403, as for a token without admin rights.
    protection_readable: bool = True
    # Check name -> seconds after CI starts before its run appears (GitHub: jobs of a later
    # workflow, or an app that reports late); its stages then follow from that moment.
    late: dict[str, float] = Field(default_factory=dict)
    failing: list[str] = Field(default_factory=list)  # checks that fail whatever `conclusion`


class PublishSettings(BaseModel):
    mode: PublishMode = "tag"
    delay: float | None = None  # None: the stand-in's global publish delay
    # The release workflow's file under .github/workflows (a repo's `release_workflow`).
    workflow: str = "release.yml"


class RuleRecord(BaseModel):
    """One rule of a repository ruleset, as `GET .../rules/branches/{b}` lists it."""

    type: str
    parameters: dict[str, Any] | None = None
    branches: list[str] = Field(default_factory=lambda: ["~DEFAULT_BRANCH"])  # fnmatch
    ruleset_id: int


class QueueSettings(BaseModel):
    """How the repo's merge queues pace themselves (the queue itself is a ruleset rule)."""

    delay: float = 0.0  # seconds an entry waits QUEUED before its merge group is built


class RepoRecord(BaseModel):
    name: str
    id: int
    created_at: float
    ci: CiSettings = Field(default_factory=CiSettings)
    publish: PublishSettings = Field(default_factory=PublishSettings)
    workflow_id: int
    rules: list[RuleRecord] = Field(default_factory=list)  # rulesets (sandbox/github/access)
    queue: QueueSettings = Field(default_factory=QueueSettings)


class PullRecord(BaseModel):
    repo: str
    number: int
    id: int
    title: str
    body: str | None
    user: str
    head_ref: str
    head_sha: str
    base_ref: str
    draft: bool = False
    state: Literal["open", "closed"] = "open"
    merged: bool = False
    merged_at: float | None = None
    merged_by: str | None = None
    merge_commit_sha: str | None = None
    closed_at: float | None = None
    created_at: float
    updated_at: float


class CiJob(BaseModel):
    """One CI run of a commit; check runs and statuses derive their stage from the clock."""

    repo: str
    sha: str
    suite_id: int
    created_at: float
    duration: float
    conclusion: Literal["success", "failure"]
    mode: CiMode
    checks: list[tuple[int, str]]  # (check run id, name)
    late: dict[str, float] = Field(default_factory=dict)  # name -> seconds until it registers
    failing: list[str] = Field(default_factory=list)


class StatusRecord(BaseModel):
    id: int
    repo: str
    sha: str
    state: Literal["error", "failure", "pending", "success"]
    context: str
    description: str | None
    target_url: str | None
    creator: str
    created_at: float


class ReleaseRecord(BaseModel):
    id: int
    repo: str
    tag_name: str
    target_commitish: str
    name: str | None
    body: str | None
    draft: bool
    prerelease: bool
    author: str
    created_at: float
    published_at: float | None


class RunRecord(BaseModel):
    """A run of a repo's release workflow, and what its publish step uploaded."""

    id: int
    repo: str
    run_number: int
    event: Literal["push", "workflow_dispatch"]
    tag: str | None
    head_branch: str | None
    head_sha: str
    actor: str = "github-actions[bot]"
    status: Literal["queued", "in_progress", "completed"] = "queued"
    conclusion: Literal["success", "failure", "cancelled"] | None = None
    created_at: float
    updated_at: float
    started_at: float | None = None
    files: list[str] = Field(default_factory=list)
    error: str | None = None


class ApprovalRecord(BaseModel):
    repo: str
    run_id: int
    user: str
    state: Literal["approved", "rejected", "pending"]
    comment: str
    environment: str
    created_at: float


class MergeRecord(BaseModel):
    repo: str
    number: int
    method: str
    base_ref: str
    base_before: str
    head_sha: str
    sha: str
    at: float


EntryState = Literal["QUEUED", "AWAITING_CHECKS", "MERGEABLE", "UNMERGEABLE", "LOCKED"]


class QueueEntryRecord(BaseModel):
    """A PR in a branch's merge queue; it leaves the list when merged or removed."""

    id: int
    repo: str
    branch: str
    number: int
    head_sha: str
    state: EntryState = "QUEUED"
    enqueuer: str
    enqueued_at: float
    base_sha: str | None = None  # the branch tip the merge group was built on
    group_sha: str | None = None  # the `merge_group` commit, once built
    group_ref: str | None = None  # `refs/heads/gh-readonly-queue/<branch>/pr-<n>-<sha>`
    left_at: int | None = None  # a removed entry (a dequeue's answer): the place it had


class QueueEventRecord(BaseModel):
    """A PR timeline event of the queue: `AddedToMergeQueueEvent` / `RemovedFromMergeQueueEvent`."""

    id: int
    repo: str
    number: int
    kind: Literal["added", "removed"]
    actor: str
    at: float
    reason: str | None = None


class TokenRecord(BaseModel):
    token: str
    read_only: bool = False
    login: str = DEFAULT_LOGIN
    # A workflow's GITHUB_TOKEN: what it pushes, tags or opens starts no workflow run
    # (no CI, no tag-triggered publish); only workflow_dispatch still does (DESIGN defect 12).
    actions: bool = False

    @property
    def triggers_workflows(self) -> bool:
        return not self.actions


class WorldState(BaseModel):
    """Everything the stand-in knows beyond the bare repos themselves."""

    next_id: int = 1000
    publish_delay: float = 0.0
    rate_limit: int = 5000
    repos: dict[str, RepoRecord] = Field(default_factory=dict)
    pulls: list[PullRecord] = Field(default_factory=list)
    ci_jobs: list[CiJob] = Field(default_factory=list)
    statuses: list[StatusRecord] = Field(default_factory=list)
    releases: list[ReleaseRecord] = Field(default_factory=list)
    runs: list[RunRecord] = Field(default_factory=list)
    approvals: list[ApprovalRecord] = Field(default_factory=list)
    merges: list[MergeRecord] = Field(default_factory=list)
    queue: list[QueueEntryRecord] = Field(default_factory=list)
    queue_events: list[QueueEventRecord] = Field(default_factory=list)
    tokens: list[TokenRecord] = Field(default_factory=list)


def new_token() -> str:
    return "ghs_" + secrets.token_urlsafe(27).replace("-", "a").replace("_", "b")[:36]


class Store:
    """The state behind one lock, with ids handed out in order and JSON persistence."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.RLock()
        if path.is_file():
            self.state = WorldState.model_validate_json(path.read_text(encoding="utf-8"))
        else:
            self.state = WorldState()

    def next_id(self) -> int:
        with self.lock:
            self.state.next_id += 1
            return self.state.next_id

    def save(self) -> None:
        with self.lock:
            text = self.state.model_dump_json(indent=1)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(self.path)

    def token(self, value: str) -> TokenRecord | None:
        with self.lock:
            for record in self.state.tokens:
                if secrets.compare_digest(record.token, value):
                    return record
        return None

    def add_token(
        self, *, read_only: bool = False, login: str = DEFAULT_LOGIN, actions: bool = False
    ) -> str:
        if actions:
            login = ACTIONS_LOGIN
        record = TokenRecord(token=new_token(), read_only=read_only, login=login, actions=actions)
        with self.lock:
            self.state.tokens.append(record)
        return record.token

    def pull(self, repo: str, number: int) -> PullRecord | None:
        with self.lock:
            for pr in self.state.pulls:
                if pr.repo == repo and pr.number == number:
                    return pr
        return None

    def next_number(self, repo: str) -> int:
        """PRs (and issues) share one number sequence per repo, from 1."""
        with self.lock:
            numbers = [pr.number for pr in self.state.pulls if pr.repo == repo]
            return max(numbers, default=0) + 1
