"""Starting and stopping the sandbox world: in-process (`Sandbox`) or detached (`up`/`down`)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

from release_train import interrupts
from release_train.adapters import command, toolchain
from release_train.adapters.git import git
from release_train.errors import ErrorCode, ReleaseError
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


def _proc_stat(pid: int) -> tuple[str, int] | None:
    """(state letter, session id) of `pid` from /proc; None when there is no such process."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Fields after the command name, which is in parentheses and may hold spaces.
    fields = text.rsplit(")", 1)[1].split()
    return fields[0], int(fields[3])


def alive(pid: int) -> bool:
    stat = _proc_stat(pid)
    return stat is not None and stat[0] != "Z"  # a zombie has exited, only unreaped


def session_members(sid: int) -> list[int]:
    """Live processes of session `sid`, sorted."""
    pids = (int(name) for name in os.listdir("/proc") if name.isdigit())
    members = []
    for pid in pids:
        stat = _proc_stat(pid)
        if stat is not None and stat[1] == sid and stat[0] != "Z":
            members.append(pid)
    return sorted(members)


def _read_pid(root: Path) -> tuple[int, int] | None:
    """(pid, session id) the server wrote as it started."""
    try:
        pid, sid = (int(x) for x in (root / PID_FILE).read_text().split())
    except (OSError, ValueError):
        return None
    return pid, sid


def running_pid(root: Path) -> int | None:
    """The pid of the sandbox server of `root`, if it runs (and is not a reused pid)."""
    found = _read_pid(root)
    if found is None or not alive(found[0]):
        return None
    try:
        cmdline = Path(f"/proc/{found[0]}/cmdline").read_bytes()
    except OSError:
        return None
    return found[0] if b"release_train.sandbox.serve" in cmdline else None


def up(
    root: Path,
    *,
    seed: bool = True,
    timeout: float = 300.0,
    upstream_index: str | None = None,
    clones: Mapping[str, Path] | None = None,
    default_branches: Mapping[str, str] | None = None,
    release_workflows: Mapping[str, str] | None = None,
    owned: bool = False,
) -> dict[str, str]:
    """Start the world detached from this process; return its environment once ready.

    `clones` etc. are `Sandbox.import_repos`'s: a rehearsal's world that stays up (its
    `sandbox.json` holds `github_rewrites` too).

    `owned`: the world and `root` belong to this process; should it vanish without
    stopping them (SIGKILL), the server stops and removes `root` itself.
    """
    root = root.resolve()
    pid = running_pid(root)
    if pid is not None:
        raise ReleaseError(
            ErrorCode.SANDBOX_ERROR,
            f"a sandbox is already running in {root} (pid {pid})",
            hint=f"stop it first with `release-train sandbox down --dir {root}`",
        )
    _forget(root)
    log_path = root / "logs" / "serve.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "release_train.sandbox.serve", "--dir", str(root), "--detach"]
    argv += ["--owner-pid", str(os.getpid())] if owned else []
    argv += ["--upstream-index", upstream_index] if upstream_index else []
    for flag, pairs in (
        ("--import", {name: str(path) for name, path in (clones or {}).items()}),
        ("--default-branch", default_branches or {}),
        ("--release-workflow", release_workflows or {}),
    ):
        argv += [arg for name in sorted(pairs) for arg in (flag, f"{name}={pairs[name]}")]
    with contextlib.ExitStack() as undo:
        # Until the world is ready, any exit (a failure, Ctrl-C, SIGTERM made an exception)
        # stops its session: nothing started here outlives a failed `up` (issue 13, item 2).
        with interrupts.deferred(), log_path.open("ab") as log:
            # The sanctioned direct Popen: a server that outlives this command, in its own
            # session so that `down` can find and stop all of it. It forks and exits at once.
            launcher = subprocess.Popen(
                [*argv, *([] if seed else ["--no-seed"])],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            # The launcher leads the new session, and the server it forks stays in it.
            undo.callback(_stop_session, launcher.pid, None, 20.0)
        if launcher.wait(timeout=60) != 0:
            raise _start_failed(root, log_path, "the sandbox server could not be launched")
        state = _wait_ready(root, log_path, timeout)
        undo.pop_all()
    env: dict[str, str] = state["env"]
    write_env(root / ENV_FILE, env)
    if seed:
        text = config_text(owner=state["owner"], index_url=env["INDEX_URL"])
        (root / CONFIG_FILE).write_text(text, encoding="utf-8")
    return env


def _wait_ready(root: Path, log_path: Path, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = read_state(root)
        if state is not None:
            return state
        found = _read_pid(root)
        if found is not None and not alive(found[0]):
            raise _start_failed(root, log_path, "the sandbox server exited while starting")
        time.sleep(0.1)
    down(root)
    raise _start_failed(root, log_path, f"the sandbox was not ready within {timeout:g}s")


def _start_failed(root: Path, log_path: Path, message: str) -> ReleaseError:
    _forget(root)
    lines = log_path.read_text(errors="replace").splitlines() if log_path.exists() else []
    return ReleaseError(
        ErrorCode.SANDBOX_ERROR, message, hint=f"see {log_path}", output="\n".join(lines[-20:])
    )


def down(root: Path, *, timeout: float = 20.0) -> bool:
    """Stop the detached world of `root` and every process of its session; False if none ran."""
    root = root.resolve()
    found = _read_pid(root)
    if found is None or not session_members(found[1]):
        _forget(root)
        return False
    _stop_session(found[1], found[0], timeout)
    _forget(root)
    return True


def _stop_session(sid: int, pid: int | None, timeout: float) -> None:
    """SIGTERM to the server `pid` (or, without one, to all of session `sid`), then harder."""
    for member in [pid] if pid is not None else session_members(sid):
        _signal(member, signal.SIGTERM)  # the server stops its parts and exits
    if not _wait_gone(sid, timeout):
        for member in session_members(sid):
            _signal(member, signal.SIGTERM)
        if not _wait_gone(sid, min(timeout, 5.0)):
            for member in session_members(sid):
                _signal(member, signal.SIGKILL)
            _wait_gone(sid, 5.0)


def _signal(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # it may have gone by itself meanwhile
        os.kill(pid, signum)


def _wait_gone(sid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while session_members(sid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


def _forget(root: Path) -> None:
    for name in (STATE_FILE, PID_FILE, ENV_FILE):
        (root / name).unlink(missing_ok=True)
