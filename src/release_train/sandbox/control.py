"""The sandbox world in this process (`Sandbox`), and the files a world leaves in its root.

`detached.py` runs one in the background (`up`/`down`).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

from release_train.adapters import command, toolchain
from release_train.adapters.git import git
from release_train.errors import ErrorCode
from release_train.sandbox import imports
from release_train.sandbox.cdn import IndexCdn
from release_train.sandbox.family import OWNER, Hook, build_sample_family, config_text
from release_train.sandbox.github import GitHubStandIn
from release_train.sandbox.index import IndexServer
from release_train.sandbox.publish import (
    build_dists,
    check_versions,
    make_publisher,
    publish_files,
    seed_build_backends,
    uv_environment,
)
from release_train.sandbox.slack import SlackStandIn


class FamilyBuilder(Protocol):
    """Builds repos in `dest`, upstreams first, calling the hooks around each release tag."""

    def __call__(
        self, dest: Path, *, before_tag: Hook | None = None, after_tag: Hook | None = None
    ) -> list[Path]: ...


STATE_FILE = "sandbox.json"
PID_FILE = "serve.pid"
ENV_FILE = "env"
# What a sandbox writes under its directory; a fresh start clears exactly these.
WORLD_DIRS = ("index", "github", "family", "uv-cache", "backends", "seed-dists", "state", "work")
CONFIG_FILE = "release-train.toml"
LOCK_MESSAGE = "build: lock dependencies"
PROTECTED_CHECKS = ("test",)  # the stand-in CI's check; main's protection requires it


@dataclass
class FamilySeeder:
    """The hooks that give each sample repo a `uv.lock` and put its release on the index."""

    index: IndexServer
    cache_dir: Path

    def lock(self, repo_dir: Path, tag: str) -> None:
        """`uv lock` against the sandbox index (upstreams are there already) and commit it."""
        env = uv_environment(self.index.simple_url, self.cache_dir)
        command.run(
            toolchain.argv(
                toolchain.UV, "lock", "--no-config", "--default-index", self.index.simple_url
            ),
            cwd=repo_dir,
            env=env,
            code=ErrorCode.LOCK_FAILED,
            repo=repo_dir.name,
        )
        git(repo_dir, "add", "uv.lock")
        # One step after HEAD, so the seeded history stays reproducible commit for commit.
        stamp = f"{int(git(repo_dir, 'log', '-1', '--format=%ct').strip()) + 60} +0000"
        dates = {"GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp}
        git(repo_dir, "commit", "-q", "--no-verify", "-m", LOCK_MESSAGE, env=dates)

    def publish(self, repo_dir: Path, tag: str) -> None:
        """Build the tagged commit as the release workflow would, and upload it."""
        out = self.cache_dir.parent / "seed-dists" / repo_dir.name
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        files = build_dists(
            repo_dir,
            tag,
            out,
            index_url=self.index.simple_url,
            cache_dir=self.cache_dir,
            repo=repo_dir.name,
        )
        check_versions(files, tag, repo=repo_dir.name)
        publish_files(self.index, files, repo=repo_dir.name)


@dataclass
class Sandbox:
    """The whole world, running in this process: `with Sandbox.start(d) as world: ...`."""

    root: Path
    owner: str
    index: IndexServer
    cdn: IndexCdn
    slack: SlackStandIn
    github: GitHubStandIn
    repos: list[str] = field(default_factory=list)
    _read_token: str | None = None  # for the URL rewrites; made on first use

    @classmethod
    def start(
        cls,
        root: Path,
        *,
        owner: str = OWNER,
        family: FamilyBuilder | None = build_sample_family,
        publish_delay: float | None = None,
        upstream_index: str | None = None,
    ) -> Sandbox:
        """Start index, Slack and GitHub on free loopback ports and seed `family` into them.

        With `upstream_index` (a Simple API URL) the index front serves what the sandbox
        index lacks from there: third-party packages, a real family's older releases.
        """
        root = root.resolve()
        clear_world(root)
        index = IndexServer(root / "index", log_path=root / "logs" / "index.log")
        cdn = IndexCdn(index, upstream=upstream_index)
        slack = SlackStandIn()
        cache_dir = root / "uv-cache"
        reads = cdn if upstream_index else None  # backends of real repos come from upstream
        publisher = make_publisher(index, cache_dir=cache_dir, reads=reads)
        github = GitHubStandIn(root / "github", owner=owner, publisher=publisher)
        world = cls(root, owner, index, cdn, slack, github)
        try:
            index.start()
            cdn.start()
            seed_build_backends(index, root / "backends")
            slack.start()
            github.start()
            if publish_delay is not None:
                github.set_publish_delay(publish_delay)
            if family is not None:
                world.seed(family, FamilySeeder(index, cache_dir))
        except BaseException:
            world.stop()
            raise
        return world

    def seed(self, family: FamilyBuilder, seeder: FamilySeeder) -> None:
        before: Hook = seeder.lock
        after: Hook = seeder.publish
        admin = self.github.admin()
        for repo_dir in family(self.root / "family", before_tag=before, after_tag=after):
            self.github.add_repo(repo_dir.name, repo_dir)
            # Branch protection requires the CI's check, as a real family's main would: MERGE
            # then knows what to wait for and needs no grace period for late checks.
            admin.set_ci(repo_dir.name, required=list(PROTECTED_CHECKS))
            self.repos.append(repo_dir.name)

    def import_repos(
        self,
        clones: Mapping[str, Path],
        *,
        default_branches: Mapping[str, str] | None = None,
        release_workflows: Mapping[str, str] | None = None,
    ) -> None:
        """Host each clone (history, every branch, every tag) as `owner/<name>`.

        The default branch is `default_branches[name]`, else the branch the clone has
        checked out; `release_workflows[name]` names the file under .github/workflows that
        publishes (a repo's `release_workflow`, release.yml when not given). The clones
        are only read.
        """
        branches = imports.default_branches(clones, default_branches)
        workflows = dict(release_workflows or {})
        admin = self.github.admin()
        for name, branch in branches.items():
            self.github.add_repo(
                name, clones[name], default_branch=branch, workflow=workflows.get(name)
            )
            admin.set_ci(name, required=list(PROTECTED_CHECKS))
            self.repos.append(name)

    def github_rewrites(self) -> dict[str, str]:
        """GitHub URL prefix -> stand-in URL of each hosted repo: apply each pair as git's
        `url.<value>.insteadOf=<key>` (e.g. through GIT_CONFIG_COUNT/KEY/VALUE) and
        `https://github.com/<owner>/<repo>` (ssh and `.git` spellings too) fetches from here.

        The stand-in URLs carry a read-only token, since git sends no other credentials.
        """
        if self._read_token is None:
            self._read_token = self.github.make_token(read_only=True)
        host = self.github.server_url.removeprefix("http://")
        base = f"http://x-access-token:{self._read_token}@{host}"
        return imports.github_rewrites(self.owner, self.repos, base)

    def stop(self) -> None:
        """Stop every part that runs; safe to call twice."""
        self.github.stop()
        self.slack.stop()
        self.cdn.stop()
        self.index.stop()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def env(self) -> dict[str, str]:
        """What a client needs to talk to this world, as environment variables."""
        return {
            "GITHUB_API_URL": self.github.api_url,
            "GITHUB_SERVER_URL": self.github.server_url,
            "GITHUB_TOKEN": self.github.token,
            "RELEASE_TRAIN_OWNER": self.owner,
            # Clients read through the CDN-like front; only uploads reach pypiserver directly.
            "INDEX_URL": self.cdn.simple_url,
            "INDEX_JSON_URL": f"{self.cdn.url}/pypi/",
            "INDEX_UPLOAD_URL": self.index.upload_url,
            "INDEX_ADMIN_URL": self.cdn.admin_url,
            "SLACK_API_URL": self.slack.api_url,
            "SLACK_BOT_TOKEN": self.slack.bot_token,
            "SLACK_CHANNEL_ID": self.slack.channel_id,
            "SANDBOX_ADMIN_URL": self.github.admin_url,
            "SLACK_ADMIN_URL": self.slack.admin_url,
            # A rehearsal keeps its runs' states and clones inside the world.
            "RELEASE_TRAIN_STATE_DIR": str(self.root / "state"),
            "RELEASE_TRAIN_WORK_DIR": str(self.root / "work"),
        }

    def config_text(self) -> str:
        """`release-train.toml` of the sample family against this world."""
        return config_text(owner=self.owner, index_url=self.cdn.simple_url)

    def describe(self) -> dict[str, Any]:
        """The state file's content: how `status` and `down` find this world again."""
        return {
            "pid": os.getpid(),
            "sid": os.getsid(0),
            "root": str(self.root),
            "owner": self.owner,
            "repos": self.repos,
            "ports": {
                "index": self.index.port,
                "cdn": int(self.cdn.url.rsplit(":", 1)[1]),
                "github": int(self.github.server_url.rsplit(":", 1)[1]),
                "slack": int(self.slack.server_url.rsplit(":", 1)[1]),
            },
            "index_pid": self.index.pid,
            "env": self.env,
            "upstream_index": self.cdn.upstream,
            "github_rewrites": self.github_rewrites(),
        }


def clear_world(root: Path) -> None:
    """Remove what an earlier sandbox left in `root`; other files (a config) stay."""
    for name in WORLD_DIRS:
        shutil.rmtree(root / name, ignore_errors=True)
    root.mkdir(parents=True, exist_ok=True)


def write_env(path: Path, env: dict[str, str]) -> None:
    """`KEY=value` lines, sorted; readable by the owner only since it holds tokens."""
    path.write_text("".join(f"{key}={env[key]}\n" for key in sorted(env)))
    path.chmod(0o600)


def write_json_atomically(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    tmp.chmod(0o600)
    tmp.replace(path)


def read_state(root: Path) -> dict[str, Any] | None:
    """What a running detached sandbox wrote once ready; None when there is none."""
    try:
        data: dict[str, Any] = json.loads((root / STATE_FILE).read_text())
    except (OSError, ValueError):
        return None
    return data
