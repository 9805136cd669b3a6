"""Fixtures of the GitHub stand-in tests: a running stand-in with a small repo, git over HTTP."""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from github import Auth, Github, UnknownObjectException
from github.Repository import Repository

from release_train.adapters.git import git
from release_train.sandbox.builder import Change, RepoBuilder
from release_train.sandbox.family import release_workflow
from release_train.sandbox.github import GitHubStandIn, SandboxAdmin

OWNER = "OmniNode-ai"
REPO = "demo"


@dataclass
class PublishRecorder:
    """A test double of the sandbox's publisher: records each call, optionally fails."""

    calls: list[dict[str, Any]] = field(default_factory=list)
    fail_with: Exception | None = None

    def __call__(self, *, repo: str, bare_repo: Path, tag: str, sha: str) -> list[str]:
        self.calls.append({"repo": repo, "bare_repo": bare_repo, "tag": tag, "sha": sha})
        if self.fail_with is not None:
            raise self.fail_with
        return [f"{repo}-{tag.rsplit('v', 1)[-1]}.tar.gz"]


@dataclass
class World:
    stand_in: GitHubStandIn
    gh: Github
    repo: Repository
    admin: SandboxAdmin
    publisher: PublishRecorder
    source: Path
    tmp: Path

    def github(self, token: str | None = None, **kwargs: Any) -> Github:
        return make_github(self.stand_in, token, **kwargs)

    def clone(
        self, name: str = "clone", *, token: str | None = None, args: tuple[str, ...] = ()
    ) -> Path:
        target = self.tmp / name
        git_http(
            self,
            self.tmp,
            "clone",
            "-q",
            *args,
            self.stand_in.clone_url(REPO),
            str(target),
            token=token,
        )
        git(target, "config", "user.name", "Dev")
        git(target, "config", "user.email", "dev@example.invalid")
        return target


def make_github(stand_in: GitHubStandIn, token: str | None = None, **kwargs: Any) -> Github:
    """PyGithub against the stand-in, without its client-side pacing (tests wait for nothing)."""
    options: dict[str, Any] = {
        "seconds_between_requests": None,
        "seconds_between_writes": None,
        "retry": None,
        "timeout": 10,
    }
    options.update(kwargs)
    return Github(base_url=stand_in.api_url, auth=Auth.Token(token or stand_in.token), **options)


def auth_env(token: str) -> dict[str, str]:
    """git config through the environment: the token never appears in argv or in a URL."""
    basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
    return {
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": "http.extraHeader",
        "GIT_CONFIG_VALUE_0": f"Authorization: Basic {basic}",
        "GIT_TERMINAL_PROMPT": "0",
    }


def git_http(world: World, cwd: Path, *args: str, token: str | None = None) -> str:
    return git(cwd, *args, env=auth_env(token or world.stand_in.token))


def wait_for(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


def build_source(path: Path) -> Path:
    builder = RepoBuilder(path).init()
    builder.commit(
        [
            Change(
                "feat: first",
                {
                    "pyproject.toml": '[project]\nname = "demo"\nversion = "1.0.0"\n',
                    # The stand-in starts runs as this file says: `demo/v1.1.0`, not `nightly`.
                    ".github/workflows/release.yml": release_workflow(["*/v[0-9]*", "v[0-9]*"]),
                },
            ),
            Change("docs: readme", {"README.md": "# demo\n"}),
        ]
    )
    builder.tag("demo/v1.0.0")
    return path


@pytest.fixture
def gh_world(tmp_path: Path) -> Iterator[World]:
    publisher = PublishRecorder()
    stand_in = GitHubStandIn(tmp_path / "world", publisher=publisher)
    threads_before = set(threading.enumerate())
    stand_in.start()
    try:
        stand_in.add_repo(REPO, build_source(tmp_path / "source"))
        admin = SandboxAdmin(stand_in.admin_url)
        admin.set_ci(REPO, duration=0.2)
        gh = make_github(stand_in)
        yield World(
            stand_in,
            gh,
            gh.get_repo(f"{OWNER}/{REPO}"),
            admin,
            publisher,
            tmp_path / "source",
            tmp_path,
        )
    finally:
        stand_in.stop()
    leftover = [t for t in set(threading.enumerate()) - threads_before if t.is_alive()]
    assert not [t for t in leftover if t.name.startswith(("github-stand-in", "publish-", "queue-"))]


def commit_on_branch(world: World, branch: str, files: dict[str, str], message: str) -> str:
    """Create `branch` from main (if new) with one commit, through the contents API."""
    repo = world.repo
    refs = [r.ref for r in repo.get_git_matching_refs(f"heads/{branch}")]
    if f"refs/heads/{branch}" not in refs:
        repo.create_git_ref(f"refs/heads/{branch}", repo.get_branch("main").commit.sha)
    sha = ""
    for path, text in sorted(files.items()):
        try:
            current = repo.get_contents(path, ref=branch)
            assert not isinstance(current, list)
            result = repo.update_file(path, message, text, current.sha, branch=branch)
        except UnknownObjectException:
            result = repo.create_file(path, message, text, branch=branch)
        sha = result["commit"].sha
    return sha
