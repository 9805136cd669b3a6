"""The engine tests' world: one sandbox with a lane of tiny repos per scenario, and a rig.

Every scenario releases only its own lane (its config names no other repo), with its own
state and work directories, so all scenarios share one sandbox start-up without seeing
each other's runs. A scenario that needs something to release pushes a commit first, so
the order the tests run in does not matter.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from github import Auth, Github

from release_train import cli, runs
from release_train.adapters import clones, command
from release_train.adapters.git import git
from release_train.adapters.store import local_store
from release_train.config import FailurePolicy, load_config
from release_train.console import ConsoleProgress
from release_train.context import Progress, Waits
from release_train.core.state import Gate, RunState
from release_train.engine import PAUSE_VARIABLE
from release_train.sandbox.builder import Change, RepoBuilder
from release_train.sandbox.control import Sandbox
from release_train.sandbox.family import Hook
from release_train.sandbox.github import SandboxAdmin

from ..sandbox.conftest import project_files

CLI_TIMEOUT = 240.0
# CI that is green by the first look: a test that needs it pending says so (and resets it).
CI_SECONDS = 0.0
BOT = ["-c", "user.name=Someone Else", "-c", "user.email=someone@example.invalid"]


@dataclass(frozen=True)
class LaneRepo:
    """A tiny repo: released at `version` (tag `<repo>/v<version>`), then maybe one fix."""

    repo: str  # also its module; the distribution is the repo with dashes
    requires: tuple[str, ...] = ()
    unreleased: bool = True
    locked: bool = False  # a uv.lock is committed before the tag (upstreams on the index)
    published: bool = False  # the release is on the index from the start
    publish: str = "none"  # the stand-in's publish mode, and the config's by default
    publish_delay: float | None = None
    version: str = "1.0.0"
    protected: bool = True  # main's branch protection requires the CI's check (the default)

    @property
    def package(self) -> str:
        return self.repo.replace("_", "-")

    @property
    def tag(self) -> str:
        return f"{self.repo}/v{self.version}"


# Most lanes have no uv.lock and publish nothing, so they release in a couple of seconds;
# `lag` and `token` really build and upload, `index` has a publish run that never ends.
LANES: dict[str, tuple[LaneRepo, ...]] = {
    "merge": (LaneRepo("mrg_core"),),
    "lag": (
        LaneRepo("lag_core", publish="tag", published=True),
        LaneRepo("lag_app", ("lag-core>=1.0",), publish="tag", locked=True),
    ),
    "ci": (LaneRepo("ci_core"),),
    "index": (LaneRepo("idx_core", publish="tag", publish_delay=600.0),),
    "policy": (
        LaneRepo("pol_core"),
        LaneRepo("pol_docs", unreleased=False),
        LaneRepo("pol_app", ("pol-core>=1.0",)),
        LaneRepo("pol_cli", ("pol-core>=1.0",)),
        LaneRepo("pol_ext", ("pol-app>=1.0",)),
    ),
    # PRs opened with a workflow's token run no CI: no check to require there.
    "token": (LaneRepo("tok_core", publish="tag", protected=False),),
    "workspace": (LaneRepo("ws_core"),),
    "day": (LaneRepo("day_core"),),
    "cli": (LaneRepo("cli_core"), LaneRepo("cli_app", ("cli-core>=1.0",))),
    "lock": (LaneRepo("lck_core"),),
    "detail": (LaneRepo("dtl_core"), LaneRepo("dtl_app", ("dtl-core>=1.0",))),
    "train": (LaneRepo("trn_core"),),
    "conflict": (LaneRepo("prc_core"),),
    "signal": (LaneRepo("sig_core"),),
    "parallel": (LaneRepo("par_one"), LaneRepo("par_two")),
    # MERGE's guards: the base moving, no CI, a late check, required checks never reported.
    "moved": (LaneRepo("mvd_core"),),
    "nochecks": (LaneRepo("nck_core"),),
    "handmerge": (LaneRepo("hmg_core"),),
    "late": (LaneRepo("late_core"),),
    "lategreen": (LaneRepo("lgr_core"),),
    "required": (LaneRepo("req_core"),),
    "fetch": (LaneRepo("fch_core"), LaneRepo("fch_app", ("fch-core>=1.0",))),
    "waits": (LaneRepo("wts_core"),),
    "indexwait": (LaneRepo("idw_core", publish="tag", publish_delay=600.0),),
    "status": (LaneRepo("sts_core"), LaneRepo("sts_app", ("sts-core>=1.0",))),
    # Merge queues (issue 15): two of three repos merge through one; failure; crashes.
    "queue": (
        LaneRepo("mq_core"),
        LaneRepo("mq_mid", ("mq-core>=1.0",)),
        LaneRepo("mq_app", ("mq-core>=1.0", "mq-mid>=1.0")),
    ),
    "queuefail": (LaneRepo("mqf_core"),),
    "queuecrash": (LaneRepo("mqc_core"),),
    "queuefault": (LaneRepo("mqd_core"),),
    "queuelate": (LaneRepo("mql_core"),),
    "queueahead": (LaneRepo("mqa_core"),),
    "queueslow": (LaneRepo("mqs_core"),),
    "queueclosed": (LaneRepo("mqx_core"),),
    "ghrelease": (LaneRepo("ghr_core"),),
}


def build_lanes(
    dest: Path, *, before_tag: Hook | None = None, after_tag: Hook | None = None
) -> list[Path]:
    """Every lane's repos, upstreams first; the seeder's hooks only where a lane needs them."""
    dest.mkdir(parents=True, exist_ok=True)
    paths = []
    for lane in LANES.values():
        for spec in lane:
            builder = RepoBuilder(dest / spec.repo).init()
            files = project_files(spec.package, spec.version, spec.requires)
            builder.commit([Change("feat: first release", files)])
            if spec.locked and before_tag is not None:
                before_tag(builder.path, spec.tag)
                builder.commits += 1
            builder.tag(spec.tag)
            if spec.published and after_tag is not None:
                after_tag(builder.path, spec.tag)
            if spec.unreleased:
                builder.commit(["fix: a change after the release"])
            paths.append(builder.path)
    return paths


@pytest.fixture(scope="package")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    sandbox = Sandbox.start(tmp_path_factory.mktemp("engine") / "world", family=build_lanes)
    try:
        admin = sandbox.github.admin()
        for lane in LANES.values():
            for spec in lane:
                admin.set_publish(spec.repo, mode=spec.publish, delay=spec.publish_delay)
                admin.set_ci(spec.repo, duration=CI_SECONDS)
                if not spec.protected:
                    admin.set_ci(spec.repo, required=[])
        yield sandbox
    finally:
        sandbox.stop()


# Fast polling on loopback; every bound generous enough for a loaded machine.
FAST_WAITS = Waits(
    ci_timeout=60.0, publish_start_timeout=30.0, index_timeout=90.0, first=0.1, longest=0.5
)


@dataclass
class Running:
    """A CLI process that runs on until the test ends it, and what it has printed so far."""

    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)
    seen: threading.Event = field(default_factory=threading.Event)

    @property
    def output(self) -> str:
        return "".join(self.lines)


@dataclass
class Rig:
    """One test's view of the world: its own state and work dirs, configs, runs and pushes."""

    world: Sandbox
    root: Path

    @property
    def state_dir(self) -> Path:
        return self.root / "state"

    @property
    def work_dir(self) -> Path:
        return self.root / "work"

    @property
    def admin(self) -> SandboxAdmin:
        return self.world.github.admin()

    def env(self) -> dict[str, str]:
        return {
            **self.world.env,
            "RELEASE_TRAIN_STATE_DIR": str(self.state_dir),
            "RELEASE_TRAIN_WORK_DIR": str(self.work_dir),
        }

    def config(
        self,
        lane: str,
        *,
        settings: Mapping[str, Any] | None = None,
        repos: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> Path:
        """A config naming only `lane`'s repos; `settings` and `repos` add or override keys."""
        lines = [
            f"owner = {json.dumps(self.world.owner)}",
            'tag_format = "{repo}/v{version}"',
            f"index_url = {json.dumps(self.world.cdn.simple_url)}",
            *(f"{key} = {json.dumps(value)}" for key, value in sorted((settings or {}).items())),
        ]
        for spec in LANES[lane]:
            keys = {"publish": spec.publish, **(repos or {}).get(spec.repo, {})}
            lines += ["", f"[repos.{spec.repo}]"]
            lines += [f"{key} = {json.dumps(value)}" for key, value in sorted(keys.items())]
        path = self.root / "release-train.toml"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    # -- the CLI as a user runs it ------------------------------------------------------

    def cli(
        self,
        *args: str,
        config: Path | None = None,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> command.Completed:
        """`release-train args` (with `--config config`) as a new process, as a user runs it."""
        return command.run(
            [sys.executable, "-m", "release_train", *args, *_config_args(config)],
            env={**self.env(), **(env or {})},
            cwd=cwd or self.root,
            timeout=CLI_TIMEOUT,
            check=False,
        )

    def main(self, *args: str, config: Path | None = None) -> command.Completed:
        """`release-train args` in this process: for commands that only read states, where a
        new interpreter per call would cost more than the command."""
        out, err = io.StringIO(), io.StringIO()
        with _environ(self.env()), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = cli.main([*args, *_config_args(config)])
        return command.Completed(("release-train", *args), status, out.getvalue(), err.getvalue())

    @contextlib.contextmanager
    def running(
        self,
        *args: str,
        until: str,
        config: Path | None = None,
        env: Mapping[str, str] | None = None,
    ) -> Iterator[Running]:
        """The CLI, left running once it printed `until`; killed when the block ends.

        The one direct Popen of these tests: a run that stops only when it is killed (the
        pause hook, or a kill mid-wait like a crash) cannot go through `command.run`. It
        gets a session of its own so that the kill takes its git and uv children too.
        """
        process = subprocess.Popen(
            [sys.executable, "-m", "release_train", *args, *_config_args(config)],
            env={**os.environ, **self.env(), **(env or {})},
            cwd=self.root,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        run = Running(process)
        reader = threading.Thread(target=_read_lines, args=(run, until), daemon=True)
        reader.start()
        try:
            deadline = time.monotonic() + CLI_TIMEOUT
            while not run.seen.wait(0.1):
                exited = process.poll() is not None and not reader.is_alive()
                assert not exited and time.monotonic() < deadline, (
                    f"never printed {until!r}:\n{run.output}"
                )
            yield run
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)  # its own group: only what it started
            process.wait(timeout=30)
            reader.join(timeout=30)
            assert process.stdout is not None
            process.stdout.close()

    def paused(self, *args: str, after: str, config: Path) -> Any:
        """`running` with the engine's pause hook: stopped, state durable, after `after`."""
        repo, phase = after.split(":")
        until, env = f"paused after {repo} {phase}", {PAUSE_VARIABLE: after}
        return self.running(*args, until=until, config=config, env=env)

    # -- the engine in this process -----------------------------------------------------

    def release(
        self,
        config: Path,
        run_id: str | None,
        *,
        waits: Waits = FAST_WAITS,
        progress: Progress | None = None,
        failure_policy: FailurePolicy | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> tuple[int, RunState]:
        """Plan, approve and run a release in-process; (exit status, the new run's state).

        Without `run_id` the plan's generated id is used, as the CLI does.
        """
        options = runs.Options(run_id=run_id, failure_policy=failure_policy, env=self.env())
        plan, sources = runs.plan_release(load_config(config)[0], options)
        connected = self._connect(config, options, waits, progress, sleep)
        gate = Gate(kind="yes", token=f"yes:{plan.run_id}", approved_by="engine-tests")
        earlier = set(local_store(self.state_dir).runs())
        status = runs.start(connected, options, plan, sources, gate).exit_status
        [(created, _)] = set(local_store(self.state_dir).runs()) - earlier
        return status, self.state(created)

    def resume(
        self,
        config: Path,
        run_id: str,
        *,
        waits: Waits = FAST_WAITS,
        progress: Progress | None = None,
    ) -> tuple[int, RunState]:
        options = runs.Options(env=self.env())
        connected = self._connect(config, options, waits, progress, None)
        status = runs.resume(connected, options, run_id).exit_status
        return status, self.state(run_id)

    def _connect(
        self,
        config: Path,
        options: runs.Options,
        waits: Waits,
        progress: Progress | None,
        sleep: Callable[[float], None] | None,
    ) -> runs.World:
        loaded, _ = load_config(config)
        connected = runs.connect(loaded, options, progress or ConsoleProgress())
        connected.services.waits = waits
        if sleep is not None:
            connected.services.sleep = sleep
        return connected

    def state(self, run_id: str) -> RunState:
        found, _, _ = runs.load_run(local_store(self.state_dir), run_id)
        return found

    # -- what other people do to the repos ----------------------------------------------

    def push(
        self,
        repo: str,
        message: str,
        *,
        branch: str = "main",
        files: Mapping[str, str] | None = None,
    ) -> str:
        """Someone else's commit on `branch` of the server's `repo`; its SHA."""
        dest = self._fetch(repo, branch)
        git(dest, "checkout", "--quiet", "--detach", "FETCH_HEAD")
        slug = "".join(c if c.isalnum() else "-" for c in message)[:40]
        for relative, text in (files or {f"changes/{slug}.txt": message + "\n"}).items():
            path = dest / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        git(dest, "add", "--all")
        git(dest, *BOT, "commit", "--quiet", "-m", message)
        clones.authed(self._auth(), dest, "push", "--quiet", "origin", f"HEAD:refs/heads/{branch}")
        return git(dest, "rev-parse", "HEAD").strip()

    def show(self, repo: str, branch: str, relative: str) -> str:
        """`relative` as of the server's `branch` of `repo`."""
        return git(self._fetch(repo, branch), "show", f"FETCH_HEAD:{relative}")

    def _auth(self) -> clones.GitAuth:
        return clones.GitAuth.for_token(self.world.github.token, self.root / "others-auth")

    def _fetch(self, repo: str, branch: str) -> Path:
        """The test's own clone of `repo` with the server's `branch` in FETCH_HEAD."""
        dest = self.root / "others" / repo
        if not dest.exists():
            dest.parent.mkdir(parents=True, exist_ok=True)
            url = clones.repo_url(self.world.github.server_url, self.world.owner, repo)
            clones.authed(self._auth(), dest.parent, "clone", "--quiet", url, str(dest))
        clones.authed(self._auth(), dest, "fetch", "--quiet", "origin", branch)
        return dest

    def repo_snapshot(self, repo: str) -> dict[str, Any]:
        found: dict[str, Any] = self.admin.snapshot()["repos"][repo]
        return found

    def pulls(self, repo: str) -> list[dict[str, Any]]:
        return [p for p in self.admin.snapshot()["pulls"] if p["repo"] == repo]

    def workflow_runs(self, repo: str) -> list[dict[str, Any]]:
        return [r for r in self.admin.snapshot()["workflow_runs"] if r["repo"] == repo]


def _config_args(config: Path | None) -> list[str]:
    return [] if config is None else ["--config", str(config)]


@contextlib.contextmanager
def _environ(values: Mapping[str, str]) -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                del os.environ[key]
            else:
                os.environ[key] = old


def _read_lines(run: Running, until: str) -> None:
    assert run.process.stdout is not None
    for line in run.process.stdout:
        run.lines.append(line)
        if until in line:
            run.seen.set()


@pytest.fixture
def rig(world: Sandbox, tmp_path: Path) -> Iterator[Rig]:
    yield Rig(world, tmp_path)
    close_release_pulls(world)


def close_release_pulls(world: Sandbox) -> None:
    """Close the release PRs a scenario left open (a failed run's): another run's open
    release PR is PR_CONFLICT for the next scenario of the lane (issue 12, item 3)."""
    left = [
        p
        for p in world.github.admin().snapshot()["pulls"]
        if p["state"] == "open" and p["head_ref"].startswith("release/")
    ]
    if not left:
        return
    gh = Github(base_url=world.github.api_url, auth=Auth.Token(world.github.token))
    for pull in left:
        gh.get_repo(f"{world.owner}/{pull['repo']}").get_pull(pull["number"]).edit(state="closed")


def tree_bytes(root: Path, *, skip: Sequence[str] = (".git",)) -> dict[str, bytes]:
    """Every file under `root` (but `skip`) by relative path: a byte-exact snapshot."""
    found = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if relative.parts[0] in skip or not path.is_file():
            continue
        found[str(relative)] = path.read_bytes()
    return found
