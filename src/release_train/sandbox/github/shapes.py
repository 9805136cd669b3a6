"""JSON shapes shared by many endpoints (users, repositories, commits), drawn as GitHub does."""

from __future__ import annotations

import base64
import time
import zlib
from dataclasses import dataclass
from typing import Any

from release_train.sandbox.github.bare import CommitInfo, Person
from release_train.sandbox.github.model import RepoRecord

JSON = dict[str, Any]


def iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def iso_now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def node_id(kind: str, number: int | str) -> str:
    return base64.b64encode(f"0:{kind}{number}".encode()).decode().rstrip("=")


def user_id(login: str) -> int:
    """A stable id per login, so the same user looks the same in every response."""
    return zlib.crc32(login.encode()) % 10_000_000 + 1


@dataclass(frozen=True)
class Urls:
    """Where things live: `api` includes `/api/v3` so PyGithub can follow the URLs we return."""

    api: str
    web: str
    owner: str

    def repo(self, name: str) -> str:
        return f"{self.api}/repos/{self.owner}/{name}"

    def html(self, name: str) -> str:
        return f"{self.web}/{self.owner}/{name}"


def user(urls: Urls, login: str, kind: str = "User") -> JSON:
    api = f"{urls.api}/users/{login}"
    return {
        "login": login,
        "id": user_id(login),
        "node_id": node_id("U", user_id(login)),
        "avatar_url": f"{urls.web}/avatars/{login}",
        "gravatar_id": "",
        "url": api,
        "html_url": f"{urls.web}/{login}",
        "followers_url": f"{api}/followers",
        "following_url": f"{api}/following{{/other_user}}",
        "gists_url": f"{api}/gists{{/gist_id}}",
        "starred_url": f"{api}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{api}/subscriptions",
        "organizations_url": f"{api}/orgs",
        "repos_url": f"{api}/repos",
        "events_url": f"{api}/events{{/privacy}}",
        "received_events_url": f"{api}/received_events",
        "type": kind,
        "user_view_type": "public",
        "site_admin": False,
    }


_TEMPLATED = {
    "archive_url": "/{archive_format}{/ref}",
    "assignees_url": "/assignees{/user}",
    "blobs_url": "/git/blobs{/sha}",
    "branches_url": "/branches{/branch}",
    "collaborators_url": "/collaborators{/collaborator}",
    "comments_url": "/comments{/number}",
    "commits_url": "/commits{/sha}",
    "compare_url": "/compare/{base}...{head}",
    "contents_url": "/contents/{+path}",
    "contributors_url": "/contributors",
    "deployments_url": "/deployments",
    "downloads_url": "/downloads",
    "events_url": "/events",
    "forks_url": "/forks",
    "git_commits_url": "/git/commits{/sha}",
    "git_refs_url": "/git/refs{/sha}",
    "git_tags_url": "/git/tags{/sha}",
    "hooks_url": "/hooks",
    "issue_comment_url": "/issues/comments{/number}",
    "issue_events_url": "/issues/events{/number}",
    "issues_url": "/issues{/number}",
    "keys_url": "/keys{/key_id}",
    "labels_url": "/labels{/name}",
    "languages_url": "/languages",
    "merges_url": "/merges",
    "milestones_url": "/milestones{/number}",
    "notifications_url": "/notifications{?since,all,participating}",
    "pulls_url": "/pulls{/number}",
    "releases_url": "/releases{/id}",
    "stargazers_url": "/stargazers",
    "statuses_url": "/statuses/{sha}",
    "subscribers_url": "/subscribers",
    "subscription_url": "/subscription",
    "tags_url": "/tags",
    "teams_url": "/teams",
    "trees_url": "/git/trees{/sha}",
}


def minimal_repo(urls: Urls, record: RepoRecord) -> JSON:
    api = urls.repo(record.name)
    shape: JSON = {
        "id": record.id,
        "node_id": node_id("R", record.id),
        "name": record.name,
        "full_name": f"{urls.owner}/{record.name}",
        "private": False,
        "owner": user(urls, urls.owner, "Organization"),
        "html_url": urls.html(record.name),
        "description": None,
        "fork": False,
        "url": api,
    }
    shape.update({key: api + suffix for key, suffix in _TEMPLATED.items()})
    return shape


