"""Merge queues: where a ruleset requires one, PRs merge only by being enqueued (GraphQL).

An entry waits `QUEUED` (the repo's queue `delay`), then its `merge_group` commit is built
on the branch tip, put on `gh-readonly-queue/<branch>/pr-<n>-<base sha>` and CI runs on it
(`AWAITING_CHECKS`); green, the branch fast-forwards to it and the PR is merged with it as
its merge commit; a failing check or a conflict removes the entry with a reason (a
`RemovedFromMergeQueueEvent`) and leaves the PR open. One thread per busy queue does this,
like the release workflows' runs, and `stop` ends them all.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any, Literal

from release_train.sandbox.github import access, ci
from release_train.sandbox.github.merges import merge_commit, record_merge
from release_train.sandbox.github.model import (
    EntryState,
    PullRecord,
    QueueEntryRecord,
    QueueEventRecord,
)

if TYPE_CHECKING:
    from release_train.sandbox.github.forge import Forge

HEAD_CHANGED = "The pull request's head branch was updated."
CLOSED = "The pull request was closed."
POLL = 0.05
JOIN_TIMEOUT = 30.0
METHODS = {"SQUASH": "squash", "MERGE": "merge"}  # the queue's merge method -> the merge's


class QueueRefusal(Exception):
    """A mutation GitHub refuses: a GraphQL error of `type` (UNPROCESSABLE, NOT_FOUND, ...)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


def rule(forge: Forge, repo: str, branch: str) -> dict[str, Any] | None:
    """The parameters of the `merge_queue` rule on `branch`, or None where none applies."""
    for found in access.stored_rules(forge, repo, branch):
        if found["type"] == "merge_queue":
            return dict(found.get("parameters") or {})
    return None


def merge_method(parameters: dict[str, Any]) -> str:
    return str(parameters.get("merge_method") or "MERGE").upper()


def entries(forge: Forge, repo: str, branch: str) -> list[QueueEntryRecord]:
    """The queue of `branch`, front first."""
    with forge.store.lock:
        return [e for e in forge.store.state.queue if e.repo == repo and e.branch == branch]


def entry_of(forge: Forge, repo: str, number: int) -> QueueEntryRecord | None:
    with forge.store.lock:
        found = [e for e in forge.store.state.queue if e.repo == repo and e.number == number]
    return found[0] if found else None


def position(forge: Forge, entry: QueueEntryRecord) -> int:
    """1 for the front of the queue; a removed entry keeps the place it had."""
    if entry.left_at is not None:
        return entry.left_at
    queue = entries(forge, entry.repo, entry.branch)
    ids = [e.id for e in queue]
    return ids.index(entry.id) + 1 if entry.id in ids else len(ids) + 1


def enqueue(
    forge: Forge, pr: PullRecord, expected_head: str | None, login: str
) -> QueueEntryRecord:
    """Add `pr` to its base branch's queue (an entry it already has is returned as it is)."""
    bare = forge.repos[pr.repo]
    with forge.store.lock:
        if pr.merged:
            raise QueueRefusal("UNPROCESSABLE", "Pull request is already merged")
        if pr.state != "open":
            raise QueueRefusal("UNPROCESSABLE", "Pull request is closed")
        parameters = rule(forge, pr.repo, pr.base_ref)
        if parameters is None:
            raise QueueRefusal(
                "UNPROCESSABLE", f"Merge queue is not enabled for the branch {pr.base_ref}"
            )
        head = bare.resolve(f"refs/heads/{pr.head_ref}") or pr.head_sha
        if expected_head is not None and expected_head != head:
            raise QueueRefusal(
                "UNPROCESSABLE", "Head branch was modified. Review and try the merge again."
            )
        existing = entry_of(forge, pr.repo, pr.number)
        if existing is not None:
            return existing
        if merge_method(parameters) not in METHODS:
            raise QueueRefusal("UNPROCESSABLE", "The stand-in's merge queue does not rebase")
        _check_mergeable(forge, pr, head)
        entry = QueueEntryRecord(
            id=forge.store.next_id(),
            repo=pr.repo,
            branch=pr.base_ref,
            number=pr.number,
            head_sha=head,
            enqueuer=login,
            enqueued_at=time.time(),
        )
        forge.store.state.queue.append(entry)
        _event(forge, entry, "added", login)
    if forge.queues is not None:
        forge.queues.kick(entry.repo, entry.branch)
    return entry


