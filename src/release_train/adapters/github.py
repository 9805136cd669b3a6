"""GitHub for the release steps: branches, pull requests, CI, merges and tags.

Releases and workflow runs are `github_publishing.py`'s, the transport `github_rest.py`'s;
`GitHub` is all of them, the one adapter the steps are given.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from release_train.adapters import merge_guards as guards
from release_train.adapters.github_publishing import PublishingCalls, ReleaseInfo, RunInfo
from release_train.adapters.github_rest import seg
from release_train.adapters.merge_guards import RequiredChecks
from release_train.adapters.retry import PER_PAGE, Answer, already_exists
from release_train.errors import ErrorCode, ReleaseError

__all__ = ["GitHub", "MergeQueueRequired", "ReleaseInfo", "RunInfo"]

DEFAULT_API_URL = "https://api.github.com"
MAX_PULL_PAGES = 10  # a thousand open PRs into one branch: enough to find a release PR
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


class MergeQueueRequired(ReleaseError):
    """The REST merge was refused (405) because only the branch's merge queue may merge."""


class GitHub(PublishingCalls):
    """One owner's repositories: branches, pull requests, CI, merges and tags here; releases
    and workflow runs in `PublishingCalls`; the transport, retried and counted, in
    `RestClient`."""

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

    # Branches and pull requests.

    def branch_sha(self, repo: str, branch: str) -> str | None:
        answer = self.repo_call(
            "GET", repo, f"/git/ref/heads/{seg(branch)}", "read branches", (404,)
        )
        return None if answer.status == 404 else str(answer.data["object"]["sha"])

    def delete_branch(self, repo: str, branch: str) -> None:
        # 404/422: already gone, which is what deleting wanted.
        self.repo_call(
            "DELETE", repo, f"/git/refs/heads/{seg(branch)}", f"delete {branch}", (404, 422)
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
        missing = ReleaseError(
            ErrorCode.PR_FAILED,
            f"no pull request #{number}",
            repo=repo,
            hint="it was deleted or the repo moved: see `release-train status RUN_ID`",
        )
        return _pull(self.repo_read(repo, f"/pulls/{number}", "read pull requests", missing).data)

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
        sub = f"/branches/{seg(branch)}/protection"
        protection = self._readable(repo, sub, "read branch protection")
        unprotected = protection is not None and "not protected" in protection.message.lower()
        sub, page = f"/rules/branches/{seg(branch)}", {"per_page": str(PER_PAGE)}
        rules = self._readable(repo, sub, "read branch rules", page)
        return guards.required_checks(
            _data_or_none(protection), _data_or_none(rules), unprotected=unprotected
        )

    def merge_queue(self, repo: str, branch: str) -> guards.MergeQueueRule | None:
        """The merge queue `branch`'s rulesets require, None when none (or none readable:
        a REST merge that a queue refuses says so, see `MergeQueueRequired`)."""
        sub, page = f"/rules/branches/{seg(branch)}", {"per_page": str(PER_PAGE)}
        rules = _data_or_none(self._readable(repo, sub, "read branch rules", page))
        return guards.merge_queue_rule(rules) if isinstance(rules, list) else None

    def compare(self, repo: str, base: str, head: str) -> guards.Comparison:
        """What `head` has that `base` lacks (GitHub lists up to 250 of those commits)."""
        sub = f"/compare/{seg(base)}...{seg(head)}"
        return guards.comparison(self.repo_call("GET", repo, sub, "read commits").data)

    def git_commit(self, repo: str, sha: str) -> guards.GitCommit:
        """The tree and parents of commit `sha`."""
        sub = f"/git/commits/{seg(sha)}"
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
        answer = self.repo_call("GET", repo, f"/git/ref/tags/{seg(tag)}", "read tags", (404,))
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
