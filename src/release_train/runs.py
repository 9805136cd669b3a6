"""Whole runs: start one (plan, gate, state, engine, Phase 4), resume one, show one.

`plan` needs only the planning half, so the engine, the state models and the stores are
imported where a run needs them: the CLI's plan path stays fast to start (issue 11).
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from release_train import interrupts
from release_train.adapters import clones
from release_train.config import Config, FailurePolicy, StoreKind
from release_train.core.plan import Plan
from release_train.core.versions import Bump
from release_train.errors import ErrorCode, ExitStatus, ReleaseError
from release_train.planning import PlanRequest, plan_workspace

if TYPE_CHECKING:
    from release_train.adapters.github import GitHub
    from release_train.adapters.store import StateStore
    from release_train.context import Progress, Services
    from release_train.core.history import RunList
    from release_train.core.state import Gate, RunState, SkillResult
    from release_train.family_lock import Trains


@dataclass
class Options:
    """What a `release` or `resume` command line asked for, beyond the config."""

    repos: Sequence[str] = ()
    bump: Bump | None = None
    run_id: str | None = None
    workspace: Path | None = None
    skip_index_wait: bool = False
    index_minutes: int | None = None
    max_parallel: int | None = None
    failure_policy: FailurePolicy | None = None
    result_file: Path | None = None
    releasing: bool = False  # plan what a release would cut: origin/<branch> of workspace clones
    dry_run: bool = False
    offline: bool = False  # do not ask the index which versions exist (plan and release)
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    config_path: Path | None = None  # for the resume command a stopped run prints

    def resume_command(self, run_id: str) -> str:
        """The command that continues `run_id`: the state records the rest (workspace,
        failure policy), the store comes from this config and environment."""
        config = (
            "" if self.config_path is None else f" --config {shlex.quote(str(self.config_path))}"
        )
        return f"release-train resume {run_id}{config}"


def work_dir(env: Mapping[str, str]) -> Path:
    """Run-owned clones and worktrees: $RELEASE_TRAIN_WORK_DIR or the XDG cache dir."""
    if env.get("RELEASE_TRAIN_WORK_DIR"):
        return Path(env["RELEASE_TRAIN_WORK_DIR"])
    base = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "release-train"


@dataclass
class World:
    """The services one run talks to."""

    config: Config
    github: GitHub
    store: StateStore
    services: Services


def store_for(config: Config, env: Mapping[str, str], github: GitHub | None = None) -> StateStore:
    """The configured state store: local files, or the central repo's state branch."""
    if config.state.store is StoreKind.BRANCH and config.state.repo:
        from release_train.adapters.branch_store import BranchStore  # noqa: PLC0415

        github = github or _github(config, env)
        repo = github.repository(config.state.repo)
        return BranchStore(repo, config.state.branch, retry=github.retry)
    from release_train.adapters.store import local_store  # noqa: PLC0415 - runs only

    configured = env.get("RELEASE_TRAIN_STATE_DIR")
    return local_store(Path(configured) if configured else None)


def _github(config: Config, env: Mapping[str, str]) -> GitHub:
    # Imported here: planning and dry runs stay free of PyGithub.
    from release_train.adapters.github import GitHub  # noqa: PLC0415

    return GitHub.from_env(config.owner, env)


def connect(config: Config, options: Options, progress: Progress) -> World:
    from release_train.context import Services, Waits  # noqa: PLC0415 - runs only

    env = options.env
    github = _github(config, env)
    services = Services(
        config=config,
        github=github,
        auth=git_auth(env),
        index_url=config.index_url,
        server_url=server_url(env),
        work_dir=work_dir(env),
        progress=progress,
        waits=Waits.from_config(
            config, skip_index_wait=options.skip_index_wait, index_minutes=options.index_minutes
        ),
    )
    return World(config, github, store_for(config, env, github), services)


def git_auth(env: Mapping[str, str]) -> clones.GitAuth:
    token = env.get("GITHUB_TOKEN") or env.get("GH_TOKEN")
    return clones.GitAuth.for_token(token, work_dir(env) / "auth")


