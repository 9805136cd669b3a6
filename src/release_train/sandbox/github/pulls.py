"""Pull requests: list, create, get, update, and merges that really write the merge commit."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from release_train.sandbox.github import access, ci, queue
from release_train.sandbox.github.api import (
    ApiError,
    Reply,
    Request,
    not_found,
    paginate,
    route,
    validation_failed,
)
from release_train.sandbox.github.bare import BareRepo
from release_train.sandbox.github.merges import merge_commit, record_merge
from release_train.sandbox.github.model import PullRecord, RepoRecord
from release_train.sandbox.github.shapes import JSON, full_repo, iso, node_id, user

if TYPE_CHECKING:
    from release_train.sandbox.github.forge import Forge

MERGE_METHODS = ("merge", "squash", "rebase")
# GitHub's answer to a REST merge into a branch whose ruleset requires a merge queue (405).
QUEUE_REQUIRED = "Repository rule violations found\n\nChanges must be made through the merge queue"


def _side(forge: Forge, record: RepoRecord, ref: str, sha: str, pushed: float) -> JSON:
    bare = forge.repos[record.name]
    return {
        "label": f"{forge.owner}:{ref}",
        "ref": ref,
        "sha": sha,
        "user": user(forge.urls, forge.owner, "Organization"),
        "repo": full_repo(forge.urls, record, forge.default_branch(bare), pushed),
    }


def pull_json(forge: Forge, pr: PullRecord, *, full: bool) -> JSON:
    """The `pull-request-simple` shape, or with `full` the `pull-request` one (stats, merge)."""
    record = forge.store.state.repos[pr.repo]
    bare = forge.repos[pr.repo]
    api = f"{forge.urls.repo(pr.repo)}/pulls/{pr.number}"
    issue = f"{forge.urls.repo(pr.repo)}/issues/{pr.number}"
    html = f"{forge.urls.html(pr.repo)}/pull/{pr.number}"
    statuses = f"{forge.urls.repo(pr.repo)}/statuses/{pr.head_sha}"
    base_sha = bare.resolve(f"refs/heads/{pr.base_ref}") or pr.head_sha
    shape: JSON = {
        "url": api,
        "id": pr.id,
        "node_id": node_id("PR", pr.id),
        "html_url": html,
        "diff_url": f"{html}.diff",
        "patch_url": f"{html}.patch",
        "issue_url": issue,
        "commits_url": f"{api}/commits",
        "review_comments_url": f"{api}/comments",
        "review_comment_url": f"{forge.urls.repo(pr.repo)}/pulls/comments{{/number}}",
        "comments_url": f"{issue}/comments",
        "statuses_url": statuses,
        "number": pr.number,
        "state": pr.state,
        "locked": False,
        "title": pr.title,
        "user": user(forge.urls, pr.user),
        "body": pr.body,
        "labels": [],
        "milestone": None,
        "active_lock_reason": None,
        "created_at": iso(pr.created_at),
        "updated_at": iso(pr.updated_at),
        "closed_at": iso(pr.closed_at),
        "merged_at": iso(pr.merged_at),
        "merge_commit_sha": pr.merge_commit_sha,
        "assignee": None,
        "assignees": [],
        "requested_reviewers": [],
        "requested_teams": [],
        "head": _side(forge, record, pr.head_ref, pr.head_sha, pr.updated_at),
        "base": _side(forge, record, pr.base_ref, base_sha, pr.updated_at),
        "_links": {
            name: {"href": href}
            for name, href in (
                ("self", api),
                ("html", html),
                ("issue", issue),
                ("comments", f"{issue}/comments"),
                ("review_comments", f"{api}/comments"),
                ("review_comment", f"{forge.urls.repo(pr.repo)}/pulls/comments{{/number}}"),
                ("commits", f"{api}/commits"),
                ("statuses", statuses),
            )
        },
        "author_association": "MEMBER",
        "auto_merge": None,
        "draft": pr.draft,
    }
    if full:
        shape.update(_details(forge, record, bare, pr, base_sha))
    return shape


def _details(
    forge: Forge, record: RepoRecord, bare: BareRepo, pr: PullRecord, base_sha: str
) -> JSON:
    base_for_stats = f"{pr.merge_commit_sha}^1" if pr.merged and pr.merge_commit_sha else base_sha
    adds, dels, files = bare.diff_stats(base_for_stats, pr.head_sha)
    mergeable: bool | None = None
    state = "unknown"
    if pr.state == "open":
        mergeable = bare.merge_tree(base_sha, pr.head_sha) is not None
        state = _mergeable_state(forge, record, pr, mergeable)
    return {
        "merged": pr.merged,
        "mergeable": mergeable,
        "rebaseable": False,
        "mergeable_state": state,
        "merged_by": user(forge.urls, pr.merged_by) if pr.merged_by else None,
        "comments": 0,
        "review_comments": 0,
        "maintainer_can_modify": False,
        "commits": bare.count_commits(base_for_stats, pr.head_sha),
        "additions": adds,
        "deletions": dels,
        "changed_files": files,
    }


def _mergeable_state(forge: Forge, record: RepoRecord, pr: PullRecord, mergeable: bool) -> str:
    if not mergeable:
        return "dirty"
    required = ci.required_contexts(record.ci)
    if required and ci.required_state(forge, pr.repo, pr.head_sha, required)[0] != "success":
        return "blocked"
    conclusions = {v.conclusion for v in ci.newest_runs(ci.views(forge, pr.repo, pr.head_sha))}
    if conclusions - {"success", None}:
        return "unstable"
    return "clean"


def _pull(forge: Forge, req: Request) -> PullRecord:
    record, _ = forge.repo(req.params["owner"], req.params["repo"])
    number = req.params["pull_number"]
    pr = forge.store.pull(record.name, int(number)) if number.isdigit() else None
    if pr is None:
        raise not_found()
    return pr


def list_pulls(forge: Forge, req: Request) -> Reply:
    record, _ = forge.repo(req.params["owner"], req.params["repo"])
    state = req.query.get("state", "open")
    head = req.query.get("head")
    head_owner, _, head_ref = head.rpartition(":") if head else ("", "", "")
    base = req.query.get("base")
    with forge.store.lock:
        pulls = [p.model_copy() for p in forge.store.state.pulls if p.repo == record.name]
    selected = [
        p
        for p in pulls
        if state in ("all", p.state)
        and (
            not head or (p.head_ref == head_ref and head_owner.lower() in ("", forge.owner.lower()))
        )
        and (not base or p.base_ref == base)
    ]
    descending = req.query.get("direction", "desc") == "desc"
    selected.sort(key=lambda p: p.number, reverse=descending)
    items: list[Any] = [pull_json(forge, p, full=False) for p in selected]
    return paginate(req, items, f"{forge.urls.repo(record.name)}/pulls")


def create_pull(forge: Forge, req: Request) -> Reply:
    record, bare = forge.repo(req.params["owner"], req.params["repo"])
    title = req.json_field("title")
    if not title:
        raise validation_failed("PullRequest", "missing_field", field="title")
    head = str(req.require("head")).rpartition(":")[2]
    base = str(req.require("base"))
    head_sha = bare.resolve(f"refs/heads/{head}")
    base_sha = bare.resolve(f"refs/heads/{base}")
    if base_sha is None:
        raise validation_failed("PullRequest", "invalid", field="base")
    if head_sha is None:
        raise validation_failed("PullRequest", "invalid", field="head")
    with forge.store.lock:
        if any(
            p.repo == record.name
            and p.state == "open"
            and p.head_ref == head
            and p.base_ref == base
            for p in forge.store.state.pulls
        ):
            message = f"A pull request already exists for {forge.owner}:{head}."
            raise validation_failed("PullRequest", "custom", message=message)
        if bare.is_ancestor(head_sha, base_sha):
            raise validation_failed(
                "PullRequest", "custom", message=f"No commits between {base} and {head}"
            )
        now = time.time()
        pr = PullRecord(
            repo=record.name,
            number=forge.store.next_number(record.name),
            id=forge.store.next_id(),
            title=str(title),
            body=_checked_body(req),
            user=req.token.login,
            head_ref=head,
            head_sha=head_sha,
            base_ref=base,
            draft=bool(req.json_field("draft", False)),
            created_at=now,
            updated_at=now,
        )
        forge.store.state.pulls.append(pr)
    if req.token.triggers_workflows:  # a PR opened with GITHUB_TOKEN runs no workflows
        ci.start(forge, record.name, head_sha)
    return Reply(201, pull_json(forge, pr, full=True))


# GitHub refuses a PR (issue) body longer than this with 422 "body is too long".
MAX_BODY = 65_536


def _checked_body(req: Request) -> str | None:
    body = req.json_field("body")
    if body is not None and len(str(body)) > MAX_BODY:
        raise validation_failed(
            "Issue",
            "custom",
            field="body",
            message=f"body is too long (maximum is {MAX_BODY} characters)",
        )
    return None if body is None else str(body)


def get_pull(forge: Forge, req: Request) -> Reply:
    return Reply(200, pull_json(forge, _pull(forge, req), full=True))


def update_pull(forge: Forge, req: Request) -> Reply:
    pr = _pull(forge, req)
    bare = forge.repos[pr.repo]
    _checked_body(req)
    with forge.store.lock:
        for name in ("title", "body"):
            if req.json_field(name) is not None:
                setattr(pr, name, str(req.json_field(name)))
        base = req.json_field("base")
        if base is not None:
            if bare.resolve(f"refs/heads/{base}") is None:
                raise validation_failed("PullRequest", "invalid", field="base")
            pr.base_ref = str(base)
        state = req.json_field("state")
        reopened = False
        if state == "closed" and pr.state == "open":
            pr.state, pr.closed_at = "closed", time.time()
            entry = queue.entry_of(forge, pr.repo, pr.number)
            if entry is not None:
                queue.remove(forge, entry, queue.CLOSED, req.token.login)
        elif state == "open" and pr.state == "closed" and not pr.merged:
            pr.state, pr.closed_at, reopened = "open", None, True
            pr.head_sha = bare.resolve(f"refs/heads/{pr.head_ref}") or pr.head_sha
        elif state not in (None, "open", "closed"):
            raise validation_failed("PullRequest", "invalid", field="state")
        pr.updated_at = time.time()
    # CI reruns on `reopened` (like `opened` and `synchronize`), not on an edited title.
    if reopened and req.token.triggers_workflows:
        ci.start(forge, pr.repo, pr.head_sha)
    return Reply(200, pull_json(forge, pr, full=True))


def check_merged(forge: Forge, req: Request) -> Reply:
    if not _pull(forge, req).merged:
        raise not_found()
    return Reply(204)


ROUTES_HEAD = [
    route("GET", "/repos/{owner}/{repo}/pulls", list_pulls),
    route("POST", "/repos/{owner}/{repo}/pulls", create_pull),
    route("GET", "/repos/{owner}/{repo}/pulls/{pull_number}", get_pull),
    route("PATCH", "/repos/{owner}/{repo}/pulls/{pull_number}", update_pull),
    route("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/merge", check_merged),
]


def merge_pull(forge: Forge, req: Request) -> Reply:
    """`PUT .../merge`: 405 if not mergeable, 409 if `sha` is not the head, else a real commit."""
    pr = _pull(forge, req)
    record = forge.store.state.repos[pr.repo]
    bare = forge.repos[pr.repo]
    method = req.json_field("merge_method", "merge")
    if method not in MERGE_METHODS:
        raise validation_failed("PullRequest", "invalid", field="merge_method")
    with forge.watching(pr.repo, req.token):
        if pr.state != "open":
            raise ApiError(405, "Pull Request is not mergeable")
        rules = access.stored_rules(forge, pr.repo, pr.base_ref)
        if any(rule["type"] == "merge_queue" for rule in rules):
            raise ApiError(405, QUEUE_REQUIRED)
        head = bare.resolve(f"refs/heads/{pr.head_ref}") or pr.head_sha
        expected = req.json_field("sha")
        if expected is not None and expected != head:
            raise ApiError(409, "Head branch was modified. Review and try the merge again.")
        if method == "rebase":
            raise ApiError(405, "Rebase merges are not allowed on this repository.")
        required = ci.required_contexts(record.ci)
        if required:
            state, context = ci.required_state(forge, pr.repo, head, required)
            if state != "success":
                verb = "is expected" if state == "pending" else "is failing"
                raise ApiError(405, f'Required status check "{context}" {verb}.')
        sha = _write_merge(forge, req, pr, bare, head=head, method=method)
    return Reply(200, {"sha": sha, "merged": True, "message": "Pull Request successfully merged"})


def _write_merge(
    forge: Forge, req: Request, pr: PullRecord, bare: BareRepo, *, head: str, method: str
) -> str:
    base_ref = f"refs/heads/{pr.base_ref}"
    base = bare.resolve(base_ref)
    title, body = req.json_field("commit_title"), req.json_field("commit_message")
    sha = merge_commit(
        forge, pr, bare, base, head, method=method, login=req.token.login, title=title, body=body
    )
    if base is None or sha is None:
        raise ApiError(405, "Merge conflict")
    if not bare.update_ref(base_ref, sha, base):
        raise ApiError(409, "Base branch was modified. Review and try the merge again.")
    record_merge(forge, pr, req.token.login, method, base=base, head=head, sha=sha)
    return sha


ROUTES = [*ROUTES_HEAD, route("PUT", "/repos/{owner}/{repo}/pulls/{pull_number}/merge", merge_pull)]
