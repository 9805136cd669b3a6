"""Releases: create (tagging the target when the tag is new), get by tag or id, list."""

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
    from release_train.sandbox.github.forge import Forge


def release_json(forge: Forge, release: ReleaseRecord) -> JSON:
    api = f"{forge.urls.repo(release.repo)}/releases/{release.id}"
    html = f"{forge.urls.html(release.repo)}/releases/tag/{release.tag_name}"
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
        "immutable": False,
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
    with forge.store.lock:
        if any(r.repo == record.name and r.tag_name == tag for r in forge.store.state.releases):
            raise validation_failed("Release", "already_exists", field="tag_name")
    if bare.resolve(f"refs/tags/{tag}", "object") is None and not draft:
        sha = bare.resolve(target)
        if sha is None:
            raise validation_failed("Release", "invalid", field="target_commitish")
        # GitHub tags the target itself (a lightweight tag), which starts tag workflows.
        with forge.watching(record.name, req.token):
            bare.update_ref(f"refs/tags/{tag}", sha, None)
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
    for release in _releases(forge, req):
        if str(release.id) == req.params["release_id"]:
            return Reply(200, release_json(forge, release))
    raise not_found()


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
]
