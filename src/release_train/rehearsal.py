"""`release-train rehearse`: a workspace's own family released end to end inside a sandbox.

The workspace's clones are only read: their release branches and tags are copied into
staging repos, which the sandbox's GitHub stand-in imports under the config's owner, so
every URL looks as it will on GitHub. The config is rewritten to point at the sandbox
(its index front, local state), the train runs with an automatic approval, and a report
of what each release would change is left beside the world.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from release_train import runs
from release_train.adapters.git import git
from release_train.config import Config, StateConfig
from release_train.console import ConsoleProgress
from release_train.core import render
from release_train.core.problems import errors, preflight_failed
from release_train.errors import ErrorCode, ReleaseError
from release_train.preflight_access import with_access_problems
from release_train.rehearsal_report import Recorder, Report, World, collect, write_report

if TYPE_CHECKING:
    from release_train.context import Progress
    from release_train.core.plan import Plan

STAGING_DIR = "import"  # under the sandbox root: the copies the stand-in imports
REPORT_DIR = "report"


@dataclass(frozen=True)
class Train:
    """How one train against a sandbox ended: its plan and the run's outcome."""

    plan: Plan
    outcome: runs.Outcome


def run_train(
    config: Config,
    env: Mapping[str, str],
    *,
    approver: str,
    progress: Progress,
    git_rewrites: Mapping[str, str] | None = None,
) -> Train:
    """Plan, preflight and release every repo of `config` against the world `env` names.

    The gate is automatic (`approver` approved it: the demo, a rehearsal): the plan is
    printed first, and a preflight error stops everything before the first effect.
    """
    from release_train.core.state import Gate  # noqa: PLC0415 - runs only

    options = runs.Options(env={**os.environ, **env})
    plan, sources = runs.plan_release(config, options)
    plan = with_access_problems(config, plan, options.env)
    print(render.plan_text(plan))
    if errors(plan.problems):  # the same preflight as `release`: nothing is started
        raise preflight_failed(plan.problems)
    gate = Gate(
        kind="yes", token=f"{approver}:{plan.run_id}", approved_by=f"release-train {approver}"
    )
    world = runs.connect(config, options, progress)
    world.services.git_rewrites = dict(git_rewrites or {})
    return Train(plan, runs.start(world, options, plan, sources, gate))


def release_rev(clone: Path, branch: str) -> str:
    """What GitHub holds of `branch`: `origin/<branch>` when the clone tracks it, else its own."""
    for ref in (f"refs/remotes/origin/{branch}", f"refs/heads/{branch}"):
        if git(clone, "rev-parse", "--verify", "--quiet", ref, check=False).strip():
            return ref
    raise ReleaseError(
        ErrorCode.REPO_NOT_FOUND,
        f"{clone} has no branch {branch} (nor origin/{branch}) to release from",
        repo=clone.name,
        hint=f"fetch it, or set repos.{clone.name}.branch in the config",
    )


def stage(workspace: Path, config: Config, dest: Path) -> dict[str, Path]:
    """A bare copy of each clone: its branches and tags, the release branch as GitHub has it.

    Fetching from a clone only reads it, so the workspace stays exactly as it was.
    """
    staged = {}
    dest.mkdir(parents=True, exist_ok=True)
    for repo in sorted(config.repos):
        clone = workspace / repo
        if not (clone / ".git").exists():
            raise ReleaseError(
                ErrorCode.REPO_NOT_FOUND,
                f"{clone} is not a git clone",
                repo=repo,
                hint="--workspace holds one clone per repo, named as the repo",
            )
        branch = config.branch_of(repo)
        rev = release_rev(clone, branch)
        bare = dest / f"{repo}.git"
        shutil.rmtree(bare, ignore_errors=True)
        git(dest, "init", "--quiet", "--bare", str(bare))
        source = str(clone.resolve())
        git(
            bare,
            "fetch",
            "--quiet",
            source,
            "+refs/heads/*:refs/heads/*",
            "+refs/tags/*:refs/tags/*",
        )
        git(bare, "fetch", "--quiet", "--update-head-ok", source, f"+{rev}:refs/heads/{branch}")
        git(bare, "symbolic-ref", "HEAD", f"refs/heads/{branch}")
        staged[repo] = bare
    return staged


def sandbox_config(config: Config, index_url: str) -> Config:
    """`config` against the sandbox: its index front, and states kept inside the world."""
    return config.model_copy(update={"index_url": index_url, "state": StateConfig()})


