"""GitHub Releases and workflow runs: the publishing side of the GitHub adapter."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from release_train.adapters.github_rest import RestClient, seg
from release_train.adapters.retry import PER_PAGE, Call, already_exists
from release_train.errors import ErrorCode, ReleaseError

MAX_RELEASE_PAGES = 10  # a thousand releases: a draft of ours is among the newest


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


class PublishingCalls(RestClient):
    """Releases (draft, publish, the family's) and workflows (dispatch, runs, approvals)."""

    def find_release(self, repo: str, tag: str) -> ReleaseInfo | None:
        """The release of `tag`, published or a draft. GitHub's by-tag lookup answers only
        published releases, so a draft (a run stopped before publishing it) is looked for
        in the list, which shows drafts to a token that can push."""
        answer = self.repo_call("GET", repo, f"/releases/tags/{seg(tag)}", "read releases", (404,))
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
        path = f"/repos/{seg(full_name)}/releases"
        call = Call("POST", path, "create releases", repo=full_name, expect=(422,))
        answer = self._api.call(call, body={"tag_name": tag, "name": name, "body": body})
        if answer.status < 400:
            return str(answer.data["html_url"])
        if already_exists(answer):
            sub = f"{path}/tags/{seg(tag)}"
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
        sub, action = f"/actions/workflows/{seg(workflow)}/dispatches", "dispatch workflows"
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
        sub = f"/actions/workflows/{seg(workflow)}/runs"
        missing = ReleaseError(
            ErrorCode.PUBLISH_NOT_STARTED,
            f"no workflow {workflow}",
            repo=repo,
            hint="add the release workflow or change the publish mode in the configuration",
        )
        answer = self.repo_read(repo, sub, "read workflow runs", missing, params=params)
        runs = [_run(item) for item in answer.data["workflow_runs"]]
        return sorted(runs, key=lambda r: (r.created_at, r.id), reverse=True)

    def get_run(self, repo: str, run_id: int) -> RunInfo:
        missing = ReleaseError(
            ErrorCode.GITHUB_ERROR,
            f"no workflow run {run_id}",
            repo=repo,
            hint="it was deleted: resume the run to look for the release workflow again",
        )
        sub = f"/actions/runs/{run_id}"
        return _run(self.repo_read(repo, sub, "read workflow runs", missing).data)

    def run_approvals(self, repo: str, run_id: int) -> list[dict[str, Any]] | None:
        """Environment reviews of run `run_id` of `repo` ("owner/name" or a name under the
        owner), as GitHub returns them; None when GitHub knows no such run."""
        full = repo if "/" in repo else f"{self.owner}/{repo}"
        path = f"/repos/{seg(full)}/actions/runs/{run_id}/approvals"
        call = Call("GET", path, "read actions (actions:read)", repo=repo, expect=(404,))
        answer = self._api.call(call)
        return None if answer.status == 404 else list(answer.data or [])


def _release(data: Any) -> ReleaseInfo:
    return ReleaseInfo(int(data["id"]), str(data["html_url"]), bool(data["draft"]))


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