def full_repo(urls: Urls, record: RepoRecord, default_branch: str, pushed_at: float) -> JSON:
    """The `full-repository` shape (also a superset of `repository` used in PR heads)."""
    created = iso(record.created_at)
    shape = minimal_repo(urls, record)
    host = urls.web.split("://", 1)[1]
    shape.update(
        {
            "clone_url": f"{urls.html(record.name)}.git",
            "git_url": f"git://{host}/{urls.owner}/{record.name}.git",
            "ssh_url": f"git@{host}:{urls.owner}/{record.name}.git",
            "svn_url": urls.html(record.name),
            "mirror_url": None,
            "homepage": None,
            "language": "Python",
            "forks": 0,
            "forks_count": 0,
            "stargazers_count": 0,
            "watchers_count": 0,
            "watchers": 0,
            "size": 0,
            "default_branch": default_branch,
            "open_issues": 0,
            "open_issues_count": 0,
            "is_template": False,
            "topics": [],
            "has_issues": True,
            "has_projects": False,
            "has_wiki": False,
            "has_pages": False,
            "has_downloads": True,
            "has_discussions": False,
            "archived": False,
            "disabled": False,
            "visibility": "public",
            "pushed_at": iso(pushed_at),
            "created_at": created,
            "updated_at": created,
            "permissions": {
                "admin": False,
                "maintain": False,
                "push": True,
                "triage": True,
                "pull": True,
            },
            "allow_squash_merge": True,
            "allow_merge_commit": True,
            "allow_rebase_merge": False,
            "delete_branch_on_merge": False,
            "license": None,
            "network_count": 0,
            "subscribers_count": 0,
        }
    )
    return shape


def git_person(person: Person) -> JSON:
    return {"name": person.name, "email": person.email, "date": iso(person.epoch)}


def git_commit(urls: Urls, repo: str, info: CommitInfo) -> JSON:
    """The Git database `git-commit` shape."""
    api = urls.repo(repo)
    return {
        "sha": info.sha,
        "node_id": node_id("C", info.sha),
        "url": f"{api}/git/commits/{info.sha}",
        "html_url": f"{urls.html(repo)}/commit/{info.sha}",
        "author": git_person(info.author),
        "committer": git_person(info.committer),
        "tree": {"sha": info.tree, "url": f"{api}/git/trees/{info.tree}"},
        "message": info.message,
        "parents": [
            {"sha": p, "url": f"{api}/git/commits/{p}", "html_url": f"{urls.html(repo)}/commit/{p}"}
            for p in info.parents
        ],
        "verification": _unsigned(),
    }


def _unsigned() -> JSON:
    return {
        "verified": False,
        "reason": "unsigned",
        "signature": None,
        "payload": None,
        "verified_at": None,
    }


def rest_commit(urls: Urls, repo: str, info: CommitInfo) -> JSON:
    """The REST `commit` shape (`GET /repos/{o}/{r}/commits/{ref}`); no GitHub users behind it."""
    api = urls.repo(repo)
    html = f"{urls.html(repo)}/commit/{info.sha}"
    return {
        "sha": info.sha,
        "node_id": node_id("C", info.sha),
        "url": f"{api}/commits/{info.sha}",
        "html_url": html,
        "comments_url": f"{api}/commits/{info.sha}/comments",
        "commit": {
            "url": f"{api}/git/commits/{info.sha}",
            "author": git_person(info.author),
            "committer": git_person(info.committer),
            "message": info.message,
            "comment_count": 0,
            "tree": {"sha": info.tree, "url": f"{api}/git/trees/{info.tree}"},
            "verification": _unsigned(),
        },
        "author": None,
        "committer": None,
        "parents": [
            {"sha": p, "url": f"{api}/commits/{p}", "html_url": f"{urls.html(repo)}/commit/{p}"}
            for p in info.parents
        ],
    }
