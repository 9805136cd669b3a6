"""Each repo's release workflow: runs that a release tag or a dispatch start, publishing."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Literal

from release_train.errors import ReleaseError
from release_train.sandbox.github.model import RunRecord

if TYPE_CHECKING:
    from release_train.sandbox.github.forge import Forge

JOIN_TIMEOUT = 30.0


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
