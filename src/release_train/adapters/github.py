"""GitHub for the release steps: pull requests, CI, merges, tags, releases and workflow runs."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal
from urllib.parse import quote

from github import Auth, Github
from github.Repository import Repository

from release_train.adapters import merge_guards as guards
from release_train.adapters.merge_guards import RequiredChecks
from release_train.adapters.retry import PER_PAGE, Answer, Api, Call, Retry, already_exists
from release_train.errors import ErrorCode, ReleaseError

DEFAULT_API_URL = "https://api.github.com"
MAX_PULL_PAGES = 10  # a thousand open PRs into one branch: enough to find a release PR
MAX_RELEASE_PAGES = 10  # a thousand releases: a draft of ours is among the newest
MAX_PEEL = 5  # tags of tags of tags: GitHub allows them, nobody nests deeper
PASSED = frozenset({"success", "neutral", "skipped"})

CheckState = Literal["success", "pending", "failure"]


@dataclass(frozen=True)
class PullInfo:
    number: int
    url: str  # html_url, for people
    state: str
    merged: bool
    head_ref: str
    head_sha: str
    base_ref: str
    merge_commit_sha: str | None  # only once merged (before, GitHub shows a test merge)


@dataclass(frozen=True)
class CheckInfo:
    name: str
    state: CheckState
    url: str | None
    # What the remote said: a check run's conclusion, or a status's state and description.
    detail: str | None = field(default=None, compare=False)


@dataclass(frozen=True)
class ChecksState:
    """CI of one commit over both APIs; `none` means the repo reports no CI at all."""

    state: Literal["success", "pending", "failure", "none"]
    checks: tuple[CheckInfo, ...]

    @property
    def failed(self) -> tuple[CheckInfo, ...]:
        return tuple(check for check in self.checks if check.state == "failure")


@dataclass(frozen=True)
class ReleaseInfo:
    id: int
    url: str  # html_url; a draft's changes when it is published
    draft: bool


@dataclass(frozen=True)
class RunInfo:
    id: int
    url: str
    event: str
    status: str
    conclusion: str | None
    head_branch: str | None
    head_sha: str
    created_at: datetime


class MergeQueueRequired(ReleaseError):
    """The REST merge was refused (405) because only the branch's merge queue may merge."""


