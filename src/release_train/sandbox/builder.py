"""Builds real git repositories from declarative histories, fast enough for 10,000 commits.

Histories are written with `git fast-import` in one process per batch, with fixed
authors and dates, so the same specification always yields the same commit SHAs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from release_train.adapters.git import git

AUTHOR = "Release Train Fixtures <fixtures@release-train.invalid>"
EPOCH = 1767225600  # 2026-01-01T00:00:00Z: fixture dates are fixed for stable SHAs
STEP_SECONDS = 3600


@dataclass(frozen=True)
class Change:
    """One commit: its message and the files it writes (a log line when none are given)."""

    message: str
    files: Mapping[str, str] = field(default_factory=dict)


def _data(text: str) -> str:
    return f"data {len(text.encode())}\n{text}\n"


@dataclass
class RepoBuilder:
    """A repository under construction at `path` on branch `branch`."""

    path: Path
    branch: str = "main"
    clock: int = EPOCH
    commits: int = 0

    def init(self) -> RepoBuilder:
        self.path.mkdir(parents=True, exist_ok=True)
        git(self.path, "init", "-q", "-b", self.branch)
        git(self.path, "config", "user.name", "Release Train Fixtures")
        git(self.path, "config", "user.email", "fixtures@release-train.invalid")
        git(self.path, "config", "commit.gpgsign", "false")
        git(self.path, "config", "tag.gpgsign", "false")
        return self

    def _tick(self) -> str:
        self.clock += STEP_SECONDS
        return f"{AUTHOR} {self.clock} +0000"

    def commit(self, changes: Iterable[Change | str]) -> str:
        """Append `changes` to the branch in one fast-import run; return the new HEAD."""
        ref = f"refs/heads/{self.branch}"
        has_head = self.commits > 0
        parts: list[str] = []
        for item in changes:
            change = Change(item) if isinstance(item, str) else item
            self.commits += 1
            files = dict(change.files) or {
                "CHANGES.txt": f"{self.commits}: {change.message.splitlines()[0]}\n"
            }
            stamp = self._tick()
            parts.append(f"commit {ref}\nauthor {stamp}\ncommitter {stamp}\n")
            parts.append(_data(change.message))
            if has_head:
                parts.append(f"from {ref}^0\n")
                has_head = False  # later commits in the stream continue from the previous one
            for path in sorted(files):
                parts.append(f"M 100644 inline {path}\n{_data(files[path])}")
            parts.append("\n")
        git(self.path, "fast-import", "--quiet", "--done", input_text="".join(parts) + "done\n")
        git(self.path, "checkout", "-q", "-f", self.branch)
        return git(self.path, "rev-parse", "HEAD").strip()

    def tag(self, name: str, *, annotated: bool = True, rev: str = "HEAD") -> None:
        stamp = self._tick().rsplit(" ", 2)
        env = {"GIT_COMMITTER_DATE": f"{stamp[1]} +0000"}
        if annotated:
            git(self.path, "tag", "-a", name, "-m", f"Release {name}", rev, env=env)
        else:
            git(self.path, "tag", name, rev)
