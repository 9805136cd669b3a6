"""One error type with stable codes, and the exit status each class of code maps to."""

from __future__ import annotations

from enum import IntEnum, StrEnum


class ExitStatus(IntEnum):
    """Exit statuses are part of the interface; `docs/errors.md` lists them from here."""

    OK = 0
    RELEASE_FAILED = 1  # an expected failure while releasing: CI red, lint, lock, conflict
    USAGE = 2  # bad input: arguments, configuration, gate token
    STATE = 3  # the state file: missing, corrupt, locked, conflicting
    GRAPH = 4  # the dependency graph: cycle or drift
    GATE = 5  # the approval gate said no or never answered
    SERVICE = 6  # GitHub, the index or Slack failed in a way retries did not cure
    INTERNAL = 70  # a bug in release-train (EX_SOFTWARE)
    INTERRUPTED = 130  # SIGINT/SIGTERM: the state is recorded, `resume` continues


class ErrorCode(StrEnum):
    """Every code of the original specification plus ours; values never change."""

    # Pre-flight and input (original: INVALID_GATE_TOKEN).
    USAGE = "USAGE"
    CONFIG_NOT_FOUND = "CONFIG_NOT_FOUND"
    CONFIG_INVALID = "CONFIG_INVALID"
    INVALID_GATE_TOKEN = "INVALID_GATE_TOKEN"  # noqa: S105 (an error code, not a secret)
    UNKNOWN_REPO = "UNKNOWN_REPO"
    REPO_NOT_FOUND = "REPO_NOT_FOUND"
    PYPROJECT_INVALID = "PYPROJECT_INVALID"
    VERSION_INVALID = "VERSION_INVALID"
    # Preflight (the plan names every problem before approval; see core/problems).
    PREFLIGHT_FAILED = "PREFLIGHT_FAILED"
    VERSION_BACKWARDS = "VERSION_BACKWARDS"
    VERSION_NOT_FOUND = "VERSION_NOT_FOUND"
    VERSION_COLLISION = "VERSION_COLLISION"
    PUBLISH_TRIGGER_MISMATCH = "PUBLISH_TRIGGER_MISMATCH"
    FAMILY_OVERRIDE = "FAMILY_OVERRIDE"
    NO_INTERPRETER = "NO_INTERPRETER"
    TAG_FORMAT_INVALID = "TAG_FORMAT_INVALID"
    EDGE_DROPPED = "EDGE_DROPPED"
    BRANCH_RULES = "BRANCH_RULES"
    # State (original: STATE_NOT_FOUND, STATE_CORRUPT).
    STATE_NOT_FOUND = "STATE_NOT_FOUND"
    STATE_CORRUPT = "STATE_CORRUPT"
    STATE_CONFLICT = "STATE_CONFLICT"
    RUN_IN_PROGRESS = "RUN_IN_PROGRESS"
    RUN_EXISTS = "RUN_EXISTS"
    FAMILY_LOCKED = "FAMILY_LOCKED"
    STATE_UNUSABLE = "STATE_UNUSABLE"
    PLAN_CHANGED = "PLAN_CHANGED"
    # Graph (original: GRAPH_DRIFT).
    GRAPH_DRIFT = "GRAPH_DRIFT"
    GRAPH_CYCLE = "GRAPH_CYCLE"
    # Per-repo release steps (original: WORKTREE_*, BUMP_FAILED, LOCK_FAILED, LINT_FAILED,
    # TAG_CONFLICT, PYPI_TIMEOUT).
    NOTHING_TO_RELEASE = "NOTHING_TO_RELEASE"
    WORKTREE_CONFLICT = "WORKTREE_CONFLICT"
    WORKTREE_DIRTY = "WORKTREE_DIRTY"
    BUMP_FAILED = "BUMP_FAILED"
    PIN_FAILED = "PIN_FAILED"
    UNRELEASABLE_SOURCE = "UNRELEASABLE_SOURCE"
    CHANGELOG_FAILED = "CHANGELOG_FAILED"
    LOCK_FAILED = "LOCK_FAILED"
    LINT_FAILED = "LINT_FAILED"
    COMMIT_FAILED = "COMMIT_FAILED"
    PUSH_FAILED = "PUSH_FAILED"
    PR_FAILED = "PR_FAILED"
    CI_FAILED = "CI_FAILED"
    CI_TIMEOUT = "CI_TIMEOUT"
    MERGE_FAILED = "MERGE_FAILED"
    BASE_MOVED = "BASE_MOVED"
    NO_CHECKS = "NO_CHECKS"
    PR_CONFLICT = "PR_CONFLICT"
    TAG_CONFLICT = "TAG_CONFLICT"
    PUBLISH_NOT_STARTED = "PUBLISH_NOT_STARTED"
    PUBLISH_FAILED = "PUBLISH_FAILED"
    PYPI_TIMEOUT = "PYPI_TIMEOUT"
    MERGE_QUEUE_REMOVED = "MERGE_QUEUE_REMOVED"
    MERGED_UNPLANNED = "MERGED_UNPLANNED"  # TAG: the merge commit holds more than the release
    # Gate (original: GATE_REJECTED, GATE_TIMEOUT).
    GATE_REJECTED = "GATE_REJECTED"
    GATE_TIMEOUT = "GATE_TIMEOUT"
    # Services and tools.
    GIT_FAILED = "GIT_FAILED"
    COMMAND_FAILED = "COMMAND_FAILED"
    COMMAND_TIMEOUT = "COMMAND_TIMEOUT"
    GITHUB_ERROR = "GITHUB_ERROR"
    PERMISSION_DENIED = "PERMISSION_DENIED"
    INDEX_ERROR = "INDEX_ERROR"
    SLACK_ERROR = "SLACK_ERROR"
    SANDBOX_ERROR = "SANDBOX_ERROR"
    INTERRUPTED = "INTERRUPTED"
    INTERNAL = "INTERNAL"
    # `init` (issue 13, item 9): a config is never overwritten.
    CONFIG_EXISTS = "CONFIG_EXISTS"
    TOOL_MISSING = "TOOL_MISSING"  # uv, pre-commit, pypiserver or git cannot be found
    HOOK_UNREACHABLE = "HOOK_UNREACHABLE"  # LINT: a pre-commit hook repository cannot be reached

    @property
    def exit_status(self) -> ExitStatus:
        return _EXIT_STATUS.get(self, ExitStatus.RELEASE_FAILED)


