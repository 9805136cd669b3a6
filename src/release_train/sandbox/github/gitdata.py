"""The Git database API: refs (with GitHub's 422s), annotated tag objects and commits."""

from __future__ import annotations

import re
import time
from datetime import datetime
from typing import TYPE_CHECKING, Any

from release_train.sandbox.github.api import ApiError, Reply, Request, not_found, paginate, route
from release_train.sandbox.github.bare import BareRepo, Person
from release_train.sandbox.github.shapes import JSON, git_commit, git_person, node_id

if TYPE_CHECKING:
    from release_train.sandbox.github.forge import Forge

_SHA = re.compile(r"^[0-9a-f]{40}$")


def ref_json(forge: Forge, repo: str, ref: str, sha: str, kind: str) -> JSON:
    api = forge.urls.repo(repo)
    plural = {"commit": "commits", "tag": "tags", "tree": "trees", "blob": "blobs"}[kind]
    return {
        "ref": ref,
        "node_id": node_id("REF", f"{repo}:{ref}"),
        "url": f"{api}/git/{ref}",
        "object": {"sha": sha, "type": kind, "url": f"{api}/git/{plural}/{sha}"},
    }


def _ref_list(forge: Forge, repo: str, bare: BareRepo, prefix: str) -> list[JSON]:
    refs = bare.refs()
    names = [name for name in refs if name.startswith(prefix)]
    return [ref_json(forge, repo, n, refs[n], bare.object_type(refs[n]) or "commit") for n in names]


def get_ref(forge: Forge, req: Request) -> Reply:
    record, bare = forge.repo(req.params["owner"], req.params["repo"])
    name = "refs/" + req.params["ref"]
    sha = bare.refs().get(name)
    if sha is None:
        raise not_found()
    return Reply(200, ref_json(forge, record.name, name, sha, bare.object_type(sha) or "commit"))


def legacy_refs(forge: Forge, req: Request) -> Reply:
    """`GET .../git/refs/{ref}`: one ref when the name is exact, else the refs it prefixes."""
    record, bare = forge.repo(req.params["owner"], req.params["repo"])
    name = "refs/" + req.params["ref"]
    exact = bare.refs().get(name)
    if exact is not None:
        return Reply(
            200, ref_json(forge, record.name, name, exact, bare.object_type(exact) or "commit")
        )
    found = _ref_list(forge, record.name, bare, name)
    if not found:
        raise not_found()
    return Reply(200, found)


def matching_refs(forge: Forge, req: Request) -> Reply:
    record, bare = forge.repo(req.params["owner"], req.params["repo"])
    items: list[Any] = _ref_list(forge, record.name, bare, "refs/" + req.params["ref"])
    return Reply(200, items)


def list_refs(forge: Forge, req: Request) -> Reply:
    record, bare = forge.repo(req.params["owner"], req.params["repo"])
    items: list[Any] = _ref_list(forge, record.name, bare, "refs/")
    return paginate(req, items, f"{forge.urls.repo(record.name)}/git/refs")


def create_ref(forge: Forge, req: Request) -> Reply:
    record, bare = forge.repo(req.params["owner"], req.params["repo"])
    name = str(req.require("ref"))
    sha = str(req.require("sha"))
    if not name.startswith("refs/") or name.count("/") < 2:
        raise ApiError(422, "Reference name must start with 'refs/' and have at least two slashes.")
    kind = bare.object_type(sha) if _SHA.match(sha) else None
    if kind is None:
        raise ApiError(422, "Object does not exist")
    with forge.watching(record.name, req.token):
        if not bare.update_ref(name, sha, None):
            raise ApiError(422, "Reference already exists")
    return Reply(201, ref_json(forge, record.name, name, sha, kind))


def update_ref(forge: Forge, req: Request) -> Reply:
    record, bare = forge.repo(req.params["owner"], req.params["repo"])
    name = "refs/" + req.params["ref"]
    sha = str(req.require("sha"))
    kind = bare.object_type(sha) if _SHA.match(sha) else None
    if kind is None:
        raise ApiError(422, "Object does not exist")
    with forge.watching(record.name, req.token):
        old = bare.refs().get(name)
        if old is None:
            raise ApiError(422, "Reference does not exist")
        force = bool(req.json_field("force", False))
        if not force and kind == "commit" and not bare.is_ancestor(old, sha):
            raise ApiError(422, "Update is not a fast forward")
        if not bare.update_ref(name, sha, old):
            raise ApiError(409, "Reference cannot be updated")
    return Reply(200, ref_json(forge, record.name, name, sha, kind))


