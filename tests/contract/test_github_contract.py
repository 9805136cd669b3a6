"""Each GitHub operation the project uses, driven through PyGithub and checked against the spec.

A test is named after the operation (and status) it pins down; it asserts that PyGithub
got what it needed and, through `world.expect`, that every response of that operation the
stand-in sent matches GitHub's OpenAPI description, status and body.
"""

from __future__ import annotations

import pytest
from github import GithubException, UnknownObjectException

from tests.contract.conftest import ContractWorld, branch_with_commit, open_pull
from tests.contract.openapi import DOTCOM
from tests.integration.sandbox.test_github_fixtures import OWNER, REPO, wait_for

FULL_NAME = f"{OWNER}/{REPO}"


# Repositories and branches.


def test_repos_get(world: ContractWorld) -> None:
    repo = world.gh.get_repo(FULL_NAME)
    assert (repo.full_name, repo.default_branch) == (FULL_NAME, "main")
    world.expect("repos/get", 200)


def test_repos_get_404(world: ContractWorld) -> None:
    with pytest.raises(UnknownObjectException):
        world.gh.get_repo(f"{OWNER}/no-such-repo")
    world.expect("repos/get", 404)


def test_repos_get_branch(world: ContractWorld) -> None:
    branch = world.repo.get_branch("main")
    assert branch.name == "main" and len(branch.commit.sha) == 40
    world.expect("repos/get-branch", 200)


def test_repos_get_branch_404(world: ContractWorld) -> None:
    with pytest.raises(GithubException) as raised:
        world.repo.get_branch("no-such-branch")
    assert raised.value.status == 404
    world.expect("repos/get-branch", 404)


# Pull requests.


def test_pulls_create(world: ContractWorld) -> None:
    pr = open_pull(world)
    assert (pr.number, pr.state, pr.base.ref, pr.head.ref) == (1, "open", "main", "release/demo")
    world.expect("pulls/create", 201)


def test_pulls_create_422_pull_request_exists(world: ContractWorld) -> None:
    open_pull(world)
    with pytest.raises(GithubException) as raised:
        world.repo.create_pull(title="again", body="", head="release/demo", base="main")
    assert raised.value.status == 422
    assert "already exists" in raised.value.data["errors"][0]["message"]
    world.expect("pulls/create", 422)


def test_pulls_list(world: ContractWorld) -> None:
    pr = open_pull(world)
    found = world.repo.get_pulls(state="open", head=f"{OWNER}:release/demo", base="main")
    assert [p.number for p in found] == [pr.number]
    world.expect("pulls/list", 200)


def test_pulls_get(world: ContractWorld) -> None:
    number = open_pull(world).number
    pr = world.repo.get_pull(number)
    assert (pr.number, pr.mergeable, pr.merged) == (number, True, False)
    world.expect("pulls/get", 200)


def test_pulls_get_404(world: ContractWorld) -> None:
    with pytest.raises(UnknownObjectException):
        world.repo.get_pull(99)
    world.expect("pulls/get", 404)


def test_pulls_update(world: ContractWorld) -> None:
    pr = open_pull(world)
    pr.edit(title="release demo 1.1.0", body="plan v2")
    assert (pr.title, pr.body) == ("release demo 1.1.0", "plan v2")
    world.expect("pulls/update", 200)


def test_pulls_merge(world: ContractWorld) -> None:
    pr = open_pull(world)
    status = pr.merge(merge_method="squash", sha=pr.head.sha)
    assert status.merged and len(status.sha) == 40
    assert world.repo.get_branch("main").commit.sha == status.sha
    world.expect("pulls/merge", 200)


def test_pulls_merge_409_head_moved(world: ContractWorld) -> None:
    pr = open_pull(world)
    with pytest.raises(GithubException) as raised:
        pr.merge(merge_method="squash", sha="0" * 40)
    assert raised.value.status == 409
    world.expect("pulls/merge", 409)


def test_pulls_merge_405_not_mergeable(world: ContractWorld) -> None:
    world.admin.set_ci(REPO, duration=60, required=["test"])
    pr = open_pull(world)
    with pytest.raises(GithubException) as raised:
        pr.merge(merge_method="squash", sha=pr.head.sha)
    assert raised.value.status == 405
    world.expect("pulls/merge", 405)


