"""Repository endpoints: the repo, branches, commits, and contents with the sha compare-and-swap."""

from __future__ import annotations

import base64
import binascii
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from release_train.adapters.git import git
from release_train.sandbox.github import access
from release_train.sandbox.github.api import ApiError, Reply, Request, not_found, paginate, route
from release_train.sandbox.github.bare import BOT_EMAIL, BOT_NAME, BareRepo, Person, TreeEntry
from release_train.sandbox.github.shapes import JSON, full_repo, git_commit, rest_commit

if TYPE_CHECKING:
    from release_train.sandbox.github.forge import Forge


def get_repo(forge: Forge, req: Request) -> Reply:
    record, bare = forge.repo(req.params["owner"], req.params["repo"])
    pushed = bare.path.stat().st_mtime
    shape = full_repo(forge.urls, record, forge.default_branch(bare), pushed)
    shape["permissions"] = access.permissions(req.token)  # what this token may do
    return Reply(200, shape)


def _branch_json(forge: Forge, repo: str, bare: BareRepo, name: str, sha: str) -> JSON:
    return {
        "name": name,
        "commit": rest_commit(forge.urls, repo, bare.commit(sha)),
        "_links": {
            "self": f"{forge.urls.repo(repo)}/branches/{name}",
            "html": f"{forge.urls.html(repo)}/tree/{name}",
        },
        "protected": False,
        "protection": {
            "enabled": False,
            "required_status_checks": {"enforcement_level": "off", "contexts": [], "checks": []},
        },
        "protection_url": f"{forge.urls.repo(repo)}/branches/{name}/protection",
    }


def get_branch(forge: Forge, req: Request) -> Reply:
    record, bare = forge.repo(req.params["owner"], req.params["repo"])
    name = req.params["branch"]
    sha = bare.refs().get(f"refs/heads/{name}")
    if sha is None:
        raise ApiError(404, "Branch not found")
    return Reply(200, _branch_json(forge, record.name, bare, name, sha))


def list_branches(forge: Forge, req: Request) -> Reply:
    record, bare = forge.repo(req.params["owner"], req.params["repo"])
    api = forge.urls.repo(record.name)
    items: list[Any] = [
        {
            "name": ref.removeprefix("refs/heads/"),
            "commit": {"sha": sha, "url": f"{api}/commits/{sha}"},
            "protected": False,
        }
        for ref, sha in bare.refs().items()
        if ref.startswith("refs/heads/")
    ]
    return paginate(req, items, f"{api}/branches")


def get_commit(forge: Forge, req: Request) -> Reply:
    record, bare = forge.repo(req.params["owner"], req.params["repo"])
    sha = bare.resolve(req.params["ref"])
    if sha is None:
        raise ApiError(422, f"No commit found for SHA: {req.params['ref']}")
    shape = rest_commit(forge.urls, record.name, bare.commit(sha))
    shape["stats"] = {"total": 0, "additions": 0, "deletions": 0}
    shape["files"] = []
    return Reply(200, shape)


MAX_COMPARE_COMMITS = 250  # GitHub lists at most 250 commits of a comparison


def compare(forge: Forge, req: Request) -> Reply:
    """`GET .../compare/{base}...{head}`: commits of head not in base, oldest first."""
    record, bare = forge.repo(req.params["owner"], req.params["repo"])
    base_ref, dots, head_ref = req.params["basehead"].partition("...")
    base, head = bare.resolve(base_ref), bare.resolve(head_ref)
    if not dots or base is None or head is None:
        raise not_found()
    merge_base = git(bare.path, "merge-base", base, head, check=False).strip()
    if not merge_base:
        raise ApiError(404, f"No common ancestor between {base_ref} and {head_ref}.")
    ahead, behind = bare.count_commits(merge_base, head), bare.count_commits(merge_base, base)
    status = "diverged" if ahead and behind else "ahead" if ahead else "behind"
    if not ahead and not behind:
        status = "identical"
    listed = bare.git("rev-list", "--reverse", f"{merge_base}..{head}").split()
    urls, repo = forge.urls, record.name
    html = f"{urls.html(repo)}/compare/{req.params['basehead']}"
    body = {
        "url": f"{urls.repo(repo)}/compare/{req.params['basehead']}",
        "html_url": html,
        "permalink_url": f"{urls.html(repo)}/compare/{base}...{head}",
        "diff_url": f"{html}.diff",
        "patch_url": f"{html}.patch",
        "base_commit": rest_commit(urls, repo, bare.commit(base)),
        "merge_base_commit": rest_commit(urls, repo, bare.commit(merge_base)),
        "status": status,
        "ahead_by": ahead,
        "behind_by": behind,
        "total_commits": ahead,
        "commits": [
            rest_commit(urls, repo, bare.commit(sha)) for sha in listed[:MAX_COMPARE_COMMITS]
        ],
        "files": [],
    }
    return Reply(200, body)


