"""Repository endpoints of the GitHub stand-in via PyGithub: repo, contents, releases, auth."""

from __future__ import annotations

import pytest
from github import BadCredentialsException, GithubException, UnknownObjectException

from release_train.adapters.git import git
from tests.integration.sandbox.test_github_fixtures import OWNER, World, gh_world, make_github

__all__ = ["gh_world"]


def test_repository_branch_and_commit(gh_world: World) -> None:
    repo = gh_world.repo
    bare = gh_world.stand_in.forge.bare_path("demo")
    main = git(bare, "rev-parse", "refs/heads/main").strip()

    assert (repo.full_name, repo.default_branch, repo.owner.login) == (
        f"{OWNER}/demo",
        "main",
        OWNER,
    )
    assert repo.clone_url == gh_world.stand_in.clone_url("demo")
    assert repo.get_branch("main").commit.sha == main
    assert repo.get_commit("main").sha == main
    assert repo.get_commit(main).commit.message.startswith("docs: readme")
    with pytest.raises(UnknownObjectException):
        make_github(gh_world.stand_in).get_repo(f"{OWNER}/missing")


def test_contents_read_and_write_with_the_sha_guard(gh_world: World) -> None:
    repo = gh_world.repo
    readme = repo.get_contents("README.md", ref="main")
    assert not isinstance(readme, list)
    assert readme.decoded_content == b"# demo\n"

    written = repo.update_file(
        "README.md", "docs: more", "# demo\n\nmore\n", readme.sha, branch="main"
    )

    bare = gh_world.stand_in.forge.bare_path("demo")
    assert git(bare, "show", "main:README.md") == "# demo\n\nmore\n"
    assert git(bare, "rev-parse", "refs/heads/main").strip() == written["commit"].sha
    assert git(bare, "log", "-1", "--format=%s", "main").strip() == "docs: more"
    with pytest.raises(GithubException) as stale:
        repo.update_file("README.md", "docs: stale", "# stale\n", readme.sha, branch="main")
    assert stale.value.status == 409
    assert git(bare, "show", "main:README.md") == "# demo\n\nmore\n"

    created = repo.create_file("docs/new.md", "docs: new", "new\n", branch="main")
    assert getattr(created["content"], "path", None) == "docs/new.md"
    with pytest.raises(GithubException) as missing_sha:
        repo.create_file("docs/new.md", "docs: again", "again\n", branch="main")
    assert missing_sha.value.status == 422
    listing = repo.get_contents("docs", ref="main")
    assert isinstance(listing, list) and [c.path for c in listing] == ["docs/new.md"]
    with pytest.raises(UnknownObjectException):
        repo.get_contents("nope.txt", ref="main")


def test_releases_create_get_by_tag_and_list(gh_world: World) -> None:
    repo = gh_world.repo
    with pytest.raises(UnknownObjectException):
        repo.get_release("demo/v1.0.0")

    release = repo.create_git_release("demo/v1.0.0", "demo 1.0.0", "notes")

    assert repo.get_release("demo/v1.0.0").id == release.id
    assert [r.tag_name for r in repo.get_releases()] == ["demo/v1.0.0"]
    with pytest.raises(GithubException) as again:
        repo.create_git_release("demo/v1.0.0", "demo 1.0.0", "notes")
    assert again.value.status == 422
    assert again.value.data["errors"][0]["code"] == "already_exists"


def test_a_release_for_a_new_tag_creates_the_tag(gh_world: World) -> None:
    main = gh_world.repo.get_branch("main").commit.sha

    gh_world.repo.create_git_release("demo/v1.1.0", "demo 1.1.0", "notes", target_commitish="main")

    assert gh_world.repo.get_git_ref("tags/demo/v1.1.0").object.sha == main


def test_rate_limit_and_its_headers(gh_world: World) -> None:
    gh = gh_world.github(gh_world.stand_in.make_token())  # a fresh token: a fresh budget
    gh.get_repo(f"{OWNER}/demo")
    headers, _ = gh.requester.requestJsonAndCheck("GET", f"/repos/{OWNER}/demo")

    assert headers["x-ratelimit-resource"] == "core"
    assert int(headers["x-ratelimit-used"]) == 2
    assert int(headers["x-ratelimit-remaining"]) == int(headers["x-ratelimit-limit"]) - 2
    core = gh.get_rate_limit().resources.core
    assert (core.limit, core.used, core.remaining) == (5000, 2, 4998)


def test_primary_rate_limit_exhaustion_answers_403(gh_world: World) -> None:
    gh_world.admin.set_rate_limit(1)
    gh = gh_world.github(gh_world.stand_in.make_token())
    gh.get_repo(f"{OWNER}/demo")

    with pytest.raises(GithubException) as raised:
        gh.get_repo(f"{OWNER}/demo")

    assert raised.value.status == 403
    assert "rate limit exceeded" in raised.value.data["message"]
    assert raised.value.headers is not None and raised.value.headers["x-ratelimit-remaining"] == "0"


def test_bad_and_missing_credentials_get_401(gh_world: World) -> None:
    with pytest.raises(BadCredentialsException) as raised:
        make_github(gh_world.stand_in, "ghs_not_a_token").get_repo(f"{OWNER}/demo")
    assert raised.value.status == 401
    assert raised.value.data["message"] == "Bad credentials"


def test_a_read_only_token_cannot_write(gh_world: World) -> None:
    read_only = make_github(gh_world.stand_in, gh_world.stand_in.make_token(read_only=True))
    repo = read_only.get_repo(f"{OWNER}/demo")
    main = repo.get_branch("main").commit.sha

    with pytest.raises(GithubException) as raised:
        repo.create_git_ref("refs/heads/nope", main)

    assert raised.value.status == 403
    assert raised.value.data["message"] == "Resource not accessible by integration"