def test_pulls_check_if_merged(world: ContractWorld) -> None:
    pr = open_pull(world)
    pr.merge(merge_method="squash", sha=pr.head.sha)
    assert pr.is_merged() is True
    world.expect("pulls/check-if-merged", 204)


def test_pulls_get_after_merge(world: ContractWorld) -> None:
    pr = open_pull(world)
    sha = pr.merge(merge_method="squash", sha=pr.head.sha).sha
    merged = world.repo.get_pull(pr.number)
    assert (merged.state, merged.merged, merged.merge_commit_sha) == ("closed", True, sha)
    assert merged.merged_by is not None
    world.expect("pulls/get", 200)


def test_pulls_check_if_merged_404(world: ContractWorld) -> None:
    assert open_pull(world).is_merged() is False
    world.expect("pulls/check-if-merged", 404)


# CI: statuses and check runs.


def test_repos_get_combined_status_for_ref(world: ContractWorld) -> None:
    combined = world.repo.get_commit("main").get_combined_status()
    # A repo that only uses Actions reports "pending" with nothing behind it.
    assert (combined.state, combined.total_count) == ("pending", 0)
    world.expect("repos/get-combined-status-for-ref", 200)
    world.expect("repos/get-commit", 200)


def test_repos_create_commit_status(world: ContractWorld) -> None:
    commit = world.repo.get_commit(world.repo.get_branch("main").commit.sha)
    status = commit.create_status("success", context="ci/lint", description="green")
    assert (status.state, status.context) == ("success", "ci/lint")
    assert commit.get_combined_status().state == "success"
    world.expect("repos/create-commit-status", 201)
    world.expect("repos/get-combined-status-for-ref", 200)


def test_checks_list_for_ref(world: ContractWorld) -> None:
    pr = open_pull(world)
    commit = world.repo.get_commit(pr.head.sha)
    wait_for(lambda: {c.status for c in commit.get_check_runs()} == {"completed"})
    runs = list(commit.get_check_runs())
    assert runs and {r.conclusion for r in runs} == {"success"}
    world.expect("checks/list-for-ref", 200)


# The Git database: refs, tags, commits.


def test_git_get_ref(world: ContractWorld) -> None:
    ref = world.repo.get_git_ref("heads/main")
    assert ref.ref == "refs/heads/main" and ref.object.type == "commit"
    world.expect("git/get-ref", 200)


def test_git_get_ref_404(world: ContractWorld) -> None:
    with pytest.raises(UnknownObjectException):
        world.repo.get_git_ref("heads/no-such-branch")
    world.expect("git/get-ref", 404)


def test_git_create_ref(world: ContractWorld) -> None:
    sha = world.repo.get_branch("main").commit.sha
    ref = world.repo.create_git_ref("refs/heads/release/demo", sha)
    assert (ref.ref, ref.object.sha) == ("refs/heads/release/demo", sha)
    world.expect("git/create-ref", 201)


def test_git_create_ref_422_ref_exists(world: ContractWorld) -> None:
    sha = world.repo.get_branch("main").commit.sha
    with pytest.raises(GithubException) as raised:
        world.repo.create_git_ref("refs/heads/main", sha)
    assert raised.value.status == 422
    assert raised.value.data["message"] == "Reference already exists"
    world.expect("git/create-ref", 422)


def test_git_update_ref(world: ContractWorld) -> None:
    head = branch_with_commit(world, "feature", "a.txt", "a\n")
    ref = world.repo.get_git_ref("heads/main")
    ref.edit(head, force=False)
    assert ref.object.sha == head
    world.expect("git/update-ref", 200)


def test_git_delete_ref(world: ContractWorld) -> None:
    branch_with_commit(world, "feature", "a.txt", "a\n")
    world.repo.get_git_ref("heads/feature").delete()
    assert [r.ref for r in world.repo.get_git_matching_refs("heads/feature")] == []
    world.expect("git/delete-ref", 204)