_EXIT_STATUS: dict[ErrorCode, ExitStatus] = {
    **dict.fromkeys(
        [
            ErrorCode.USAGE,
            ErrorCode.CONFIG_NOT_FOUND,
            ErrorCode.CONFIG_INVALID,
            ErrorCode.INVALID_GATE_TOKEN,
            ErrorCode.UNKNOWN_REPO,
            ErrorCode.REPO_NOT_FOUND,
            ErrorCode.PYPROJECT_INVALID,
            ErrorCode.VERSION_INVALID,
            ErrorCode.PREFLIGHT_FAILED,
            ErrorCode.VERSION_BACKWARDS,
            ErrorCode.VERSION_NOT_FOUND,
            ErrorCode.VERSION_COLLISION,
            ErrorCode.PUBLISH_TRIGGER_MISMATCH,
            ErrorCode.FAMILY_OVERRIDE,
            ErrorCode.NO_INTERPRETER,
            ErrorCode.TAG_FORMAT_INVALID,
            ErrorCode.EDGE_DROPPED,
            ErrorCode.BRANCH_RULES,
            ErrorCode.CONFIG_EXISTS,
            ErrorCode.TOOL_MISSING,
        ],
        ExitStatus.USAGE,
    ),
    **dict.fromkeys(
        [
            ErrorCode.STATE_NOT_FOUND,
            ErrorCode.STATE_CORRUPT,
            ErrorCode.STATE_CONFLICT,
            ErrorCode.RUN_IN_PROGRESS,
            ErrorCode.RUN_EXISTS,
            ErrorCode.PLAN_CHANGED,
            ErrorCode.FAMILY_LOCKED,
            ErrorCode.STATE_UNUSABLE,
        ],
        ExitStatus.STATE,
    ),
    ErrorCode.GRAPH_DRIFT: ExitStatus.GRAPH,
    ErrorCode.GRAPH_CYCLE: ExitStatus.GRAPH,
    ErrorCode.GATE_REJECTED: ExitStatus.GATE,
    ErrorCode.GATE_TIMEOUT: ExitStatus.GATE,
    **dict.fromkeys(
        [
            ErrorCode.GITHUB_ERROR,
            ErrorCode.PERMISSION_DENIED,
            ErrorCode.INDEX_ERROR,
            ErrorCode.SLACK_ERROR,
            ErrorCode.SANDBOX_ERROR,
        ],
        ExitStatus.SERVICE,
    ),
    ErrorCode.INTERRUPTED: ExitStatus.INTERRUPTED,
    ErrorCode.INTERNAL: ExitStatus.INTERNAL,
}


# The hint of an error that only a bug in release-train can cause.
BUG_HINT = "this is a bug in release-train: please report it with this message"


class ReleaseError(Exception):
    """An expected failure: a stable code, a one-line cause, the repo, and a hint."""

    def __init__(
        self,
        code: ErrorCode,
        message: str,
        repo: str | None = None,
        hint: str | None = None,
        output: str | None = None,
    ) -> None:
        self.code = code
        self.message = message
        self.repo = repo
        self.hint = hint
        self.output = output  # tail of a tool's output, already masked
        super().__init__(f"[{code}] {message}")

    def render(self) -> str:
        """`error[CODE]: message` and the hint, as the CLI prints it."""
        where = f" ({self.repo})" if self.repo else ""
        lines = [f"error[{self.code}]{where}: {self.message}"]
        if self.output:
            lines.extend("  | " + line for line in self.output.splitlines())
        if self.hint:
            lines.append(f"hint: {self.hint}")
        return "\n".join(lines)
