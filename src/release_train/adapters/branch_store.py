"""The state-branch store: `runs/<run-id>.json` on a branch of the central repo, by CAS.

Kept apart from `store` so that planning and local runs never import PyGithub.
"""

from __future__ import annotations

import contextlib

import requests
from github import GithubException
from github.ContentFile import ContentFile
from github.Repository import Repository

from release_train import preflight
from release_train.adapters.store import PUT_ATTEMPTS, Stored, not_found, not_text, run_exists
from release_train.errors import ErrorCode, ReleaseError


class BranchStore:
    """`runs/<run_id>.json` on a state branch of the central repo, via the contents API.

    Every write passes the blob sha this object last read or wrote, so a second writer
    gets `STATE_CONFLICT` instead of silently losing the first one's state. `lock()` is
    a no-op: the workflow's `concurrency` group serialises trains, and the compare-and-swap
    catches whatever slips past it.
    """

    def __init__(
        self, repo: Repository, branch: str = "release-train-state", base_branch: str | None = None
    ) -> None:
        self.repo = repo
        self.branch = branch
        self.base_branch = base_branch
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
            self.repo.get_branch(self.branch)
        except GithubException as exc:
            if exc.status != 404:
                raise _github_error(exc, f"reading branch {self.branch}") from exc
            self._create_branch()
        self._branch_ready = True

    def _create_branch(self) -> None:
        try:
            head = self.repo.get_branch(self.base_branch or self.repo.default_branch).commit.sha
            self.repo.create_git_ref(f"refs/heads/{self.branch}", head)
        except GithubException as exc:
            # Someone (or our own retried POST) made it meanwhile: that is the goal.
            if not (exc.status == 422 and "already exists" in _message(exc)):
                raise _github_error(exc, f"creating branch {self.branch}") from exc

    def _get(self, path: str) -> ContentFile | list[ContentFile] | None:
        """The file or folder on the state branch; None when it or the branch does not exist."""
        try:
            return self.repo.get_contents(path, ref=self.branch)
        except GithubException as exc:
            # Any 404: a missing branch is "No commit found for the ref", not "Not Found".
            if exc.status == 404:
                return None
            raise _github_error(exc, f"reading {self._where(path)}") from exc

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
        for _ in range(PUT_ATTEMPTS):
            try:
                return self._put_once(run_id, path, text, sha)
            except GithubException as exc:
                if exc.status not in (409, 422) and exc.status < 500:
                    raise _github_error(exc, f"writing {where}") from exc
                failure: Exception = exc
            except requests.exceptions.ConnectionError as exc:
                failure = exc
            # A PUT can be applied and its answer lost (a client retry of it then answers
            # 409/422): it is ours when the stored text is what we wrote.
            current = self._read(path)
            if current is not None and _text(current) == text:
                return current.sha
            if isinstance(failure, GithubException) and failure.status >= 500:
                raise _github_error(failure, f"writing {where}") from failure
            if not isinstance(failure, GithubException):
                cause = f"connection lost while writing {where}; it was not written"
                raise ReleaseError(ErrorCode.GITHUB_ERROR, cause) from failure
            if (current.sha if current is not None else None) != sha:
                return None
            # The file is as we left it: the 409 was the branch moving under another file.
        raise _conflict(where)

    def _put_once(self, run_id: str, path: str, text: str, sha: str | None) -> str:
        message = f"chore(release-train): state of {run_id}"
        if sha is None:
            result = self.repo.create_file(path, message, text, branch=self.branch)
        else:
            result = self.repo.update_file(path, message, text, sha, branch=self.branch)
        content = result["content"]
        if not isinstance(content, ContentFile):
            raise ReleaseError(ErrorCode.GITHUB_ERROR, f"no content in the answer for {path}")
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


def _conflict(where: str) -> ReleaseError:
    hint = "two trains on one run? re-run to resume from the stored state"
    return ReleaseError(ErrorCode.STATE_CONFLICT, f"another writer changed {where}", hint=hint)


def _github_error(exc: GithubException, doing: str) -> ReleaseError:
    cause = f"GitHub answered {exc.status} while {doing}: {_message(exc) or 'no message'}"
    if exc.status in (401, 403) and "rate limit" not in _message(exc).lower():
        hint = "the token needs `contents: write` on the central repository"
        return ReleaseError(ErrorCode.PERMISSION_DENIED, cause, hint=hint)
    return ReleaseError(ErrorCode.GITHUB_ERROR, cause, hint="re-run to resume from the state")