def _check_mergeable(forge: Forge, pr: PullRecord, head: str) -> None:
    """GitHub admits a PR that meets the branch's rules: no conflict, no failing required check."""
    bare = forge.repos[pr.repo]
    base = bare.resolve(f"refs/heads/{pr.base_ref}")
    if base is None or bare.merge_tree(base, head) is None:
        raise QueueRefusal("UNPROCESSABLE", "Pull request is not mergeable")
    required = ci.required_contexts(forge.store.state.repos[pr.repo].ci)
    if required:
        state, context = ci.required_state(forge, pr.repo, head, required)
        if state == "failure":
            raise QueueRefusal("UNPROCESSABLE", f'Required status check "{context}" is failing.')


def dequeue(forge: Forge, pr: PullRecord, login: str) -> QueueEntryRecord:
    """Take `pr` out of its queue; the entry as it was is the mutation's answer."""
    with forge.store.lock:
        entry = entry_of(forge, pr.repo, pr.number)
        if entry is None:
            raise QueueRefusal("UNPROCESSABLE", "Pull request is not in the merge queue")
        if entry.state == "LOCKED":
            raise QueueRefusal("UNPROCESSABLE", "Pull request is being merged by the merge queue")
        answer = entry.model_copy(update={"left_at": position(forge, entry)})
        remove(forge, entry, "The pull request was removed from the queue manually.", login)
    return answer


def remove(forge: Forge, entry: QueueEntryRecord, reason: str | None, login: str) -> None:
    """Drop `entry` (and its merge group ref); `reason` None: it merged, no removal event."""
    with forge.store.lock:
        forge.store.state.queue = [e for e in forge.store.state.queue if e.id != entry.id]
        if reason is not None:
            _event(forge, entry, "removed", login, reason)
        ref, sha = entry.group_ref, entry.group_sha
    if ref is not None and sha is not None:
        forge.repos[entry.repo].delete_ref(ref, sha)


def _event(
    forge: Forge,
    entry: QueueEntryRecord,
    kind: Literal["added", "removed"],
    login: str,
    reason: str | None = None,
) -> None:
    forge.store.state.queue_events.append(
        QueueEventRecord(
            id=forge.store.next_id(),
            repo=entry.repo,
            number=entry.number,
            kind=kind,
            actor=login,
            at=time.time(),
            reason=reason,
        )
    )