def test_git_list_matching_refs(world: ContractWorld) -> None:
    refs = world.repo.get_git_matching_refs("tags/")
    assert [r.ref for r in refs] == ["refs/tags/demo/v1.0.0"]
    world.expect("git/list-matching-refs", 200)


def test_git_create_tag_and_get_tag(world: ContractWorld) -> None:
    sha = world.repo.get_branch("main").commit.sha
    tag = world.repo.create_git_tag("demo/v1.1.0", "demo 1.1.0", sha, "commit")
    world.repo.create_git_ref("refs/tags/demo/v1.1.0", tag.sha)
    again = world.repo.get_git_tag(tag.sha)
    assert (again.tag, again.object.sha, again.object.type) == ("demo/v1.1.0", sha, "commit")
    ref = world.repo.get_git_ref("tags/demo/v1.1.0")
    assert (ref.object.type, ref.object.sha) == ("tag", tag.sha)
    world.expect("git/create-tag", 201)
    world.expect("git/get-tag", 200)
    world.expect("git/get-ref", 200)


def test_git_get_commit(world: ContractWorld) -> None:
    sha = world.repo.get_branch("main").commit.sha
    commit = world.repo.get_git_commit(sha)
    assert commit.sha == sha and commit.message.startswith("docs: readme")
    world.expect("git/get-commit", 200)


# Releases.


def test_repos_create_release(world: ContractWorld) -> None:
    release = world.repo.create_git_release("demo/v1.1.0", "demo 1.1.0", "notes")
    assert (release.tag_name, release.draft) == ("demo/v1.1.0", False)
    world.expect("repos/create-release", 201)


def test_repos_create_release_422_exists(world: ContractWorld) -> None:
    world.repo.create_git_release("demo/v1.1.0", "demo 1.1.0", "notes")
    with pytest.raises(GithubException) as raised:
        world.repo.create_git_release("demo/v1.1.0", "demo 1.1.0", "notes")
    assert raised.value.status == 422
    world.expect("repos/create-release", 422)


def test_repos_get_release_by_tag(world: ContractWorld) -> None:
    made = world.repo.create_git_release("demo/v1.1.0", "demo 1.1.0", "notes")
    assert world.repo.get_release("demo/v1.1.0").id == made.id
    world.expect("repos/get-release-by-tag", 200)


def test_repos_get_release_by_tag_404(world: ContractWorld) -> None:
    with pytest.raises(UnknownObjectException):
        world.repo.get_release("demo/v9.9.9")
    world.expect("repos/get-release-by-tag", 404)


def test_repos_list_releases(world: ContractWorld) -> None:
    world.repo.create_git_release("demo/v1.1.0", "demo 1.1.0", "notes")
    assert [r.tag_name for r in world.repo.get_releases()] == ["demo/v1.1.0"]
    world.expect("repos/list-releases", 200)


def test_repos_create_release_draft_is_listed_but_not_found_by_tag(world: ContractWorld) -> None:
    draft = world.repo.create_git_release("demo/v1.1.0", "demo 1.1.0", "notes", draft=True)
    assert draft.draft and "/releases/tag/untagged-" in draft.html_url
    # GitHub's by-tag lookup answers only published releases; the list shows drafts.
    with pytest.raises(UnknownObjectException):
        world.repo.get_release("demo/v1.1.0")
    assert [(r.id, r.draft) for r in world.repo.get_releases()] == [(draft.id, True)]
    world.expect("repos/create-release", 201)
    world.expect("repos/get-release-by-tag", 404)
    world.expect("repos/list-releases", 200)


def test_repos_update_release_publishes_a_draft(world: ContractWorld) -> None:
    draft = world.repo.create_git_release("demo/v1.1.0", "demo 1.1.0", "notes", draft=True)
    published = draft.update_release("demo 1.1.0", "notes", draft=False)
    assert (published.id, published.draft) == (draft.id, False)
    assert published.html_url.endswith("/releases/tag/demo/v1.1.0")
    assert world.repo.get_release("demo/v1.1.0").id == draft.id
    world.expect("repos/update-release", 200)


# Contents.


def test_repos_get_content(world: ContractWorld) -> None:
    content = world.repo.get_contents("README.md", ref="main")
    assert not isinstance(content, list)
    assert content.decoded_content == b"# demo\n"
    world.expect("repos/get-content", 200)