def server_url(env: Mapping[str, str]) -> str:
    return (env.get("GITHUB_SERVER_URL") or "https://github.com").rstrip("/")


def source_clones(
    config: Config,
    env: Mapping[str, str],
    workspace: Path | None,
    repos: Sequence[str],
    *,
    fetch: Collection[str] | None = None,
) -> tuple[Path, dict[str, Path]]:
    """(directory to plan from, repo -> clone): the workspace's, or fresh run-owned clones.

    Only the repos in `fetch` (default: all) are cloned or brought up to date; the others
    get their clone's path as it is (a resume's done repos need nothing from the server).
    """
    if workspace is not None:
        return workspace, {r: workspace / r for r in repos}
    auth, server = git_auth(env), server_url(env)
    root = work_dir(env) / "clones" / config.owner
    names = sorted(repos)

    def clone(repo: str) -> Path:
        if fetch is not None and repo not in fetch:
            return root / repo
        url = clones.repo_url(server, config.owner, repo)
        return clones.fresh_clone(url, root / repo, config.branch_of(repo), auth)

    with ThreadPoolExecutor(max_workers=min(6, len(names))) as pool:
        paths = list(pool.map(clone, names))
    return root, dict(zip(names, paths, strict=True))


def free_run_id(store: StateStore, plan: Plan, explicit: bool) -> str:
    """DESIGN defect 14: never reuse another run's id; a generated one is disambiguated."""
    runs = dict(store.runs())
    taken = set(runs)
    if plan.run_id not in taken:
        return plan.run_id
    if explicit:
        if not runs[plan.run_id]:
            with store.lock(plan.run_id):  # a run still going is RUN_IN_PROGRESS, not "resume it"
                pass
        raise ReleaseError(
            ErrorCode.RUN_EXISTS,
            f"run {plan.run_id} already exists ({store.describe()})",
            hint=f"resume it with `release-train resume {plan.run_id}`, or pick another --run-id",
        )
    suffix = 2
    while f"{plan.run_id}-{suffix}" in taken:
        suffix += 1
    return f"{plan.run_id}-{suffix}"


def parse_state(text: str, location: str) -> RunState:
    from release_train.core.state import RunState  # noqa: PLC0415 - runs only

    try:
        return RunState.model_validate_json(text)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise ReleaseError(
            ErrorCode.STATE_CORRUPT,
            f"state {location} is not a valid run state: {where}: {first['msg']}",
            hint="restore it from the run's artifact or the state branch; it was left untouched",
        ) from exc


def list_runs(store: StateStore) -> RunList:
    """Every run in `store`, newest first; a state that does not parse is listed as such."""
    from release_train.core import history  # noqa: PLC0415 - runs only

    entries = []
    for run_id, listed_archived in store.runs():
        try:
            state, archived, location = load_run(store, run_id)
        except ReleaseError as exc:
            if exc.code is not ErrorCode.STATE_CORRUPT:
                raise
            where = f"{store.describe()}, run {run_id}"
            entries.append(
                history.unreadable(
                    run_id, archived=listed_archived, location=where, error=exc.message
                )
            )
            continue
        entries.append(history.entry(state, archived=archived, location=location))
    return history.RunList(store=store.describe(), runs=history.newest_first(entries))


def load_run(store: StateStore, run_id: str) -> tuple[RunState, bool, str]:
    """(state, archived, location) of `run_id`; the stored text is never modified here."""
    stored = store.load(run_id)
    state = parse_state(stored.text, stored.location)
    if state.run_id != run_id:
        raise ReleaseError(
            ErrorCode.STATE_CORRUPT,
            f"state {stored.location} is for run {state.run_id}, not {run_id}",
            hint="the file was renamed or overwritten; restore it from the run's artifact",
        )
    return state, stored.archived, stored.location