class QueueRunner:
    """One daemon thread per queue that has entries; `stop` cancels their waits and joins them."""

    def __init__(self, forge: Forge) -> None:
        self.forge = forge
        self._stopping = threading.Event()
        self._threads: dict[tuple[str, str], threading.Thread] = {}
        self._lock = threading.Lock()

    def kick(self, repo: str, branch: str) -> None:
        """Make sure the queue of `branch` is being worked on."""
        with self._lock:
            thread = self._threads.get((repo, branch))
            if (thread is not None and thread.is_alive()) or self._stopping.is_set():
                return
            thread = threading.Thread(
                target=self._drain, args=(repo, branch), name=f"queue-{repo}-{branch}", daemon=True
            )
            self._threads[(repo, branch)] = thread
        thread.start()

    def resume(self) -> None:
        """Pick up the queues a stopped stand-in left with entries (the state persists)."""
        with self.forge.store.lock:
            busy = sorted({(e.repo, e.branch) for e in self.forge.store.state.queue})
        for repo, branch in busy:
            self.kick(repo, branch)

    def stop(self) -> None:
        self._stopping.set()
        with self._lock:
            threads = list(self._threads.values())
        for thread in threads:
            thread.join(JOIN_TIMEOUT)

    def _drain(self, repo: str, branch: str) -> None:
        while not self._stopping.is_set():
            queue = entries(self.forge, repo, branch)
            if not queue:
                with self._lock:  # a kick racing this exit starts a new thread
                    if not entries(self.forge, repo, branch):
                        self._threads.pop((repo, branch), None)
                        return
                continue
            self._process(queue[0])

    def _current(self, entry: QueueEntryRecord) -> bool:
        """Still queued (not dequeued meanwhile) and the stand-in is not stopping."""
        if self._stopping.is_set():
            return False
        with self.forge.store.lock:
            return any(e.id == entry.id for e in self.forge.store.state.queue)

    def _process(self, entry: QueueEntryRecord) -> None:
        delay = self.forge.store.state.repos[entry.repo].queue.delay
        if self._stopping.wait(delay) or not self._current(entry):
            return
        if entry.group_sha is None and not self._build(entry):
            return
        failed = self._await_checks(entry)
        if not self._current(entry):
            return
        if failed is not None:
            self._set(entry, "UNMERGEABLE")
            remove(self.forge, entry, failed, entry.enqueuer)
            return
        self._set(entry, "MERGEABLE")
        self._merge(entry)

    def _set(self, entry: QueueEntryRecord, state: EntryState) -> None:
        with self.forge.store.lock:
            entry.state = state

    def _build(self, entry: QueueEntryRecord) -> bool:
        """The `merge_group` commit on the branch tip, its ref, and CI on it; False: removed."""
        forge = self.forge
        bare = forge.repos[entry.repo]
        pr = forge.store.pull(entry.repo, entry.number)
        parameters = rule(forge, entry.repo, entry.branch) or {}
        base = bare.resolve(f"refs/heads/{entry.branch}")
        sha = None
        if pr is not None and base is not None:
            method = METHODS.get(merge_method(parameters), "squash")
            sha = merge_commit(
                forge, pr, bare, base, entry.head_sha, method=method, login=entry.enqueuer
            )
        if pr is None or base is None or sha is None:
            remove(forge, entry, "The pull request conflicts with the base branch.", "github")
            return False
        ref = f"refs/heads/gh-readonly-queue/{entry.branch}/pr-{entry.number}-{base}"
        bare.update_ref(ref, sha, None)
        with forge.store.lock:
            entry.base_sha, entry.group_sha, entry.group_ref = base, sha, ref
            entry.state = "AWAITING_CHECKS"
        ci.start(forge, entry.repo, sha)  # the `merge_group` event
        return True

    def _await_checks(self, entry: QueueEntryRecord) -> str | None:
        """Wait for the merge group's checks; the reason it fails, or None when all are green.

        The checks waited for are the branch's required ones where it has any, else every
        check the repo's CI runs (a queue with nothing required would merge at once).
        """
        forge, sha = self.forge, str(entry.group_sha)
        record = forge.store.state.repos[entry.repo]
        names = ci.required_contexts(record.ci) or list(record.ci.checks)
        if record.ci.conclusion == "none" and not ci.required_contexts(record.ci):
            return None
        while self._current(entry):
            state, context = ci.required_state(forge, entry.repo, sha, names)
            if state == "failure":
                return f'The merge group failed the required status check "{context}".'
            if state == "success":
                return None
            self._stopping.wait(POLL)
        return None

    def _merge(self, entry: QueueEntryRecord) -> None:
        """Fast-forward the branch to the merge group and mark the PR merged with it."""
        forge = self.forge
        pr = forge.store.pull(entry.repo, entry.number)
        bare = forge.repos[entry.repo]
        sha, base, ref = str(entry.group_sha), str(entry.base_sha), str(entry.group_ref)
        self._set(entry, "LOCKED")
        with forge.watching(entry.repo):
            moved = pr is not None and bare.update_ref(f"refs/heads/{entry.branch}", sha, base)
        if pr is None or not moved:  # the branch moved under the queue: build the group again
            with forge.store.lock:
                entry.state, entry.group_sha, entry.group_ref = "QUEUED", None, None
            bare.delete_ref(ref, sha)
            return
        method = METHODS.get(merge_method(rule(forge, entry.repo, entry.branch) or {}), "squash")
        record_merge(forge, pr, entry.enqueuer, method, base=base, head=entry.head_sha, sha=sha)
        remove(forge, entry, None, entry.enqueuer)