def _content_json(forge: Forge, repo: str, ref: str, entry: TreeEntry) -> JSON:
    api = forge.urls.repo(repo)
    kind = {"blob": "file", "tree": "dir", "commit": "submodule"}[entry.kind]
    if entry.mode == "120000":
        kind = "symlink"
    path = quote(entry.path)
    url = f"{api}/contents/{path}?ref={quote(ref, safe='')}"
    plural = "trees" if entry.kind == "tree" else "blobs"
    git_url = f"{api}/git/{plural}/{entry.sha}"
    html_url = f"{forge.urls.html(repo)}/{'tree' if kind == 'dir' else 'blob'}/{ref}/{path}"
    return {
        "type": kind,
        "size": entry.size,
        "name": entry.path.rsplit("/", 1)[-1],
        "path": entry.path,
        "sha": entry.sha,
        "url": url,
        "git_url": git_url,
        "html_url": html_url,
        "download_url": f"{forge.urls.web}/raw/{forge.owner}/{repo}/{ref}/{path}"
        if kind == "file"
        else None,
        "_links": {"self": url, "git": git_url, "html": html_url},
    }


def _encode(text: str) -> str:
    """Base64 in 60-column lines with a trailing newline, as the contents API sends it."""
    raw = base64.b64encode(text.encode()).decode()
    return "".join(raw[i : i + 60] + "\n" for i in range(0, len(raw), 60))


def get_contents(forge: Forge, req: Request) -> Reply:
    record, bare = forge.repo(req.params["owner"], req.params["repo"])
    ref = req.query.get("ref") or forge.default_branch(bare)
    commit = bare.resolve(ref)
    if commit is None:
        raise ApiError(404, f"No commit found for the ref {ref}")
    path = req.params.get("path", "").strip("/")
    entry = bare.entry(commit, path)
    if entry is None:
        raise not_found()
    if entry.kind == "tree":
        listing = [_content_json(forge, record.name, ref, e) for e in bare.list_tree(commit, path)]
        return Reply(200, listing)
    shape = _content_json(forge, record.name, ref, entry)
    if shape["type"] == "file":
        try:
            shape["content"] = _encode(bare.blob_text(entry.sha))
        except UnicodeDecodeError as exc:  # the stand-in serves text files only
            raise ApiError(415, "This stand-in serves text files only") from exc
        shape["encoding"] = "base64"
    return Reply(200, shape)


def put_contents(forge: Forge, req: Request) -> Reply:
    """Create or update a file: a real commit on `branch`, guarded by the blob `sha` (409)."""
    record, bare = forge.repo(req.params["owner"], req.params["repo"])
    path = req.params["path"].strip("/")
    message = str(req.require("message"))
    try:
        content = base64.b64decode(str(req.require("content")), validate=False)
    except binascii.Error as exc:
        raise ApiError(422, "content is not valid Base64") from exc
    branch = str(req.json_field("branch") or forge.default_branch(bare))
    with forge.watching(record.name, req.token):
        tip = bare.resolve(f"refs/heads/{branch}")
        if tip is None:
            raise ApiError(404, f"Branch {branch} not found")
        current = bare.entry(tip, path)
        given = req.json_field("sha")
        if current is not None and given is None:
            raise ApiError(422, 'Invalid request.\n\n"sha" wasn\'t supplied.')
        if current is not None and given != current.sha:
            raise ApiError(409, f"{path} does not match {given}")
        commit_sha = _commit_file(
            req,
            bare,
            tip=tip,
            path=path,
            content=content,
            message=message,
            ref=f"refs/heads/{branch}",
        )
    entry = bare.entry(commit_sha, path)
    assert entry is not None  # noqa: S101 - we just wrote it
    body = {
        "content": _content_json(forge, record.name, branch, entry),
        "commit": git_commit(forge.urls, record.name, bare.commit(commit_sha)),
    }
    return Reply(201 if current is None else 200, body)


def _commit_file(
    req: Request, bare: BareRepo, *, tip: str, path: str, content: bytes, message: str, ref: str
) -> str:
    now = int(time.time())
    login = req.token.login
    given_author = req.json_field("author") or req.json_field("committer") or {}
    author = Person(
        str(given_author.get("name") or login),
        str(given_author.get("email") or f"{login}@users.noreply.github.com"),
        now,
    )
    committer = Person(BOT_NAME, BOT_EMAIL, now)
    tree = bare.write_file(tip, path, content)
    sha = bare.commit_tree(tree, [tip], message, author, committer)
    if not bare.update_ref(ref, sha, tip):
        raise ApiError(409, f"{ref} is at a newer commit than {tip}")
    return sha


ROUTES = [
    route("GET", "/repos/{owner}/{repo}", get_repo),
    route("GET", "/repos/{owner}/{repo}/branches", list_branches),
    route("GET", "/repos/{owner}/{repo}/branches/{branch+}", get_branch),
    route("GET", "/repos/{owner}/{repo}/commits/{ref+}", get_commit),
    route("GET", "/repos/{owner}/{repo}/compare/{basehead+}", compare),
    route("GET", "/repos/{owner}/{repo}/contents", get_contents),
    route("GET", "/repos/{owner}/{repo}/contents/", get_contents),
    route("GET", "/repos/{owner}/{repo}/contents/{path+}", get_contents),
    route("PUT", "/repos/{owner}/{repo}/contents/{path+}", put_contents),
]