def test_repos_get_content_404(world: ContractWorld) -> None:
    with pytest.raises(UnknownObjectException):
        world.repo.get_contents("no/such/file.txt", ref="main")
    world.expect("repos/get-content", 404)


def test_repos_create_or_update_file_contents(world: ContractWorld) -> None:
    created = world.repo.create_file("CHANGELOG.md", "docs: changelog", "## 1.0.0\n")
    blob = created["content"]
    updated = world.repo.update_file("CHANGELOG.md", "docs: 1.1.0", "## 1.1.0\n", blob.sha)
    assert updated["commit"].sha == world.repo.get_branch("main").commit.sha
    world.expect("repos/create-or-update-file-contents", 201)
    world.expect("repos/create-or-update-file-contents", 200)


def test_repos_create_or_update_file_contents_409_stale_sha(world: ContractWorld) -> None:
    current = world.repo.get_contents("README.md")
    assert not isinstance(current, list)
    world.repo.update_file("README.md", "docs: first", "# one\n", current.sha)
    with pytest.raises(GithubException) as raised:
        world.repo.update_file("README.md", "docs: second", "# two\n", current.sha)
    assert raised.value.status == 409
    world.expect("repos/create-or-update-file-contents", 409)


# Actions: the release workflow, its runs and the environment reviews.


def dispatch_release(world: ContractWorld) -> int:
    workflow = world.repo.get_workflow("release.yml")
    assert workflow.create_dispatch("main", {"tag": "demo/v1.0.0"}, throw=True) is True
    wait_for(lambda: world.repo.get_workflow_runs().totalCount == 1)
    return int(world.repo.get_workflow_runs()[0].id)


def test_actions_create_workflow_dispatch(world: ContractWorld) -> None:
    dispatch_release(world)
    wait_for(lambda: len(world.publisher.calls) == 1)
    assert world.publisher.calls[0]["tag"] == "demo/v1.0.0"
    world.expect("actions/create-workflow-dispatch", 204)
    world.expect("actions/get-workflow", 200)


def test_actions_create_workflow_dispatch_with_run_details(world: ContractWorld) -> None:
    workflow = world.repo.get_workflow("release.yml")
    run = workflow.create_dispatch(
        "main", {"tag": "demo/v1.0.0"}, throw=True, return_run_details=True
    )
    assert run.id == world.repo.get_workflow_runs()[0].id
    # Run details are newer than GHES 3.19, whose description knows only the 204.
    world.expect("actions/create-workflow-dispatch", 200, only=(DOTCOM,))


def test_actions_list_workflow_runs_for_repo(world: ContractWorld) -> None:
    run_id = dispatch_release(world)
    runs = world.repo.get_workflow_runs(event="workflow_dispatch")
    assert [r.id for r in runs] == [run_id]
    world.expect("actions/list-workflow-runs-for-repo", 200)


def test_actions_get_workflow_run(world: ContractWorld) -> None:
    run_id = dispatch_release(world)
    wait_for(lambda: world.repo.get_workflow_run(run_id).status == "completed")
    run = world.repo.get_workflow_run(run_id)
    assert (run.event, run.conclusion) == ("workflow_dispatch", "success")
    world.expect("actions/get-workflow-run", 200)


def test_actions_get_workflow_run_404(world: ContractWorld) -> None:
    with pytest.raises(UnknownObjectException):
        world.repo.get_workflow_run(424242)
    verdicts = world.expect("actions/get-workflow-run", 404)
    assert {v.response for v in verdicts} == {"api-wide:not_found"}


def test_actions_get_reviews_for_run(world: ContractWorld) -> None:
    run_id = dispatch_release(world)
    world.admin.add_approval(REPO, run_id, user="alice", comment="ship it")
    # PyGithub has no method for this endpoint; the engine calls it the same way.
    _, data = world.gh.requester.requestJsonAndCheck(
        "GET", f"{world.repo.url}/actions/runs/{run_id}/approvals"
    )
    assert [(r["state"], r["user"]["login"]) for r in data] == [("approved", "alice")]
    world.expect("actions/get-reviews-for-run", 200)