def workspace_revs(
    config: Config, env: Mapping[str, str], sources: Mapping[str, Path], *, fetch: bool
) -> dict[str, str]:
    """What a release from `--workspace` clones is cut from: `origin/<branch>`, not HEAD.

    A person's clone may have a feature branch checked out; the release must not carry
    its unpushed work. A fetch changes only remote-tracking refs and tags there, never the
    working copy or HEAD (DESIGN defect 13). A clone without that remote branch plans HEAD.
    """
    auth, revs = git_auth(env), {}
    for repo, clone in sorted(sources.items()):
        branch = config.branch_of(repo)
        remote = f"refs/remotes/origin/{branch}"
        if fetch and clones.has_remote(clone, "origin"):
            clones.authed(
                auth, clone, "fetch", "--quiet", "origin", f"+refs/heads/{branch}:{remote}"
            )
        revs[repo] = f"origin/{branch}" if clones.has_ref(clone, remote) else "HEAD"
    return revs


def plan_release(config: Config, options: Options) -> tuple[Plan, dict[str, Path]]:
    """Phase 0-1 against fresh clones (or the workspace): the plan and each repo's clone."""
    plan_dir, sources = source_clones(config, options.env, options.workspace, sorted(config.repos))
    revs: dict[str, str] = {}
    if options.workspace is not None and options.releasing:
        revs = workspace_revs(config, options.env, sources, fetch=not options.dry_run)
    # Compare links only in API mode: a workspace's clones may not be on the GitHub server.
    server = server_url(options.env) if options.workspace is None else None
    request = PlanRequest(
        repos=options.repos,
        bump=options.bump,
        run_id=options.run_id,
        revs=revs,
        server_url=server,
        web_url=server_url(options.env),
        query_index=not options.offline,
    )
    plan = plan_workspace(config, plan_dir, request, datetime.now(UTC).date())
    return plan, sources


@dataclass(frozen=True)
class Outcome:
    """How a run ended: the exit status, its result, and its state (None: nothing to do)."""

    exit_status: int
    result: SkillResult
    state: RunState | None = None


def start(
    world: World,
    options: Options,
    plan: Plan,
    sources: dict[str, Path],
    gate: Gate,
    *,
    origin: str | None = None,
) -> Outcome:
    """Phase 2.3 to 4 for an approved plan: create the state, run, clean up, report."""
    from release_train.core.state import dry_run_result, new_state  # noqa: PLC0415
    from release_train.engine import pause_before_state  # noqa: PLC0415 - runs only

    config, store = world.config, world.store
    if not plan.entries:
        result = dry_run_result(plan, {r: config.tag_template(r) for r in config.repos})
        _write_result(options, result)
        print("Nothing to release.")
        return Outcome(ExitStatus.OK, result)
    run_id = free_run_id(store, plan, explicit=options.run_id is not None)
    if run_id != plan.run_id:
        print(f"run id {plan.run_id} is taken by an earlier run; this run is {run_id}")
        plan = Plan(run_id, plan.entries, plan.skipped, plan.graph, plan.selected)
    policy = options.failure_policy or config.failure_policy
    state = new_state(plan, {r: config.tag_template(r) for r in config.repos}, gate, str(policy))
    state.workspace = str(options.workspace) if options.workspace else None
    state.origin = origin
    pause_before_state()
    # One family, one train: the lock comes before the state, so a refused run leaves nothing.
    with store.lock(run_id), trains(world, options).holding(run_id) as holding:
        holding.free = True  # until the state exists, a failure leaves no run to block for
        store.create(run_id, state.model_dump_json(indent=2) + "\n")
        holding.free = False
        print(f"\nReleasing (run {run_id}, state: {store.describe()})")
        outcome = _execute(world, options, state, sources)
        holding.free = outcome.exit_status == ExitStatus.OK
        return outcome


def check_train(config: Config, options: Options, run_id: str) -> None:
    """Before asking for an approval: FAMILY_LOCKED now rather than once someone approved."""
    from release_train.family_lock import Trains  # noqa: PLC0415 - runs only

    Trains(store_for(config, options.env), config.owner, options.env).check(run_id)


