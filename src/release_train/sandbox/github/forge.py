"""The stand-in's world: hosted repos, their records, and what happens when a ref moves."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from packaging.version import InvalidVersion, Version

from release_train.errors import ErrorCode, ReleaseError
from release_train.sandbox.github import ci, queue, workflows
from release_train.sandbox.github.api import not_found
from release_train.sandbox.github.bare import BareRepo
from release_train.sandbox.github.model import RepoRecord, Store, TokenRecord
from release_train.sandbox.github.shapes import Urls

if TYPE_CHECKING:
    from release_train.sandbox.github.queue import QueueRunner
    from release_train.sandbox.github.workflows import WorkflowRunner

_REPO_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
_RELEASE_TAG = re.compile(r"(?:^|[/_-])v(?P<version>[0-9][^/]*)$")


class Publisher(Protocol):
    """Builds the tree at `sha` and uploads it; returns the uploaded file names."""

    def __call__(self, *, repo: str, bare_repo: Path, tag: str, sha: str) -> list[str]: ...


def release_version(tag: str) -> str | None:
    """The version of a release tag (`omnibase_core/v1.5.0`, `v1.5.0`), or None for other tags."""
    match = _RELEASE_TAG.search(tag)
    if not match:
        return None
    try:
        return str(Version(match["version"]))
    except InvalidVersion:
        return None


class Forge:
    """Repos, records and events, shared by the API, git hosting and the admin API."""

    def __init__(self, root: Path, owner: str, publisher: Publisher | None) -> None:
        self.root = root
        self.owner = owner
        self.publisher = publisher
        self.store = Store(root / "github-state.json")
        self.urls = Urls("", "", owner)
        self.runner: WorkflowRunner | None = None
        self.queues: QueueRunner | None = None
        self.repos = {name: BareRepo(self.bare_path(name)) for name in self.store.state.repos}

    def bare_path(self, name: str) -> Path:
        return self.root / "git" / self.owner / f"{name}.git"

    def add_repo(
        self, name: str, source: Path, *, default_branch: str = "main", workflow: str | None = None
    ) -> None:
        if not _REPO_NAME.match(name):
            raise ReleaseError(
                ErrorCode.SANDBOX_ERROR,
                f"invalid repository name {name!r}",
                hint="use letters, digits, '.', '-' and '_'",
            )
        with self.store.lock:
            if name in self.store.state.repos:
                raise ReleaseError(
                    ErrorCode.SANDBOX_ERROR,
                    f"repository {name} already exists",
                    hint="choose another name, or start from a fresh sandbox",
                )
            bare = BareRepo(self.bare_path(name))
            bare.init_from(source, default_branch)
            record = RepoRecord(
                name=name,
                id=self.store.next_id(),
                created_at=time.time(),
                workflow_id=self.store.next_id(),
            )
            if workflow is not None:
                record.publish.workflow = workflow
            self.store.state.repos[name] = record
            self.repos[name] = bare

    def repo(self, owner: str, name: str) -> tuple[RepoRecord, BareRepo]:
        """The record and bare repo of `owner/name`, or GitHub's 404."""
        with self.store.lock:
            record = self.store.state.repos.get(name)
        if owner.lower() != self.owner.lower() or record is None:
            raise not_found()
        return record, self.repos[name]

    def default_branch(self, bare: BareRepo) -> str:
        return bare.git("symbolic-ref", "--short", "HEAD").strip()

    @contextmanager
    def watching(self, name: str, actor: TokenRecord | None = None) -> Iterator[None]:
        """Diff the refs of `name` around a change by `actor` and raise the events GitHub would."""
        bare = self.repos[name]
        with bare.lock:
            before = bare.refs()
            try:
                yield
            finally:
                after = bare.refs()
        self.refs_changed(name, before, after, actor)

    def refs_changed(
        self,
        name: str,
        before: dict[str, str],
        after: dict[str, str],
        actor: TokenRecord | None = None,
    ) -> None:
        triggers = actor is None or actor.triggers_workflows
        for ref in sorted(set(before) | set(after)):
            old, new = before.get(ref), after.get(ref)
            if old == new or new is None:
                continue
            if ref.startswith("refs/heads/"):
                self._branch_moved(name, ref.removeprefix("refs/heads/"), new, run_ci=triggers)
            elif ref.startswith("refs/tags/") and old is None and triggers:
                self._tag_created(name, ref.removeprefix("refs/tags/"))

    def _branch_moved(self, name: str, branch: str, sha: str, *, run_ci: bool) -> None:
        """A push to a PR's head branch synchronises the PR and runs CI on the new head."""
        now = time.time()
        with self.store.lock:
            moved = [
                pr
                for pr in self.store.state.pulls
                if pr.repo == name and pr.state == "open" and pr.head_ref == branch
            ]
            for pr in moved:
                pr.head_sha = sha
                pr.updated_at = now
                entry = queue.entry_of(self, name, pr.number)
                if entry is not None and entry.head_sha != sha:  # GitHub dequeues on a push
                    queue.remove(self, entry, queue.HEAD_CHANGED, "github")
        if moved and run_ci:
            ci.start(self, name, sha)

    def _tag_created(self, name: str, tag: str) -> None:
        """A new tag starts the release workflow when the workflow file at it says so."""
        record = self.store.state.repos[name]
        if record.publish.mode != "tag" or self.runner is None:
            return
        bare = self.repos[name]
        sha = bare.resolve(f"refs/tags/{tag}")
        if sha is None:
            return
        if workflows.starts_on_push(workflows.workflow_at(bare, record.publish.workflow, sha), tag):
            self.runner.trigger(name, tag=tag, sha=sha, event="push", head_branch=tag)
