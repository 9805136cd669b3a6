"""The state-branch store: `runs/<run-id>.json` on a branch of the central repo, by CAS.

Kept apart from `store` so that planning and local runs never import PyGithub.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TypeVar

import requests
from github import GithubException
from github.ContentFile import ContentFile
from github.Repository import Repository

from release_train import preflight
from release_train.adapters.backoff import Backoff
from release_train.adapters.retry import SERVER_ERRORS
from release_train.adapters.store import Stored, not_found, not_text, run_exists
from release_train.errors import ErrorCode, ReleaseError

T = TypeVar("T")


class BranchStore:
    """`runs/<run_id>.json` on a state branch of the central repo, via the contents API.

    Every write passes the blob sha this object last read or wrote, so a second writer
    gets `STATE_CONFLICT` instead of silently losing the first one's state. `lock()` is
    a no-op: the workflow's `concurrency` group serialises trains, and the compare-and-swap
    catches whatever slips past it. Every request retries a 5xx, a rate limit or a lost
    connection by `retry`, the policy of the run's other GitHub calls (issue 12, item 6).
    """

    def __init__(
        self,
        repo: Repository,
        branch: str = "release-train-state",
        base_branch: str | None = None,
        retry: Backoff | None = None,
    ) -> None:
        self.repo = repo
        self.branch = branch
        self.base_branch = base_branch
        self.retry = retry or Backoff()
        self._shas: dict[str, str] = {}
        self._branch_ready = False

    def _where(self, path: str) -> str:
        return f"{self.repo.full_name}@{self.branch}:{path}"

    def describe(self) -> str:
        return f"branch {self.branch} of {self.repo.full_name} (runs/<run-id>.json)"

    def create(self, run_id: str, text: str) -> None:
        active, archived = _paths(run_id)
        self._ensure_branch()
        if self._read(archived) is not None:
            raise run_exists(run_id, self._where(archived))
        sha = self._put(run_id, active, text, None)
        if sha is None:
            raise run_exists(run_id, self._where(active))
        self._shas[run_id] = sha

    def load(self, run_id: str) -> Stored:
        active, archived = _paths(run_id)
        current, finished = self._read(active), self._read(archived)
        if current is not None:
            self._shas[run_id] = current.sha
            return Stored(_text(current), finished is not None, self._where(active))
        if finished is not None:
            return Stored(_text(finished), True, self._where(archived))
        raise not_found(run_id, self.describe())

    def save(self, run_id: str, text: str) -> None:
        active, _ = _paths(run_id)
        # Without a sha we know, the PUT can only create: it never overwrites unread state.
        sha = self._put(run_id, active, text, self._shas.get(run_id))
        if sha is None:
            raise _conflict(self._where(active))
        self._shas[run_id] = sha

    def archive(self, run_id: str) -> None:
        """Spec Step 4.2, without DELETE: copy the final state to `archive/<run_id>.json`."""
        active, archived = _paths(run_id)
        current = self._read(active)
        if current is None:
            if self._read(archived) is not None:
                return
            raise not_found(run_id, self.describe())
        if self._shas.get(run_id, current.sha) != current.sha:
            raise _conflict(self._where(active))
        text, existing = _text(current), self._read(archived)
        if existing is not None and _text(existing) == text:
            return
        if self._put(run_id, archived, text, existing.sha if existing else None) is None:
            raise _conflict(self._where(archived))

    def runs(self) -> list[tuple[str, bool]]:
        active, finished = self._list("runs"), self._list("archive")
        return sorted((run_id, run_id in finished) for run_id in active | finished)

    def lock(self, run_id: str) -> contextlib.AbstractContextManager[None]:
        preflight.validate_run_id(run_id)
        return contextlib.nullcontext()

    def read_lock(self, name: str) -> tuple[str, str] | None:
        found = self._read(_lock_path(name))
        return None if found is None else (_text(found), found.sha)

    def write_lock(self, name: str, text: str, version: str | None) -> bool:
        """The family lock by the contents API's compare-and-swap: a PUT without a sha only
        creates (422 when the file exists), one with a sha only replaces that blob (409)."""
        self._ensure_branch()
        return self._put(f"lock of {name}", _lock_path(name), text, version) is not None

    def _ensure_branch(self) -> None:
        if self._branch_ready:
            return
        try:
            self._retried(lambda: self.repo.get_branch(self.branch))
        except GithubException as exc:
            if exc.status != 404:
                raise _github_error(exc, f"reading branch {self.branch}") from exc
            self._create_branch()
        self._branch_ready = True

    def _create_branch(self) -> None:
        try:
            base = self._retried(lambda: self.base_branch or self.repo.default_branch)
            head = self._retried(lambda: self.repo.get_branch(base).commit.sha)
            self._retried(lambda: self.repo.create_git_ref(f"refs/heads/{self.branch}", head))
        except GithubException as exc:
            # Someone (or our own retried POST) made it meanwhile: that is the goal.
            if not (exc.status == 422 and "already exists" in _message(exc)):
                raise _github_error(exc, f"creating branch {self.branch}") from exc

    def _get(self, path: str) -> ContentFile | list[ContentFile] | None:
        """The file or folder on the state branch; None when it or the branch does not exist."""
        try:
            return self._retried(lambda: self.repo.get_contents(path, ref=self.branch))
        except GithubException as exc:
            # Any 404: a missing branch is "No commit found for the ref", not "Not Found".
            if exc.status == 404:
                return None
            raise _github_error(exc, f"reading {self._where(path)}") from exc
        except requests.RequestException as exc:
            raise _lost(f"reading {self._where(path)}") from exc

    def _retried(self, fn: Callable[[], T]) -> T:
        return self.retry.retrying(fn, _transient)

    def _read(self, path: str) -> ContentFile | None:
        found = self._get(path)
        if isinstance(found, list):
            raise ReleaseError(
                ErrorCode.STATE_CORRUPT,
                f"{self._where(path)} is a directory, not a state file",
                hint="remove it from the state branch",
            )
        return found

    def _put(self, run_id: str, path: str, text: str, sha: str | None) -> str | None:
        """Write with compare-and-swap: the new blob sha, or None when another text is there."""
        where = self._where(path)
        attempt = 1
        while True:
            try:
                return self._put_once(run_id, path, text, sha)
            except GithubException as exc:
                if exc.status not in (409, 422) and not _transient(exc):
                    raise _github_error(exc, f"writing {where}") from exc
                failure: Exception = exc
            except requests.RequestException as exc:
                failure = exc
            # A PUT can be applied and its answer lost (a client retry of it then answers
            # 409/422): it is ours when the stored text is what we wrote.
            current = self._read(path)
            if current is not None and _text(current) == text:
                return current.sha
            if (current.sha if current is not None else None) != sha:
                return None
            # The file is as we left it: the write failed on its way (a 5xx, a lost
            # connection) or the 409 was the branch moving under another file. Again.
            if attempt >= self.retry.attempts:
                raise _write_failed(failure, where) from failure
            self.retry.sleep(self.retry.delay(attempt))
            attempt += 1

    def _put_once(self, run_id: str, path: str, text: str, sha: str | None) -> str:
        message = f"chore(release-train): state of {run_id}"
        if sha is None:
            result = self.repo.create_file(path, message, text, branch=self.branch)
        else:
            result = self.repo.update_file(path, message, text, sha, branch=self.branch)
        content = result["content"]
        if not isinstance(content, ContentFile):
            raise ReleaseError(
                ErrorCode.GITHUB_ERROR,
                f"no content in the answer for {path}",
                hint="GitHub answered the write without the file: retry, or resume the run",
            )
        return str(content.sha)

    def _list(self, folder: str) -> set[str]:
        found = self._get(folder)
        entries = found if isinstance(found, list) else []
        stems = (e.name.removesuffix(".json") for e in entries if e.name.endswith(".json"))
        return {stem for stem in stems if preflight.RUN_ID.match(stem)}


def _paths(run_id: str) -> tuple[str, str]:
    name = f"{preflight.validate_run_id(run_id)}.json"
    return f"runs/{name}", f"archive/{name}"


def _lock_path(name: str) -> str:
    return f"locks/{preflight.validate_run_id(name)}.json"


def _text(content: ContentFile) -> str:
    try:
        return bytes(content.decoded_content).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise not_text(f"{content.path} on the state branch") from exc


def _message(exc: GithubException) -> str:
    data = exc.data if isinstance(exc.data, dict) else {}
    return str(data.get("message", ""))


def _transient(exc: Exception) -> bool:
    """A failure of GitHub or the network, not of the request: worth another try."""
    if isinstance(exc, requests.RequestException):
        return True
    if not isinstance(exc, GithubException):
        return False
    limited = exc.status in (403, 429) and "rate limit" in _message(exc).lower()
    return exc.status in SERVER_ERRORS or limited


def _lost(doing: str) -> ReleaseError:
    hint = "check the network and GITHUB_API_URL, then re-run to resume from the state"
    return ReleaseError(ErrorCode.GITHUB_ERROR, f"connection lost while {doing}", hint=hint)


def _write_failed(failure: Exception, where: str) -> ReleaseError:
    if not isinstance(failure, GithubException):
        return _lost(f"writing {where}; it was not written")
    if failure.status in (409, 422):
        return _conflict(where)
    return _github_error(failure, f"writing {where}")


def _conflict(where: str) -> ReleaseError:
    hint = "two trains on one run? re-run to resume from the stored state"
    return ReleaseError(ErrorCode.STATE_CONFLICT, f"another writer changed {where}", hint=hint)


def _github_error(exc: GithubException, doing: str) -> ReleaseError:
    cause = f"GitHub answered {exc.status} while {doing}: {_message(exc) or 'no message'}"
    if exc.status in (401, 403) and "rate limit" not in _message(exc).lower():
        hint = "the token needs `contents: write` on the central repository"
        return ReleaseError(ErrorCode.PERMISSION_DENIED, cause, hint=hint)
    return ReleaseError(ErrorCode.GITHUB_ERROR, cause, hint="re-run to resume from the state")