def delete_ref(forge: Forge, req: Request) -> Reply:
    record, bare = forge.repo(req.params["owner"], req.params["repo"])
    name = "refs/" + req.params["ref"]
    with forge.watching(record.name, req.token):
        old = bare.refs().get(name)
        if old is None or not bare.delete_ref(name, old):
            raise ApiError(422, "Reference does not exist")
    return Reply(204)


def tag_json(forge: Forge, repo: str, bare: BareRepo, sha: str) -> JSON:
    info = bare.tag(sha)
    api = forge.urls.repo(repo)
    plural = {"commit": "commits", "tag": "tags", "tree": "trees", "blob": "blobs"}[
        info.object_type
    ]
    return {
        "node_id": node_id("TAG", sha),
        "sha": sha,
        "url": f"{api}/git/tags/{sha}",
        "tag": info.name,
        "message": info.message,
        "tagger": git_person(info.tagger),
        "object": {
            "sha": info.object_sha,
            "type": info.object_type,
            "url": f"{api}/git/{plural}/{info.object_sha}",
        },
        "verification": {
            "verified": False,
            "reason": "unsigned",
            "signature": None,
            "payload": None,
            "verified_at": None,
        },
    }


def create_tag(forge: Forge, req: Request) -> Reply:
    """Writes the tag object only; like GitHub, a ref must still be created for it."""
    record, bare = forge.repo(req.params["owner"], req.params["repo"])
    name = str(req.require("tag"))
    message = str(req.require("message"))
    target = str(req.require("object"))
    kind = str(req.json_field("type", "commit"))
    actual = bare.object_type(target) if _SHA.match(target) else None
    if actual is None or actual != kind:
        raise ApiError(422, "Object does not exist")
    given = req.json_field("tagger") or {}
    login = req.token.login
    tagger = Person(
        str(given.get("name") or login),
        str(given.get("email") or f"{login}@users.noreply.github.com"),
        _epoch(given.get("date")),
    )
    sha = bare.make_tag(name, message, target, kind, tagger)
    return Reply(201, tag_json(forge, record.name, bare, sha))


def _epoch(date: object) -> int:
    if isinstance(date, str) and date:
        try:
            return int(datetime.fromisoformat(date).timestamp())
        except ValueError as exc:
            raise ApiError(422, f"Invalid request.\n\n{date} is not a valid date-time.") from exc
    return int(time.time())


def get_tag(forge: Forge, req: Request) -> Reply:
    record, bare = forge.repo(req.params["owner"], req.params["repo"])
    sha = req.params["tag_sha"]
    if not _SHA.match(sha) or bare.object_type(sha) != "tag":
        raise not_found()
    return Reply(200, tag_json(forge, record.name, bare, sha))


def get_git_commit(forge: Forge, req: Request) -> Reply:
    record, bare = forge.repo(req.params["owner"], req.params["repo"])
    sha = req.params["commit_sha"]
    if not _SHA.match(sha) or bare.object_type(sha) != "commit":
        raise not_found()
    return Reply(200, git_commit(forge.urls, record.name, bare.commit(sha)))


ROUTES = [
    route("GET", "/repos/{owner}/{repo}/git/ref/{ref+}", get_ref),
    route("GET", "/repos/{owner}/{repo}/git/matching-refs/{ref+}", matching_refs),
    route("GET", "/repos/{owner}/{repo}/git/refs", list_refs),
    route("GET", "/repos/{owner}/{repo}/git/refs/{ref+}", legacy_refs),
    route("POST", "/repos/{owner}/{repo}/git/refs", create_ref),
    route("PATCH", "/repos/{owner}/{repo}/git/refs/{ref+}", update_ref),
    route("DELETE", "/repos/{owner}/{repo}/git/refs/{ref+}", delete_ref),
    route("POST", "/repos/{owner}/{repo}/git/tags", create_tag),
    route("GET", "/repos/{owner}/{repo}/git/tags/{tag_sha}", get_tag),
    route("GET", "/repos/{owner}/{repo}/git/commits/{commit_sha}", get_git_commit),
]