def trains(world: World, options: Options) -> Trains:
    """The family lock of this run's family, in the store its states live in."""
    from release_train.family_lock import Trains  # noqa: PLC0415 - runs only

    return Trains(world.store, world.config.owner, options.env)


def resume(world: World, options: Options, run_id: str, gate: Gate | None = None) -> Outcome:
    """Failure recovery (spec): done repos stay done, failed ones restart, blocked continue.

    `gate` is this attempt's approval, when it needed one (the Action asks again).
    """
    from release_train.core import summary  # noqa: PLC0415 - runs only
    from release_train.core.state import RepoStatus, RunStatus, reopen, run_result  # noqa: PLC0415

    store = world.store
    with store.lock(run_id):
        state, archived, location = load_run(store, run_id)
        if archived or state.status is RunStatus.SUCCESS:
            print(summary.summary_text(state))
            print(f"run {run_id} is finished; there is nothing to resume")
            return Outcome(ExitStatus.OK, run_result(state), state)
        with trains(world, options).holding(run_id) as holding:
            reopened = reopen(state)
            if gate is not None:
                state.resume_gates.append(gate)
            workspace = options.workspace or (Path(state.workspace) if state.workspace else None)
            unfinished = [r for r, s in state.repos.items() if s.status is not RepoStatus.DONE]
            _, sources = source_clones(
                world.config, options.env, workspace, sorted(state.repos), fetch=unfinished
            )
            print(f"Resuming run {run_id} ({location}): {', '.join(reopened)}")
            outcome = _execute(world, options, state, sources)
            holding.free = outcome.exit_status == ExitStatus.OK
            return outcome


def _execute(world: World, options: Options, state: RunState, sources: dict[str, Path]) -> Outcome:
    from release_train.core import summary  # noqa: PLC0415 - runs only
    from release_train.core.state import RunStatus, run_result  # noqa: PLC0415
    from release_train.engine import Engine  # noqa: PLC0415 - runs only

    config = world.config
    engine = Engine(
        services=world.services,
        store=world.store,
        state=state,
        sources=sources,
        max_parallel=options.max_parallel or config.max_parallel,
        failure_policy=FailurePolicy(state.failure_policy),
    )
    stop = world.services.stop
    resume_hint = f"resume with: {options.resume_command(state.run_id)}"
    with interrupts.handled(stop, resume_hint=resume_hint):
        engine.persist()
        engine.run()
    engine.cleanup()
    if state.status is RunStatus.SUCCESS:
        world.store.archive(state.run_id)  # Step 4.2
    print()
    print(summary.summary_text(state), end="")
    _family_release(world, options, state)
    result = run_result(state)
    _write_result(options, result)
    if stop.requested and state.status is not RunStatus.SUCCESS:
        print(f"\ninterrupted by {stop.signal_name}: no step was started after it; {resume_hint}")
        return Outcome(ExitStatus.INTERRUPTED, result, state)
    if state.status is not RunStatus.SUCCESS:
        print(f"\n{resume_hint}")
        return Outcome(ExitStatus.RELEASE_FAILED, result, state)
    return Outcome(ExitStatus.OK, result, state)


def _family_release(world: World, options: Options, state: RunState) -> None:
    """Best effort, like the Slack summary: the family is released whatever GitHub answers."""
    from release_train import family_release  # noqa: PLC0415 - runs only

    try:
        url = family_release.publish(world.github, world.config, options.env, state)
    except ReleaseError as exc:
        hint = f" ({exc.hint})" if exc.hint else ""
        world.services.progress.warning(None, f"no family release: {exc.message}{hint}")
        return
    if url is not None:
        print(f"\nFamily release: {url}")


def _write_result(options: Options, result: SkillResult) -> None:
    if options.result_file is not None:
        text = result.model_dump_json(indent=2) + "\n"
        options.result_file.write_text(text, encoding="utf-8")
