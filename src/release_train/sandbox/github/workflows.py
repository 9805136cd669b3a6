"""Each repo's release workflow: runs that a release tag or a dispatch start, publishing.

Whether a run starts is the repo's own workflow file's word, read at the pushed tag (or
the dispatched ref) as GitHub reads it: its `on.push.tags` / `tags-ignore` filters, its
`workflow_dispatch` inputs (core/triggers.py, which the preflight asks the same). What a
run does is the stand-in's: build with `uv build` and upload (sandbox/publish.py).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from release_train.core import triggers
from release_train.errors import ReleaseError
from release_train.sandbox.github.model import RunRecord

if TYPE_CHECKING:
    from release_train.sandbox.github.bare import BareRepo
    from release_train.sandbox.github.forge import Forge

JOIN_TIMEOUT = 30.0
WORKFLOWS_DIR = ".github/workflows"


def workflow_path(file_name: str) -> str:
    return f"{WORKFLOWS_DIR}/{file_name}"


def workflow_at(bare: BareRepo, file_name: str, rev: str) -> dict[Any, Any] | None:
    """The workflow file at `rev` as data; None when it is missing or GitHub could not read it."""
    entry = bare.entry(rev, workflow_path(file_name))
    if entry is None or entry.kind != "blob":
        return None
    try:
        return triggers.load_workflow(bare.blob_text(entry.sha))
    except triggers.PatternError:
        return None


def starts_on_push(workflow: Mapping[Any, Any] | None, tag: str) -> bool:
    """Whether pushing `tag` starts the workflow (a missing file starts nothing)."""
    return workflow is not None and triggers.push_problem(workflow, tag) is None


def dispatch_refusal(workflow: Mapping[Any, Any] | None, inputs: Mapping[str, Any]) -> str | None:
    """GitHub's 422 message for a dispatch of `workflow` with `inputs`; None when it runs."""
    try:
        declared = None if workflow is None else triggers.dispatch_inputs(workflow)
    except triggers.PatternError:
        declared = None
    if declared is None:
        return "Workflow does not have 'workflow_dispatch' trigger"
    unexpected = sorted(name for name in inputs if name not in declared)
    if unexpected:
        return f"Unexpected inputs provided: {json.dumps(unexpected)}"
    for name in sorted(declared, key=str):
        if triggers.required_input(declared[name]) and inputs.get(str(name)) in (None, ""):
            return f"Required input '{name}' not provided"
    return None


class WorkflowRunner:
    """Starts publish runs in daemon threads and stops them all (cancelling waits) on `stop`."""

    def __init__(self, forge: Forge) -> None:
        self.forge = forge
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def trigger(
        self,
        repo: str,
        *,
        tag: str | None,
        sha: str,
        event: Literal["push", "workflow_dispatch"],
        head_branch: str | None,
        actor: str = "github-actions[bot]",
    ) -> RunRecord:
        store = self.forge.store
        now = time.time()
        with store.lock:
            number = 1 + sum(1 for r in store.state.runs if r.repo == repo)
            run = RunRecord(
                id=store.next_id(),
                repo=repo,
                run_number=number,
                event=event,
                tag=tag,
                head_branch=head_branch,
                head_sha=sha,
                actor=actor,
                created_at=now,
                updated_at=now,
            )
            store.state.runs.append(run)
        thread = threading.Thread(
            target=self._run, args=(run,), name=f"publish-{repo}-{run.id}", daemon=True
        )
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
        thread.start()
        return run

    def _delay(self, repo: str) -> float:
        with self.forge.store.lock:
            state = self.forge.store.state
            own = state.repos[repo].publish.delay
            return state.publish_delay if own is None else own

    def _run(self, run: RunRecord) -> None:
        if self._stopping.wait(self._delay(run.repo)):
            self._finish(run, "cancelled", [], "the stand-in stopped before the run started")
            return
        with self.forge.store.lock:
            run.status = "in_progress"
            run.started_at = run.updated_at = time.time()
        files: list[str] = []
        publisher = self.forge.publisher
        try:
            if run.tag is None:
                raise WorkflowFailure(
                    "no `tag` input: the release workflow does not know what to publish"
                )
            sha = self.forge.repos[run.repo].resolve(f"refs/tags/{run.tag}")
            if sha is None:
                raise WorkflowFailure(f"tag {run.tag} does not exist")
            if publisher is not None:
                files = publisher(
                    repo=run.repo, bare_repo=self.forge.bare_path(run.repo), tag=run.tag, sha=sha
                )
        except ReleaseError as exc:
            self._finish(run, "failure", files, exc.message)
            return
        except WorkflowFailure as exc:
            self._finish(run, "failure", files, str(exc))
            return
        except Exception as exc:
            self._finish(run, "failure", files, f"{type(exc).__name__}: {exc}")
            return
        self._finish(run, "success", files, None)

    def _finish(
        self,
        run: RunRecord,
        conclusion: Literal["success", "failure", "cancelled"],
        files: list[str],
        error: str | None,
    ) -> None:
        with self.forge.store.lock:
            run.status = "completed"
            run.conclusion = conclusion
            run.files = sorted(files)
            run.error = error
            run.updated_at = time.time()

    def stop(self) -> None:
        self._stopping.set()
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(JOIN_TIMEOUT)


class WorkflowFailure(Exception):
    """A failure of the release workflow itself (missing tag or input), recorded on the run."""