class GitHub:
    """One owner's repositories through PyGithub's requester, each call retried within bounds.

    PyGithub's own pacing and urllib3 retries are off: this class retries (see `retry.py`)
    so that every retry is counted in `requests` and every create can verify "already
    exists" against what it meant to create (DESIGN: "Retries are not free").
    """

    def __init__(
        self,
        api_url: str,
        token: str,
        owner: str,
        *,
        attempts: int = 5,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if attempts < 1:
            raise ReleaseError(
                ErrorCode.USAGE,
                f"attempts must be at least 1, not {attempts}",
                hint="give 1 or more attempts",
            )
        self._gh = Github(
            base_url=api_url.rstrip("/"),
            auth=Auth.Token(token),
            retry=None,
            seconds_between_requests=None,
            seconds_between_writes=None,
            timeout=30,
            lazy=True,  # `repository()` objects fetch nothing until an attribute needs it
        )
        self._api = Api(self._gh.requester, Retry(attempts, backoff, max_backoff, sleep))
        self.owner = owner
        self._lock = threading.Lock()
        self._repos: dict[str, Repository] = {}

    @classmethod
    def from_env(cls, owner: str, env: Mapping[str, str] = os.environ) -> GitHub:
        """From GITHUB_API_URL (default api.github.com) and GITHUB_TOKEN, else GH_TOKEN."""
        token = env.get("GITHUB_TOKEN") or env.get("GH_TOKEN")
        if not token:
            raise ReleaseError(
                ErrorCode.USAGE,
                "no GitHub token in the environment",
                hint="set GITHUB_TOKEN (or GH_TOKEN) to a token that can write to the "
                "family's repositories",
            )
        return cls(env.get("GITHUB_API_URL") or DEFAULT_API_URL, token, owner)

    @property
    def retry(self) -> Retry:
        """The retry policy of this adapter's calls, for others that call GitHub (the store)."""
        return self._api.retry

    @property
    def api(self) -> Api:
        """The counted, retried transport, for the GraphQL calls (`github_graphql.py`)."""
        return self._api

    @property
    def requests(self) -> int:
        """HTTP requests this adapter's calls made, retries included (not `repository()`'s)."""
        return self._api.count

    def repository(self, repo: str) -> Repository:
        """PyGithub's lazy repository object (no request until an attribute needs one)."""
        with self._lock:
            if repo not in self._repos:
                self._repos[repo] = self._gh.get_repo(f"{self.owner}/{repo}")
            return self._repos[repo]

    # Branches and pull requests.

    def branch_sha(self, repo: str, branch: str) -> str | None:
        answer = self.repo_call(
            "GET", repo, f"/git/ref/heads/{_seg(branch)}", "read branches", (404,)
        )
        return None if answer.status == 404 else str(answer.data["object"]["sha"])

    def delete_branch(self, repo: str, branch: str) -> None:
        # 404/422: already gone, which is what deleting wanted.
        self.repo_call(
            "DELETE", repo, f"/git/refs/heads/{_seg(branch)}", f"delete {branch}", (404, 422)
        )

    def find_pull(self, repo: str, head_branch: str, base: str) -> PullInfo | None:
        """The newest pull request (open, closed or merged) from `head_branch` into `base`."""
        params = {
            "state": "all",
            "head": f"{self.owner}:{head_branch}",
            "base": base,
            "sort": "created",
            "direction": "desc",
            "per_page": str(PER_PAGE),
        }
        answer = self.repo_call("GET", repo, "/pulls", "read pull requests", params=params)
        pulls = sorted((_pull(item) for item in answer.data), key=lambda p: -p.number)
        return next((p for p in pulls if p.head_ref == head_branch), None)

    def open_pulls(self, repo: str, base: str) -> list[PullInfo]:
        """Every open pull request into `base`, oldest first."""
        found: list[PullInfo] = []
        for page in range(1, MAX_PULL_PAGES + 1):
            params = {"state": "open", "base": base, "per_page": str(PER_PAGE), "page": str(page)}
            answer = self.repo_call("GET", repo, "/pulls", "read pull requests", params=params)
            found += [_pull(item) for item in answer.data]
            if len(answer.data) < PER_PAGE:
                break
        return sorted(found, key=lambda p: p.number)

    def create_pull(self, repo: str, *, head: str, base: str, title: str, body: str) -> PullInfo:
        """Open a PR; an "already exists" for our head branch (a retried POST) returns that PR."""
        payload = {"title": title, "body": body, "head": head, "base": base}
        answer = self.repo_call(
            "POST", repo, "/pulls", "create pull requests", (422,), body=payload
        )
        if answer.status < 400:
            return _pull(answer.data)
        if already_exists(answer):
            found = self.find_pull(repo, head, base)
            if found is not None and found.head_ref == head and found.state == "open":
                return found
        raise ReleaseError(
            ErrorCode.PR_FAILED,
            f"cannot open a pull request {head} -> {base}: {answer.message}",
            repo=repo,
            hint=f"check that {head} exists, differs from {base}, and has no other open PR",
        )

    def get_pull(self, repo: str, number: int) -> PullInfo:
        answer = self.repo_call("GET", repo, f"/pulls/{number}", "read pull requests", (404,))
        if answer.status == 404:
            raise ReleaseError(
                ErrorCode.PR_FAILED,
                f"no pull request #{number}",
                repo=repo,
                hint="it was deleted or the repo moved: see `release-train status RUN_ID`",
            )
        return _pull(answer.data)

    # CI and merging.

    def checks(self, repo: str, sha: str) -> ChecksState:
        """CI of `sha` from check runs AND commit statuses (a repo may use either or both)."""
        runs = self._pages(repo, f"/commits/{sha}/check-runs", "check_runs", {"filter": "latest"})
        # An Actions-only repo answers combined state `pending` with no statuses: we read the
        # statuses themselves, so that reads as "no statuses", not as pending.
        statuses = self._pages(repo, f"/commits/{sha}/status", "statuses", {})
        found = [*(_check_run(run) for run in runs), *(_status(s) for s in statuses)]
        found.sort(key=lambda c: (c.name, c.url or ""))
        return ChecksState(_overall(found), tuple(found))

    def required_checks(self, repo: str, branch: str) -> RequiredChecks:
        """The checks `branch`'s protection and rulesets require, where the token may read them.

        Reading protection needs admin rights (403, or 404 "Not Found" without them); the
        rules endpoint needs read access only, and older servers lack it (404).
        """
        sub = f"/branches/{_seg(branch)}/protection"
        protection = self._readable(repo, sub, "read branch protection")
        unprotected = protection is not None and "not protected" in protection.message.lower()
        sub, page = f"/rules/branches/{_seg(branch)}", {"per_page": str(PER_PAGE)}
        rules = self._readable(repo, sub, "read branch rules", page)
        return guards.required_checks(
            _data_or_none(protection), _data_or_none(rules), unprotected=unprotected
        )

    def merge_queue(self, repo: str, branch: str) -> guards.MergeQueueRule | None:
        """The merge queue `branch`'s rulesets require, None when none (or none readable:
        a REST merge that a queue refuses says so, see `MergeQueueRequired`)."""
        sub, page = f"/rules/branches/{_seg(branch)}", {"per_page": str(PER_PAGE)}
        rules = _data_or_none(self._readable(repo, sub, "read branch rules", page))
        return guards.merge_queue_rule(rules) if isinstance(rules, list) else None

    def compare(self, repo: str, base: str, head: str) -> guards.Comparison:
        """What `head` has that `base` lacks (GitHub lists up to 250 of those commits)."""
        sub = f"/compare/{_seg(base)}...{_seg(head)}"
        return guards.comparison(self.repo_call("GET", repo, sub, "read commits").data)

    def git_commit(self, repo: str, sha: str) -> guards.GitCommit:
        """The tree and parents of commit `sha`."""
        sub = f"/git/commits/{_seg(sha)}"
        return guards.git_commit(self.repo_call("GET", repo, sub, "read commits").data)

    def _readable(
        self, repo: str, sub: str, action: str, params: Mapping[str, str] | None = None
    ) -> Answer | None:
        """A GET whose 404 comes back as an answer and whose 403 means "may not read": None."""
        try:
            return self.repo_call("GET", repo, sub, action, (404,), params=params)
        except ReleaseError as exc:
            if exc.code is ErrorCode.PERMISSION_DENIED:
                return None
            raise

    def merge(self, repo: str, number: int, *, sha: str, title: str, message: str) -> str:
        """Squash-merge PR `number` only if its head is still `sha`; the merge commit's SHA."""
        payload = {"sha": sha, "merge_method": "squash"}
        payload |= {"commit_title": title, "commit_message": message}
        sub, action = f"/pulls/{number}/merge", f"merge pull request #{number}"
        answer = self.repo_call("PUT", repo, sub, action, (404, 405, 409, 422), body=payload)
        if answer.status < 400:
            return str(answer.data["sha"])
        pull = self.get_pull(repo, number)
        # A retried PUT whose first attempt merged answers 405: the PR tells what happened.
        if pull.merged and pull.head_sha == sha and pull.merge_commit_sha:
            return pull.merge_commit_sha
        if answer.status == 405 and "merge queue" in answer.message.lower():
            raise MergeQueueRequired(
                ErrorCode.MERGE_FAILED,
                # GitHub's text has blank lines between its parts; an error is one line.
                f"#{number}: "
                + ": ".join(p.strip() for p in answer.message.splitlines() if p.strip()),
                repo=repo,
                hint="the branch requires a merge queue: MERGE enqueues the PR instead",
            )
        raise _merge_failed(repo, answer, pull, sha)

    # Tags and releases.

    def tag_sha(self, repo: str, tag: str) -> str | None:
        """The commit `tag` points to (annotated tags peeled), or None when there is no tag."""
        answer = self.repo_call("GET", repo, f"/git/ref/tags/{_seg(tag)}", "read tags", (404,))
        if answer.status == 404:
            return None
        target = answer.data["object"]
        for _ in range(MAX_PEEL):
            if target["type"] != "tag":
                return str(target["sha"])
            target = self.repo_call("GET", repo, f"/git/tags/{target['sha']}", "read tags").data
            target = target["object"]
        raise ReleaseError(
            ErrorCode.GITHUB_ERROR,
            f"tag {tag} nests too deeply",
            repo=repo,
            hint="point the tag at a commit, or at a tag of one",
        )

    def create_tag(self, repo: str, tag: str, sha: str) -> None:
        """A lightweight tag at `sha`; an existing tag is fine only if it points to `sha`."""
        payload = {"ref": f"refs/tags/{tag}", "sha": sha}
        answer = self.repo_call(
            "POST", repo, "/git/refs", f"create tag {tag}", (422,), body=payload
        )
        if answer.status < 400:
            return
        existing = self.tag_sha(repo, tag) if already_exists(answer) else None
        if existing == sha:
            return
        if existing is not None:
            raise ReleaseError(
                ErrorCode.TAG_CONFLICT,
                f"tag {tag} already points to {existing}, not to the merge commit {sha}",
                repo=repo,
                hint="someone else made this tag: check what it released before "
                "deleting it or choosing another version",
            )
        raise ReleaseError(
            ErrorCode.GITHUB_ERROR,
            f"cannot create tag {tag} at {sha}: {answer.message}",
            repo=repo,
            hint="check the tag protection rules and the token's contents: write permission",
        )

    def find_release(self, repo: str, tag: str) -> ReleaseInfo | None:
        """The release of `tag`, published or a draft. GitHub's by-tag lookup answers only
        published releases, so a draft (a run stopped before publishing it) is looked for
        in the list, which shows drafts to a token that can push."""
        answer = self.repo_call("GET", repo, f"/releases/tags/{_seg(tag)}", "read releases", (404,))
        if answer.status != 404:
            return _release(answer.data)
        for page in range(1, MAX_RELEASE_PAGES + 1):
            params = {"per_page": str(PER_PAGE), "page": str(page)}
            answer = self.repo_call("GET", repo, "/releases", "read releases", params=params)
            drafts = [item for item in answer.data if item["tag_name"] == tag and item["draft"]]
            if drafts:
                return _release(min(drafts, key=lambda item: int(item["id"])))
            if len(answer.data) < PER_PAGE:
                break
        return None

    def create_draft_release(self, repo: str, tag: str, name: str, body: str) -> ReleaseInfo:
        """A draft release of `tag`, to be published by `publish_release`.

        Not replayed: GitHub takes several drafts of one tag, so a resent POST whose first
        answer was lost would make a second. After such a loss the draft is looked up.
        """
        payload = {"tag_name": tag, "name": name, "body": body, "draft": True}
        try:
            answer = self.repo_call(
                "POST", repo, "/releases", "create releases", body=payload, replay=False
            )
        except ReleaseError:
            found = self.find_release(repo, tag)
            if found is None:
                raise
            return found
        return _release(answer.data)

    def publish_release(self, repo: str, release_id: int) -> ReleaseInfo:
        """Publish a draft (idempotent: publishing a published release changes nothing)."""
        sub, body = f"/releases/{release_id}", {"draft": False}
        answer = self.repo_call("PATCH", repo, sub, "publish releases", (422,), body=body)
        if answer.status < 400:
            return _release(answer.data)
        raise ReleaseError(
            ErrorCode.GITHUB_ERROR,
            f"cannot publish release {release_id}: {answer.message}",
            repo=repo,
            hint="another release of this tag may be published already: check the repo's releases",
        )

    def create_family_release(self, full_name: str, tag: str, name: str, body: str) -> str:
        """A published release of `full_name` (`owner/repo`, any owner) at a new `tag`.

        GitHub makes the tag at the default branch's head. A release of that tag already
        there (a retried POST, or a re-run of the run's last attempt) is kept: its URL.
        """
        path = f"/repos/{_seg(full_name)}/releases"
        call = Call("POST", path, "create releases", repo=full_name, expect=(422,))
        answer = self._api.call(call, body={"tag_name": tag, "name": name, "body": body})
        if answer.status < 400:
            return str(answer.data["html_url"])
        if already_exists(answer):
            sub = f"{path}/tags/{_seg(tag)}"
            found = self._api.call(Call("GET", sub, "read releases", repo=full_name, expect=(404,)))
            if found.status < 400:
                return str(found.data["html_url"])
        raise ReleaseError(
            ErrorCode.GITHUB_ERROR,
            f"cannot create the family release {tag} in {full_name}: {answer.message}",
            repo=full_name,
            hint="the token needs contents: write on that repo; the run's own releases stand",
        )

    # Workflows.

    def dispatch(self, repo: str, workflow: str, ref: str, inputs: Mapping[str, str]) -> None:
        """Start `workflow` on `ref`. Not replayed: a second dispatch would start a second run."""
        body: dict[str, Any] = {"ref": ref, "inputs": dict(inputs)}
        sub, action = f"/actions/workflows/{_seg(workflow)}/dispatches", "dispatch workflows"
        answer = self.repo_call("POST", repo, sub, action, (404, 422), body=body, replay=False)
        if answer.status >= 400:
            raise ReleaseError(
                ErrorCode.PUBLISH_NOT_STARTED,
                f"cannot dispatch {workflow} on {ref}: {answer.status} {answer.message}",
                repo=repo,
                hint=f"check that {workflow} exists, has `on: workflow_dispatch` and that "
                f"{ref} exists",
            )

    def workflow_runs(
        self,
        repo: str,
        workflow: str,
        *,
        event: str | None = None,
        head_sha: str | None = None,
        branch: str | None = None,
    ) -> list[RunInfo]:
        """The newest runs of `workflow` (one page), newest first."""
        given = {"event": event, "head_sha": head_sha, "branch": branch, "per_page": str(PER_PAGE)}
        params = {key: value for key, value in given.items() if value}
        sub = f"/actions/workflows/{_seg(workflow)}/runs"
        answer = self.repo_call("GET", repo, sub, "read workflow runs", (404,), params=params)
        if answer.status == 404:
            raise ReleaseError(
                ErrorCode.PUBLISH_NOT_STARTED,
                f"no workflow {workflow}",
                repo=repo,
                hint="add the release workflow or change the publish mode in the configuration",
            )
        runs = [_run(item) for item in answer.data["workflow_runs"]]
        return sorted(runs, key=lambda r: (r.created_at, r.id), reverse=True)

    def get_run(self, repo: str, run_id: int) -> RunInfo:
        answer = self.repo_call(
            "GET", repo, f"/actions/runs/{run_id}", "read workflow runs", (404,)
        )
        if answer.status == 404:
            raise ReleaseError(
                ErrorCode.GITHUB_ERROR,
                f"no workflow run {run_id}",
                repo=repo,
                hint="it was deleted: resume the run to look for the release workflow again",
            )
        return _run(answer.data)

    def run_approvals(self, repo: str, run_id: int) -> list[dict[str, Any]] | None:
        """Environment reviews of run `run_id` of `repo` ("owner/name" or a name under the
        owner), as GitHub returns them; None when GitHub knows no such run."""
        full = repo if "/" in repo else f"{self.owner}/{repo}"
        path = f"/repos/{_seg(full)}/actions/runs/{run_id}/approvals"
        call = Call("GET", path, "read actions (actions:read)", repo=repo, expect=(404,))
        answer = self._api.call(call)
        return None if answer.status == 404 else list(answer.data or [])

    def repo_call(
        self,
        method: str,
        repo: str,
        sub: str,
        action: str,
        expect: Collection[int] = (),
        *,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        replay: bool = True,
    ) -> Answer:
        """One API call under `/repos/{owner}/{repo}`; statuses in `expect` come back.

        The adapter's one way to a repository's endpoints, with its retries, error codes
        and redaction: what reads a few facts no step needs (preflight's access checks,
        `init`) call it instead of a method of their own.
        """
        path = f"/repos/{_seg(self.owner)}/{_seg(repo)}{sub}"
        call = Call(method, path, action, repo=repo, expect=expect, replay=replay)
        return self._api.call(call, params=params, body=body)

    def _pages(self, repo: str, sub: str, key: str, params: Mapping[str, str]) -> list[Any]:
        path = f"/repos/{_seg(self.owner)}/{_seg(repo)}{sub}"
        return self._api.pages(Call("GET", path, "read checks", repo=repo), key, params)


def _seg(text: str) -> str:
    """A path segment (or a ref name with its slashes), percent-encoded."""
    return quote(text, safe="/")


def _release(data: Any) -> ReleaseInfo:
    return ReleaseInfo(int(data["id"]), str(data["html_url"]), bool(data["draft"]))


def _data_or_none(answer: Answer | None) -> Any:
    return answer.data if answer is not None and answer.status < 400 else None


def _pull(data: Mapping[str, Any]) -> PullInfo:
    # The list endpoint's "pull-request-simple" has no `merged`; `merged_at` says the same.
    merged = bool(data["merged"]) if "merged" in data else data.get("merged_at") is not None
    merge_sha = data.get("merge_commit_sha")
    return PullInfo(
        number=int(data["number"]),
        url=str(data["html_url"]),
        state=str(data["state"]),
        merged=merged,
        head_ref=str(data["head"]["ref"]),
        head_sha=str(data["head"]["sha"]),
        base_ref=str(data["base"]["ref"]),
        merge_commit_sha=str(merge_sha) if merged and merge_sha else None,
    )


def _check_run(data: Mapping[str, Any]) -> CheckInfo:
    if data["status"] != "completed":
        state: CheckState = "pending"
    else:
        state = "success" if data.get("conclusion") in PASSED else "failure"
    url = data.get("html_url") or data.get("details_url")
    conclusion = data.get("conclusion")
    detail = f"conclusion {conclusion}" if conclusion else None
    return CheckInfo(str(data["name"]), state, str(url) if url else None, detail)


def _status(data: Mapping[str, Any]) -> CheckInfo:
    raw = data["state"]
    state: CheckState = "failure" if raw not in ("success", "pending") else raw
    url = data.get("target_url")
    said = ": ".join(str(part) for part in (raw, data.get("description")) if part)
    return CheckInfo(str(data["context"]), state, str(url) if url else None, f"status {said}")


def _overall(checks: list[CheckInfo]) -> Literal["success", "pending", "failure", "none"]:
    states = {check.state for check in checks}
    for state in ("failure", "pending", "success"):
        if state in states:
            return state
    return "none"


def _run(data: Mapping[str, Any]) -> RunInfo:
    return RunInfo(
        id=int(data["id"]),
        url=str(data["html_url"]),
        event=str(data["event"]),
        status=str(data["status"]),
        conclusion=data.get("conclusion"),
        head_branch=data.get("head_branch"),
        head_sha=str(data["head_sha"]),
        created_at=datetime.fromisoformat(str(data["created_at"])),
    )


def _merge_failed(repo: str, answer: Answer, pull: PullInfo, sha: str) -> ReleaseError:
    if pull.merged:
        message = f"#{pull.number} was merged with head {pull.head_sha}, not the expected {sha}"
        hint = f"someone merged {pull.url} by hand after pushing to {pull.head_ref}"
    elif answer.status == 409 or pull.head_sha != sha:
        message = f"#{pull.number} not merged, head moved or conflict: {answer.message}"
        hint = (
            f"{pull.head_ref} is now at {pull.head_sha[:12]}, the release expected "
            f"{sha[:12]}: check who pushed to {pull.url}, then re-run to re-check CI"
        )
    else:
        message = f"#{pull.number} not mergeable: {answer.status} {answer.message}"
        hint = f"check required checks, conflicts and branch protection of {pull.url}"
    return ReleaseError(ErrorCode.MERGE_FAILED, message, repo=repo, hint=hint)
