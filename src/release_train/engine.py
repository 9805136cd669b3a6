"""The scheduler (Phase 3): dependency order, parallelism, failure policy, durable records.

For each repo, the steps after its recorded phase run in order; each step's probe skips
an effect that is already there, and the state is made durable before and after every
externally visible effect, so a run killed at any moment resumes without doing anything
twice.
"""

from __future__ import annotations

import os
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from release_train.adapters import clones
from release_train.adapters.command import tail
from release_train.adapters.store import StateStore
from release_train.config import FailurePolicy
from release_train.context import RepoContext, Services
from release_train.core.state import (
    STEP_OF_PHASE,
    RepoError,
    RepoStatus,
    RunState,
    block,
    mark_failed,
    mark_phase,
    now,
    settle,
)
from release_train.errors import ErrorCode, ReleaseError
from release_train.steps import Step, Worktree, steps_after
from release_train.steps.protocol import Skippable

# Test hook of the crash harness: "<repo>:<PHASE>" makes the process stop, state durable,
# right after recording that phase, until something kills it from outside.
PAUSE_VARIABLE = "RELEASE_TRAIN_PAUSE_AFTER"


@dataclass
class Engine:
    services: Services
    store: StateStore
    state: RunState
    sources: dict[str, Path]  # repo -> the clone its worktree is made from
    max_parallel: int = 1
    failure_policy: FailurePolicy = FailurePolicy.FAIL_FAST
    pause_after: str | None = field(default_factory=lambda: os.environ.get(PAUSE_VARIABLE))
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _save_lock: threading.Lock = field(default_factory=threading.Lock)
    _saved: str = ""

    # -- durability -------------------------------------------------------------------

    def persist(self) -> None:
        """Make the state durable; an unchanged state is not written again.

        The state-branch store spends a content-creating API call per write, and GitHub
        allows about 80 of those a minute, so identical records are skipped.
        """
        with self._save_lock:
            with self._lock:
                content = self.state.model_dump_json(exclude={"updated_at"})
                if content == self._saved:
                    return
                self.state.updated_at = now()
                text = self.state.model_dump_json(indent=2) + "\n"
            self.store.save(self.state.run_id, text)
            self._saved = content

    # -- scheduling -------------------------------------------------------------------

    def run(self) -> RunState:
        """Release every pending repo in dependency order; return the settled state."""
        order = list(self.state.repos)
        running: dict[Future[None], str] = {}
        with ThreadPoolExecutor(max_workers=self.max_parallel) as pool:
            while True:
                for name in self._ready(order, set(running.values())):
                    if len(running) >= self.max_parallel or self.services.stop.requested:
                        break  # a stop request (Ctrl-C) starts no new repo
                    self._set(name, RepoStatus.RUNNING)
                    running[pool.submit(self._release, name)] = name
                if not running:
                    break
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    name = running.pop(future)
                    future.result()  # _release records its own failures
                    self._after(name)
        with self._lock:
            if not self.services.stop.requested:  # interrupted: the rest stays pending
                self._block_stranded()
            settle(self.state)
        self.persist()
        return self.state

    def _block_stranded(self) -> None:
        """Pending repos that never became ready: an upstream of theirs did not finish."""
        repos = self.state.repos
        for name, repo in repos.items():
            stuck = [u for u in repo.upstreams if repos[u].status is not RepoStatus.DONE]
            if repo.status is RepoStatus.PENDING and stuck:
                block(self.state, [name], stuck[0])

    def _ready(self, order: list[str], running: set[str]) -> list[str]:
        with self._lock:
            repos = self.state.repos
            pending = [r for r in order if repos[r].status is RepoStatus.PENDING]
            if self.max_parallel == 1:
                # The specification's strict order: one repo at a time, tier by tier.
                return pending[:1] if not running else []
            return [
                r
                for r in pending
                if all(repos[u].status is RepoStatus.DONE for u in repos[r].upstreams)
            ]

    def _set(self, name: str, status: RepoStatus) -> None:
        with self._lock:
            self.state.repos[name].status = status
            self.state.repos[name].error = None

    def _after(self, name: str) -> None:
        """Apply the failure policy once `name` has finished."""
        with self._lock:
            repo = self.state.repos[name]
            if repo.status is not RepoStatus.FAILED:
                return
            if repo.error is not None and repo.error.code == ErrorCode.INTERRUPTED:
                return  # nothing failed: the run was stopped, a resume continues it
            if self.failure_policy is FailurePolicy.FAIL_FAST:
                # The specification: the rest of the tier and every later tier are blocked.
                blocked = block(self.state, list(self.state.repos), name)
            else:
                blocked = block(self.state, sorted(self._dependents(name)), name)
        if blocked:
            self.services.progress.note(None, f"blocked by {name}: {', '.join(blocked)}")
        self.persist()

    def _dependents(self, name: str) -> set[str]:
        found: set[str] = set()
        frontier = [name]
        while frontier:
            current = frontier.pop()
            for other, repo in self.state.repos.items():
                if current in repo.upstreams and other not in found:
                    found.add(other)
                    frontier.append(other)
        return found

    # -- one repo ---------------------------------------------------------------------

    def context(self, name: str) -> RepoContext:
        return RepoContext(
            services=self.services,
            run=self.state,
            repo=self.state.repos[name],
            source=self.sources[name],
            state_lock=self._lock,
        )

    def _release(self, name: str) -> None:
        ctx = self.context(name)
        progress = self.services.progress
        self.persist()  # "running" is on record before anything is touched
        step: Step | None = None
        try:
            for step in steps_after(ctx.repo.phase):
                self._step(ctx, step)
            with self._lock:
                mark_phase(ctx.repo, "DONE")
            self.persist()
            progress.step(name, "DONE", f"{ctx.repo.old_version} -> {ctx.repo.new_version}")
            self._maybe_pause(name, "DONE")
        except ReleaseError as exc:
            error = _error(ctx, step, exc.code, exc.message, hint=exc.hint, output=exc.output)
            self._failed(ctx, self._interrupted(error))
        except Exception as exc:  # a bug: record it on the repo, keep the traceback
            message = f"{type(exc).__name__}: {exc}"
            output = tail(traceback.format_exc())
            error = _error(ctx, step, ErrorCode.INTERNAL, message, hint=None, output=output)
            self._failed(ctx, self._interrupted(error))

    def _interrupted(self, error: RepoError) -> RepoError:
        """A step that fails once a stop was asked failed because of it (Ctrl-C reaches the
        git or uv child too): it is recorded as INTERRUPTED, for a resume to redo."""
        stop = self.services.stop
        if not stop.requested or error.code == ErrorCode.INTERRUPTED:
            return error
        message = f"interrupted by {stop.signal_name} during {error.step}: {error.message}"
        hint = "the state is recorded; resume the run to continue from here"
        return error.model_copy(
            update={"code": str(ErrorCode.INTERRUPTED), "message": message, "hint": hint}
        )

    def _step(self, ctx: RepoContext, step: Step) -> None:
        self.services.stop.check(STEP_OF_PHASE[step.phase], ctx.name)  # no new step after Ctrl-C
        if step.external:
            self.persist()  # local work (the release commit's SHA) is durable before it leaves
        started = time.monotonic()
        if step.done(ctx):
            outcome = "already there"
            if isinstance(step, Worktree):
                step.check(ctx)
            elif isinstance(step, Skippable):
                outcome = step.idle(ctx) or outcome  # "no upstreams to pin", not "already there"
        else:
            step.apply(ctx)
            outcome = f"done in {time.monotonic() - started:.1f}s"
        with self._lock:
            mark_phase(ctx.repo, step.phase)
        if step.external:
            self.persist()
        self.services.progress.step(ctx.name, step.phase, outcome)
        self._maybe_pause(ctx.name, step.phase)

    def _failed(self, ctx: RepoContext, error: RepoError) -> None:
        with self._lock:
            mark_failed(ctx.repo, error)
        self.persist()
        self.services.progress.failure(
            ctx.name, error.code, f"{error.step} failed: {error.message}", error.hint
        )

    def _maybe_pause(self, name: str, phase: str) -> None:
        if self.pause_after == f"{name}:{phase}":
            self.persist()
            pause_here(name, phase)

    # -- Phase 4 ------------------------------------------------------------------------

    def cleanup(self, *, remove: Callable[[Path, Path], None] = clones.remove_worktree) -> None:
        """Step 4.1: remove the worktrees of done repos (all, on success); keep failed ones."""
        for name, repo in self.state.repos.items():
            if repo.status is RepoStatus.DONE and repo.worktree_path:
                remove(self.sources[name], Path(repo.worktree_path))
        run_dir = self.services.work_dir / "runs" / self.state.run_id
        if run_dir.is_dir() and not any(run_dir.iterdir()):
            run_dir.rmdir()


def pause_here(name: str, phase: str) -> None:
    """The crash harness's stop: say so, then wait to be killed (never returns)."""
    print(f"paused after {name} {phase} ({PAUSE_VARIABLE})", flush=True)
    while True:
        time.sleep(3600)


def pause_before_state() -> None:
    """`RELEASE_TRAIN_PAUSE_AFTER=*:PLANNED`: stop once the plan is approved, before any state."""
    if os.environ.get(PAUSE_VARIABLE) == "*:PLANNED":
        pause_here("*", "PLANNED")


def _error(
    ctx: RepoContext,
    step: Step | None,
    code: str,
    message: str,
    *,
    hint: str | None,
    output: str | None,
) -> RepoError:
    where = STEP_OF_PHASE[step.phase] if step else ctx.repo.phase
    return RepoError(code=str(code), message=message, step=where, hint=hint, output=output)
