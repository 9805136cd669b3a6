"""What every step shares: the `done`/`apply` protocol, the release commit's subject, the
worktree's files and the planned range of commits."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from release_train.adapters import workspace
from release_train.adapters.git import log_excluding
from release_train.context import RepoContext
from release_train.core.release_text import release_subject
from release_train.errors import ErrorCode, ReleaseError


class Step(Protocol):
    phase: str  # recorded once the step's effect is there
    external: bool  # its effect is visible outside the worktree: state is made durable

    def done(self, ctx: RepoContext) -> bool: ...
    def apply(self, ctx: RepoContext) -> None: ...


@runtime_checkable
class Skippable(Protocol):
    """A step that some repos do not need: the progress line says why, not "already there"."""

    def idle(self, ctx: RepoContext) -> str | None:
        """Why the step has nothing to do for this repo ("no upstreams to pin"), or None."""
        ...


def release_message(ctx: RepoContext) -> str:
    return release_subject(ctx.name, ctx.repo.new_version)


def read_file(ctx: RepoContext, relative: str) -> str | None:
    path = ctx.worktree / relative
    return path.read_text(encoding="utf-8") if path.is_file() else None


def write_file(ctx: RepoContext, relative: str, text: str) -> None:
    (ctx.worktree / relative).write_text(text, encoding="utf-8")


def pyproject(ctx: RepoContext) -> tuple[str, str]:
    relative = ctx.config.repos[ctx.name].pyproject
    text = read_file(ctx, relative)
    if text is None:
        raise ReleaseError(
            ErrorCode.PYPROJECT_INVALID,
            f"{relative} is missing in the worktree",
            repo=ctx.name,
            hint="set the repo's `pyproject` in the config to the file's path",
        )
    return relative, text


def range_commits(ctx: RepoContext) -> list[tuple[str, str]]:
    """(sha, message) of the planned range, oldest first: what no release tag holds."""
    releases = workspace.release_candidates(ctx.config, ctx.source, ctx.name, ctx.repo.package)
    exclude = sorted({r.commit for r in releases if r.commit})
    return [(c.sha, c.message) for c in log_excluding(ctx.source, ctx.repo.base, exclude)]
