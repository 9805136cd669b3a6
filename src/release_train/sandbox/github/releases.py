"""Releases: create (drafts too), publish and edit, get by tag or id, list.

As on GitHub, a draft has no tag until it is published (publishing tags the target when
the tag is new), several drafts may name one tag, the by-tag lookup answers only
published releases, and the list shows drafts to those who can push (every token here).
A published release is immutable (GitHub's immutable releases): it cannot go back to a
draft nor change its tag.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from release_train.sandbox.github.api import (
    Reply,
    Request,
    not_found,
    paginate,
    route,
    validation_failed,
)
from release_train.sandbox.github.model import ReleaseRecord
from release_train.sandbox.github.shapes import JSON, iso, node_id, user

if TYPE_CHECKING:
    from release_train.sandbox.github.bare import BareRepo
    from release_train.sandbox.github.forge import Forge


def release_json(forge: Forge, release: ReleaseRecord) -> JSON:
    api = f"{forge.urls.repo(release.repo)}/releases/{release.id}"
    # A draft's page is not at its tag, which it does not have yet.
    name = f"untagged-{release.id:020x}" if release.draft else release.tag_name
    html = f"{forge.urls.html(release.repo)}/releases/tag/{name}"
    uploads = (
        f"{forge.urls.web}/api/uploads/repos/{forge.owner}/{release.repo}/releases/{release.id}"
    )
    return {
        "url": api,
        "html_url": html,
        "assets_url": f"{api}/assets",
        "upload_url": uploads + "/assets{?name,label}",
        "tarball_url": f"{forge.urls.repo(release.repo)}/tarball/{release.tag_name}",
        "zipball_url": f"{forge.urls.repo(release.repo)}/zipball/{release.tag_name}",
        "id": release.id,
        "node_id": node_id("RE", release.id),
        "tag_name": release.tag_name,
        "target_commitish": release.target_commitish,
        "name": release.name,
        "body": release.body,
        "draft": release.draft,
        "prerelease": release.prerelease,
        "immutable": not release.draft,
        "created_at": iso(release.created_at),
        "published_at": iso(release.published_at),
        "author": user(forge.urls, release.author),
        "assets": [],
    }


def create_release(forge: Forge, req: Request) -> Reply:
    record, bare = forge.repo(req.params["owner"], req.params["repo"])
    tag = str(req.require("tag_name"))
    target = str(req.json_field("target_commitish") or forge.default_branch(bare))
    draft = bool(req.json_field("draft", False))
    if not draft:
        _refuse_published_twice(forge, record.name, tag)
        _tag_target(forge, req, record.name, bare, tag=tag, target=target)
    now = time.time()
    release = ReleaseRecord(
        id=forge.store.next_id(),
        repo=record.name,
        tag_name=tag,
        target_commitish=target,
        name=req.json_field("name"),
        body=req.json_field("body"),
        draft=draft,
        prerelease=bool(req.json_field("prerelease", False)),
        author=req.token.login,
        created_at=now,
        published_at=None if draft else now,
    )
    with forge.store.lock:
        forge.store.state.releases.append(release)
    return Reply(201, release_json(forge, release))


def _refuse_published_twice(forge: Forge, repo: str, tag: str) -> None:
    with forge.store.lock:
        releases = forge.store.state.releases
        if any(r.repo == repo and r.tag_name == tag and not r.draft for r in releases):
            raise validation_failed("Release", "already_exists", field="tag_name")


def _tag_target(
    forge: Forge, req: Request, repo: str, bare: BareRepo, *, tag: str, target: str
) -> None:
    """GitHub tags the target itself (a lightweight tag) when the tag is new, which starts
    tag workflows."""
    if bare.resolve(f"refs/tags/{tag}", "object") is not None:
        return
    sha = bare.resolve(target)
    if sha is None:
        raise validation_failed("Release", "invalid", field="target_commitish")
    with forge.watching(repo, req.token):
        bare.update_ref(f"refs/tags/{tag}", sha, None)


def update_release(forge: Forge, req: Request) -> Reply:
    """Edit a release; `draft: false` publishes a draft, tagging its target if need be."""
    record, bare = forge.repo(req.params["owner"], req.params["repo"])
    release = _by_id(forge, req)
    tag = str(req.json_field("tag_name") or release.tag_name)
    draft = bool(req.json_field("draft", release.draft))
    if not release.draft and (draft or tag != release.tag_name):
        raise validation_failed("Release", "immutable", field="draft" if draft else "tag_name")
    target = str(req.json_field("target_commitish") or release.target_commitish)
    if release.draft and not draft:
        _refuse_published_twice(forge, record.name, tag)
        _tag_target(forge, req, record.name, bare, tag=tag, target=target)
    changes: dict[str, Any] = {"tag_name": tag, "target_commitish": target, "draft": draft}
    for name in ("name", "body", "prerelease"):
        if isinstance(req.body, dict) and name in req.body:
            changes[name] = req.body[name]
    if release.draft and not draft:
        changes["published_at"] = time.time()
    with forge.store.lock:
        stored = next(r for r in forge.store.state.releases if r.id == release.id)
        for name, value in changes.items():
            setattr(stored, name, value)
        updated = stored.model_copy()
    return Reply(200, release_json(forge, updated))


def _by_id(forge: Forge, req: Request) -> ReleaseRecord:
    for release in _releases(forge, req):
        if str(release.id) == req.params["release_id"]:
            return release
    raise not_found()


def _releases(forge: Forge, req: Request) -> list[ReleaseRecord]:
    record, _ = forge.repo(req.params["owner"], req.params["repo"])
    with forge.store.lock:
        found = [r.model_copy() for r in forge.store.state.releases if r.repo == record.name]
    return sorted(found, key=lambda r: -r.id)


def get_release_by_tag(forge: Forge, req: Request) -> Reply:
    for release in _releases(forge, req):
        if release.tag_name == req.params["tag"] and not release.draft:
            return Reply(200, release_json(forge, release))
    raise not_found()


def get_release(forge: Forge, req: Request) -> Reply:
    return Reply(200, release_json(forge, _by_id(forge, req)))


def latest_release(forge: Forge, req: Request) -> Reply:
    for release in _releases(forge, req):
        if not release.draft and not release.prerelease:
            return Reply(200, release_json(forge, release))
    raise not_found()


def list_releases(forge: Forge, req: Request) -> Reply:
    record, _ = forge.repo(req.params["owner"], req.params["repo"])
    items: list[Any] = [release_json(forge, r) for r in _releases(forge, req)]
    return paginate(req, items, f"{forge.urls.repo(record.name)}/releases")


ROUTES = [
    route("GET", "/repos/{owner}/{repo}/releases", list_releases),
    route("POST", "/repos/{owner}/{repo}/releases", create_release),
    route("GET", "/repos/{owner}/{repo}/releases/latest", latest_release),
    route("GET", "/repos/{owner}/{repo}/releases/tags/{tag+}", get_release_by_tag),
    route("GET", "/repos/{owner}/{repo}/releases/{release_id}", get_release),
    route("PATCH", "/repos/{owner}/{repo}/releases/{release_id}", update_release),
]