@contextlib.contextmanager
def _output_to(fmt: str) -> Iterator[None]:
    """Progress and the text summary go to stderr when stdout carries Markdown or JSON."""
    if fmt == "text":
        yield
        return
    with contextlib.redirect_stdout(sys.stderr):
        yield


@dataclass(frozen=True)
class Imported:
    """What the train needs of a started world: its environment, its URL rewrites, and how
    to stop it (nothing, for a `--keep` world that stays up detached)."""

    world: World
    rewrites: dict[str, str]
    stop: Callable[[], None]


def start_world(
    root: Path, config: Config, staged: dict[str, Path], upstream: str, *, keep: bool
) -> Imported:
    """A sandbox with the staged repos: in this process, or (`keep`) detached from it."""
    from release_train.sandbox import control, detached  # noqa: PLC0415 - the sandbox only when asked

    branches = {repo: config.branch_of(repo) for repo in staged}
    workflows = {repo: config.repos[repo].release_workflow for repo in staged}
    if keep:
        env = detached.up(
            root,
            seed=False,
            upstream_index=upstream,
            clones=staged,
            default_branches=branches,
            release_workflows=workflows,
            owner=config.owner,
        )
        rewrites = dict((control.read_state(root) or {}).get("github_rewrites", {}))
        return Imported(World(root, config.owner, env), rewrites, lambda: None)
    sandbox = control.Sandbox.start(root, owner=config.owner, family=None, upstream_index=upstream)
    try:
        sandbox.import_repos(staged, default_branches=branches, release_workflows=workflows)
    except BaseException:
        sandbox.stop()
        raise
    return Imported(World(root, config.owner, sandbox.env), sandbox.github_rewrites(), sandbox.stop)


def rehearse(
    workspace: Path,
    config: Config,
    *,
    keep: Path | None = None,
    fmt: str = "text",
    upstream_index: str | None = None,
) -> tuple[int, Report]:
    """Rehearse the release of `workspace`'s clones; (exit status, report).

    Third-party packages come from `upstream_index` (default: the index this machine's uv
    and pip use) through the sandbox's index front. With `keep` the world stays up in that
    directory, detached, until `release-train sandbox down --dir` stops it.
    """
    from release_train.sandbox import detached  # noqa: PLC0415 - the sandbox only when asked
    from release_train.sandbox.upstream import configured_index  # noqa: PLC0415

    started = time.monotonic()
    root = keep.resolve() if keep else Path(tempfile.mkdtemp(prefix="release-train-rehearsal-"))
    try:
        staged = stage(workspace, config, root / STAGING_DIR)
        with _output_to(fmt):
            print(f"Starting the sandbox in {root} (GitHub, package index and Slack stand-ins) ...")
            imported = start_world(
                root, config, staged, upstream_index or configured_index(), keep=keep is not None
            )
            print(f"  {len(staged)} repos imported in {time.monotonic() - started:.1f}s\n")
    except BaseException:
        if keep is None:
            shutil.rmtree(root, ignore_errors=True)  # nothing to report yet
        raise
    try:
        with _output_to(fmt):
            report = _train(imported, config, started)
        write_report(report, root / REPORT_DIR)
    except BaseException:
        if keep is not None:
            detached.down(root)  # a rehearsal that broke leaves no world behind
        raise
    finally:
        imported.stop()
        if keep is None:
            _remove_world(root)
    sys.stdout.write(report.render(fmt))
    notes = sys.stderr if fmt != "text" else sys.stdout
    print(f"\nReport: {root / REPORT_DIR / 'report.md'}", file=notes)
    if keep is not None:
        print(
            f"The sandbox still runs in {root}: `cd {root} && set -a && . ./env && set +a`, "
            f"then `release-train status`; stop it with `release-train sandbox down --dir {root}`.",
            file=notes,
        )
    return report.exit_status, report


def _train(imported: Imported, config: Config, started: float) -> Report:
    world = imported.world
    rehearsed = sandbox_config(config, world.env["INDEX_URL"])
    recorder = Recorder(ConsoleProgress())
    try:
        train = run_train(
            rehearsed,
            world.env,
            approver="rehearsal",
            progress=recorder,
            git_rewrites=imported.rewrites,
        )
    except ReleaseError as exc:
        print(exc.render(), file=sys.stderr)
        return Report.refused(exc, recorder, time.monotonic() - started)
    return collect(world, train.plan, train.outcome, recorder, time.monotonic() - started)


def _remove_world(root: Path) -> None:
    """Everything the sandbox wrote in its temporary root but the report."""
    for child in sorted(root.iterdir()):
        if child.name == REPORT_DIR:
            continue
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)
